//! The scene report's ward actions, callable from any door (see
//! [`crate::action`]): filing a report, moving it through its lifecycle
//! (accept, in progress, done, decline with a reason), sharing its photos
//! with the group's feed, and the reporter's rating, whose «không hài lòng»
//! reopens the case once.
//!
//! - `file`: [`file`];
//! - `moves`: [`move_report`], [`share_photos`] and who may handle a case
//!   ([`may_handle`]);
//! - `rating`: [`rate`], [`reopen`].
//!
//! The case card and its choices are the same whoever is told of a case,
//! so they are built here once.

mod file;
mod moves;
mod rating;

pub use file::{file, Filed, Filing, MAX_PHOTOS};
pub use moves::{may_handle, move_report, share_photos, Moved, Shared};
pub use rating::{rate, reopen, Rated};

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use super::{Place, Report, ReportCode, Status};
use crate::action::{Choice, Notification};
use crate::app::App;
use crate::{group, roles};

/// A report's action ids (the data its buttons carry back):
/// `rp:st:<id>:<status word>`, `rp:rt:<id>:<y|n>`, `rp:sh:<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportButton {
    Move { code: ReportCode, to: Status },
    Rate { code: ReportCode, satisfied: bool },
    SharePhotos { code: ReportCode },
}

impl ReportButton {
    pub fn parse(data: &str) -> Option<Self> {
        let mut parts = data.strip_prefix("rp:")?.split(':');
        let op = parts.next()?;
        let code = ReportCode::parse(parts.next()?)?;
        let arg = parts.next();
        if parts.next().is_some() {
            return None;
        }
        match (op, arg) {
            ("st", Some(word)) => Some(Self::Move { code, to: Status::from_word(word)? }),
            ("rt", Some("y")) => Some(Self::Rate { code, satisfied: true }),
            ("rt", Some("n")) => Some(Self::Rate { code, satisfied: false }),
            ("sh", None) => Some(Self::SharePhotos { code }),
            _ => None,
        }
    }

    pub fn data(self) -> String {
        match self {
            Self::Move { code, to } => format!("rp:st:{}:{}", code.id(), to.word()),
            Self::Rate { code, satisfied } => format!("rp:rt:{}:{}", code.id(), if satisfied { "y" } else { "n" }),
            Self::SharePhotos { code } => format!("rp:sh:{}", code.id()),
        }
    }
}

fn move_label(to: Status) -> &'static str {
    match to {
        Status::New => "Mới",
        Status::Accepted => "📥 Tiếp nhận",
        Status::InProgress => "🔧 Đang xử lý",
        Status::Resolved => "✅ Đã xử lý",
        Status::Declined => "🚫 Không xử lý",
    }
}

/// What staff may do next with a case: the moves allowed from its status,
/// two to a row, and sharing its photos with the feed while that means
/// something.
pub fn case_choices(report: &Report) -> Vec<Vec<Choice>> {
    let moves: Vec<Choice> = report
        .status
        .next()
        .iter()
        .map(|to| Choice::new(move_label(*to), ReportButton::Move { code: report.code, to: *to }.data()))
        .collect();
    let mut rows: Vec<Vec<Choice>> = moves.chunks(2).map(|c| c.to_vec()).collect();
    if !report.photos.is_empty() && !report.share_photos && !report.status.is_closed() {
        rows.push(vec![Choice::new(
            "📷 Đăng ảnh lên bảng tin nhóm",
            ReportButton::SharePhotos { code: report.code }.data(),
        )]);
    }
    rows
}

/// The case as staff read it, under `headline`, its age counted to `now`.
pub async fn case_card(
    app: &App,
    conn: &mut SqliteConnection,
    report: &Report,
    headline: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let group = group::by_id(&mut *conn, report.group_id).await?.map(|g| g.name).unwrap_or_default();
    let reporter = roles::user_addr(conn, report.reporter_user_id).await?.map(|(_, name)| name).unwrap_or_default();
    Ok(format!(
        "{headline} {} — {group}\nLoại: {}\nNội dung: {}\nVị trí: {}\nẢnh: {}\nNgười gửi: {reporter}\nGửi lúc: {} ({} trước)\nTrạng thái: {}",
        report.code,
        app.settings.reports.category_label(&report.category),
        report.description,
        report.place_text(),
        if report.photos.is_empty() { "không có".to_string() } else { format!("{} ảnh (gửi kèm)", report.photos.len()) },
        app.settings.show_time(report.created_at),
        app.settings.age(report.created_at, now),
        report.status.label(),
    )
    .replace("(vừa xong trước)", "(vừa xong)"))
}

/// Who handles a group's cases: its leaders, then every official, each
/// once.
async fn staff(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<Vec<i64>> {
    let mut to: Vec<i64> = roles::leaders_of(&mut *conn, group_id).await?.into_iter().map(|(id, _)| id).collect();
    for (official, _) in roles::officials(conn).await? {
        if !to.contains(&official) {
            to.push(official);
        }
    }
    Ok(to)
}

/// Each of the group's staff is told of the case: with its photos and pin
/// first when `whole`, then the card with what they may do next.
async fn tell_staff(
    conn: &mut SqliteConnection,
    report: &Report,
    card: &str,
    whole: bool,
) -> anyhow::Result<Vec<Notification>> {
    let mut told = Vec::new();
    let n = report.photos.len();
    for user in staff(conn, report.group_id).await? {
        if whole {
            for (i, file_id) in report.photos.iter().enumerate() {
                told.push(
                    Notification::person(user, format!("{} · ảnh {}/{n}", report.code, i + 1)).with_photo(file_id),
                );
            }
            if let Place::Pin { latitude, longitude } = report.place {
                told.push(Notification::person(user, "").with_pin(latitude, longitude));
            }
        }
        told.push(Notification::person(user, card).with_choices(case_choices(report)));
    }
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Ward;

    /// A street light out in the ward's first group, no photos nor place.
    pub(super) fn filing(ward: &Ward) -> Filing {
        Filing {
            group: ward.group,
            category: "chieu_sang".into(),
            description: "Đèn đường trước số 12 hỏng".into(),
            place: Place::None,
            photos: Vec::new(),
        }
    }

    /// That report, filed by `user` without the action (nobody told, no
    /// audit row).
    pub(super) async fn filed(ward: &Ward, user: i64) -> ReportCode {
        let filing = filing(ward);
        let new = super::super::repo::NewReport {
            group_id: filing.group,
            reporter: user,
            category: &filing.category,
            description: &filing.description,
            place: &filing.place,
            photos: &filing.photos,
        };
        let mut tx = ward.tx().await;
        let code = super::super::repo::insert(&mut tx, new, ward.now()).await.unwrap();
        tx.commit().await.unwrap();
        code
    }

    pub(super) async fn feed_on(ward: &Ward, group: i64) {
        let mut tx = ward.tx().await;
        sqlx::query("UPDATE groups SET public_feed = 1 WHERE id = ?").bind(group).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub(super) async fn status_of(ward: &Ward, code: ReportCode) -> Status {
        let mut tx = ward.tx().await;
        super::super::repo::get(&mut tx, code).await.unwrap().unwrap().status
    }

    /// An official marks the case done.
    pub(super) async fn resolve(ward: &Ward, code: ReportCode) {
        let mut tx = ward.tx().await;
        let _setup =
            move_report(&ward.app, &mut tx, &ward.actor(ward.official), code, Status::Resolved, None).await.unwrap();
        tx.commit().await.unwrap();
    }

    #[test]
    fn button_data_round_trips_and_rejects_junk() {
        let code = ReportCode::new(42);
        for b in [
            ReportButton::Move { code, to: Status::Resolved },
            ReportButton::Rate { code, satisfied: false },
            ReportButton::SharePhotos { code },
        ] {
            assert!(b.data().len() <= 64);
            assert_eq!(ReportButton::parse(&b.data()), Some(b));
        }
        for junk in ["rp:st:42", "rp:st:42:xx", "rp:rt:42:maybe", "rp:st:abc:daxuly", "rp:sh:42:1", "rp:"] {
            assert_eq!(ReportButton::parse(junk), None, "{junk}");
        }
    }
}
