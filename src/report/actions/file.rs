//! Filing a report: a resident's case reaches the group's staff and, if
//! the group keeps one, its public feed.

use sqlx::SqliteConnection;

use super::super::repo::{self, NewReport};
use super::super::{feed, in_vietnam, Place, ReportCode};
use crate::action::{Acted, Actor, Done};
use crate::app::App;
use crate::group;
use crate::refusal::Refusal;

/// The most photos a report keeps: a leader reads them on a phone.
pub const MAX_PHOTOS: usize = 3;
const MAX_DESCRIPTION: usize = 1000;

/// What a resident reports, and where.
#[derive(Debug, Clone)]
pub struct Filing {
    pub group: i64,
    /// A category code of the ward's settings.
    pub category: String,
    pub description: String,
    pub place: Place,
    /// File ids, at most [`MAX_PHOTOS`].
    pub photos: Vec<String>,
}

impl Filing {
    /// What cannot be filed as it is: the dialogue's step to ask again,
    /// and why. The action refuses the same filing with the same words.
    pub fn problem(&self, app: &App) -> Option<(&'static str, &'static str)> {
        if !app.settings.reports.categories.iter().any(|c| c.code == self.category) {
            return Some(("category", "Xin chọn lại loại việc."));
        }
        if self.description.trim().is_empty() {
            return Some(("description", "Xin nhập nội dung phản ánh."));
        }
        if self.description.chars().count() > MAX_DESCRIPTION {
            return Some(("description", "Nội dung dài quá 1000 ký tự. Xin viết ngắn lại."));
        }
        if self.photos.len() > MAX_PHOTOS {
            return Some(("photos", "Xin gửi tối đa 3 ảnh."));
        }
        if let Place::Pin { latitude, longitude } = self.place {
            if !in_vietnam(latitude, longitude) {
                return Some(("location", "Vị trí này không nằm ở Việt Nam. Xin gửi lại vị trí, hoặc gõ địa chỉ."));
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filed {
    pub code: ReportCode,
}

impl Filed {
    /// What the reporter reads.
    pub fn text(&self) -> String {
        format!(
            "✅ Đã nhận phản ánh {}. Tổ trưởng và cán bộ phường đã được báo; bot sẽ nhắn bác mỗi khi phản ánh được xử lý. Gõ /phananhcuatoi để xem lại. Cảm ơn bác!",
            self.code
        )
    }
}

/// **File a report** (the action): anyone may, in the actor's name. The
/// report, its photos and its first event are written and audited
/// (`report.file`, with the category); the group's leaders and every
/// official get its photos, its pin and the case with what they may do,
/// and the group's feed, if on, gets its line.
pub async fn file(app: &App, conn: &mut SqliteConnection, actor: &Actor, filing: Filing) -> Acted<Filed> {
    if let Some((_, problem)) = filing.problem(app) {
        return Err(Refusal::input(problem).into());
    }
    if group::by_id(&mut *conn, filing.group).await?.is_none() {
        return Err(Refusal::not_found("tổ dân phố", filing.group).into());
    }
    let new = NewReport {
        group_id: filing.group,
        reporter: actor.user,
        category: &filing.category,
        description: &filing.description,
        place: &filing.place,
        photos: &filing.photos,
    };
    let code = repo::insert(&mut *conn, new, actor.at).await?;
    crate::audit::record(&mut *conn, actor, "report.file", &format!("report:{}", code.id()), Some(&filing.category))
        .await?;
    let report = repo::get(&mut *conn, code).await?.ok_or_else(|| anyhow::anyhow!("report {code} vanished"))?;
    let card = super::case_card(app, &mut *conn, &report, "📣 Phản ánh mới", actor.at).await?;
    let mut told = super::tell_staff(&mut *conn, &report, &card, true).await?;
    told.extend(feed::told(app, &mut *conn, &report, actor.at).await?);
    Ok(Done::new(Filed { code }, told))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Door, Media, To};
    use crate::refusal::Stop;
    use crate::report::actions::tests::{feed_on, filing};
    use crate::testing::Ward;

    async fn try_file(ward: &Ward, actor: &Actor, filing: Filing) -> Acted<Filed> {
        let mut tx = ward.tx().await;
        let acted = file(&ward.app, &mut tx, actor, filing).await;
        tx.commit().await.unwrap();
        acted
    }

    #[tokio::test]
    async fn anyone_files_and_the_groups_staff_get_the_case_with_its_photos_and_pin() {
        for (role, user) in Ward::new().await.everyone() {
            let ward = Ward::new().await;
            let mut filing = filing(&ward);
            filing.photos = vec!["photo-a".into(), "photo-b".into()];
            filing.place = Place::Pin { latitude: 21.0478, longitude: 105.7938 };
            let done = try_file(&ward, &ward.actor_at(user, Door::Zalo), filing)
                .await
                .unwrap_or_else(|e| panic!("{role}: {e:?}"));
            let code = done.outcome.code;
            assert_eq!(code, ReportCode::new(1), "{role}");
            assert!(done.outcome.text().contains("Đã nhận phản ánh PA-000001"));
            // The leader of the group, then the official; nobody else.
            let people: Vec<i64> = done
                .told
                .iter()
                .filter_map(|n| match n.to {
                    To::Person(p) => Some(p),
                    _ => None,
                })
                .collect();
            let each = [ward.leader; 4].into_iter().chain([ward.official; 4]).collect::<Vec<_>>();
            assert_eq!(people, each, "{role}: two photos, a pin and the case each");
            let leaders = &done.told[..4];
            assert_eq!(leaders[0].media, Some(Media::Photo("photo-a".into())));
            assert_eq!(leaders[0].text, "PA-000001 · ảnh 1/2");
            assert_eq!(leaders[2].media, Some(Media::Pin { latitude: 21.0478, longitude: 105.7938 }));
            assert!(leaders[3].text.starts_with("📣 Phản ánh mới PA-000001 — Tổ 1"), "{}", leaders[3].text);
            assert!(leaders[3].text.contains("(vừa xong)"), "{}", leaders[3].text);
            let labels: Vec<_> = leaders[3].choices.concat();
            assert_eq!(labels.len(), 5, "four moves and sharing the photos: {labels:?}");
            let audit = ward.audit().await;
            assert_eq!(
                audit,
                [(Some(user), "report.file".into(), "report:1".into(), Some("chieu_sang".into()), Some("zalo".into()))],
                "{role}"
            );
        }
    }

    #[tokio::test]
    async fn the_groups_feed_gets_the_line_without_the_reporters_words() {
        let ward = Ward::new().await;
        feed_on(&ward, ward.group).await;
        let mut filing = filing(&ward);
        filing.place = Place::Address("Số 5 ngõ 12".into());
        let done = try_file(&ward, &ward.actor(ward.resident), filing).await.unwrap();
        let feed: Vec<_> = done.told.iter().filter(|n| matches!(n.to, To::Chat(_))).collect();
        assert_eq!(feed.len(), 1);
        assert_eq!(feed[0].to, To::Chat(ward.chat("-1001")));
        assert_eq!(feed[0].text, "📋 PA-000001 · Chiếu sáng · ngõ 12 · mới · vừa gửi");
        assert!(done.told.last().is_some_and(|n| n.to == feed[0].to), "the feed comes after the staff");
    }

    #[tokio::test]
    async fn a_filing_that_cannot_be_used_is_refused_and_writes_nothing() {
        let ward = Ward::new().await;
        let resident = ward.actor(ward.resident);
        let mut wrong = Vec::new();
        let mut f = filing(&ward);
        f.category = "nope".into();
        wrong.push(f);
        let mut f = filing(&ward);
        f.description = "  ".into();
        wrong.push(f);
        let mut f = filing(&ward);
        f.photos = vec!["a".into(); 4];
        wrong.push(f);
        let mut f = filing(&ward);
        f.place = Place::Pin { latitude: 51.5, longitude: -0.12 };
        wrong.push(f);
        for f in wrong {
            let acted = try_file(&ward, &resident, f.clone()).await;
            assert!(matches!(acted, Err(Stop::Refused(Refusal::Input(_)))), "{f:?}: {acted:?}");
        }
        let mut f = filing(&ward);
        f.group = 999;
        let acted = try_file(&ward, &resident, f).await;
        assert!(matches!(acted, Err(Stop::Refused(Refusal::NotFound { .. }))), "{acted:?}");
        assert!(ward.audit().await.is_empty());
        let reports: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM reports").fetch_one(&mut *ward.tx().await).await.unwrap();
        assert_eq!(reports, 0);
    }
}
