//! `/ditham`: the households a member still has to visit — short of a
//! target (no smartphone user, no payment account, fewer people with VNeID
//! level 2 than members) or never visited — in walking order, 10 a page,
//! each with a button to record a visit; and a search by house number or
//! head's name among every household the caller reaches. Addresses are
//! personal data: the command is private-only in the catalog, and only
//! members of the groups' teams, their leaders and officials reach them
//! ([`super::reach`]).
//!
//! ```text
//! (member, private) /ditham
//!     🚪 Hộ cần đến — Tổ dân phố số 12 (trang 1/4, 35 hộ), theo đường đi:
//!     1. số 8, Xuân La — Nguyễn Văn An (4 người)
//!        Còn thiếu: thanh toán điện tử, VNeID mức 2 (1/4 người) · chưa thăm
//!     …   [✍️ 1. số 8, Xuân La] … [Sau »]
//! (member, private) /ditham 12a      → the households at number 12A, or whose head's name has «12a»
//! ```

use chrono::NaiveDate;
use sqlx::SqliteConnection;

use super::{Household, HOUSEHOLD_COLUMNS};
use crate::channel::{Button, Keyboard, MessageRef};
use crate::domain::WalkKey;
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::text::fold;
use crate::turn::Turn;

pub const PER_PAGE: usize = 10;
/// `dt:pg:<group>:<page>`, `dt:gp:<page>` (the groups), `dt:sr:<page>:<query>`,
/// `dt:v:<household>` (record a visit).
pub const PREFIX: &str = "dt:";
const MAX_QUERY: usize = 40;
const GROUPS_PER_PAGE: usize = 20;
/// Who reaches households' addresses here.
pub const WHO: &str = "thành viên tổ công nghệ số, tổ trưởng và cán bộ phường";

/// A household on the list, with its last visit.
#[derive(Debug, Clone)]
pub struct Door {
    pub household: Household,
    pub last_visit: Option<(NaiveDate, String)>,
}

impl Door {
    fn needs_visit(&self) -> bool {
        !self.household.now.short_of(self.household.members).is_empty() || self.last_visit.is_none()
    }

    fn line(&self, n: usize) -> String {
        let h = &self.household;
        let short = h.now.short_of(h.members);
        let mut text = format!("{n}. {} — {} ({} người)", h.address(), h.head_name, h.members);
        let need = if short.is_empty() {
            "đã đạt các chỉ số".to_string()
        } else {
            format!("Còn thiếu: {}", short.join(", "))
        };
        let visited = match &self.last_visit {
            None => "chưa thăm".to_string(),
            Some((on, outcome)) => {
                format!("thăm gần nhất {}: {}", on.format("%d/%m"), super::visit::outcome_label(outcome))
            }
        };
        text.push_str(&format!("\n   {need} · {visited}"));
        text
    }
}

/// What a press on the list asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorButton {
    Page { group: i64, page: usize },
    Groups { page: usize },
    Search { page: usize, query: String },
    Visit { household: i64 },
}

impl DoorButton {
    pub fn parse(data: &str) -> Option<Self> {
        let rest = data.strip_prefix(PREFIX)?;
        let (op, rest) = rest.split_once(':')?;
        let page = |s: &str| s.parse::<usize>().ok().filter(|p| *p < 100_000);
        match op {
            "pg" => {
                let (group, n) = rest.split_once(':')?;
                Some(Self::Page { group: group.parse().ok()?, page: page(n)? })
            }
            "gp" => Some(Self::Groups { page: page(rest)? }),
            "sr" => {
                let (n, query) = rest.split_once(':')?;
                let page = page(n)?;
                (!query.is_empty()).then(|| Self::Search { page, query: query.to_string() })
            }
            "v" => Some(Self::Visit { household: rest.parse().ok()? }),
            _ => None,
        }
    }

    pub fn data(&self) -> String {
        match self {
            Self::Page { group, page } => format!("{PREFIX}pg:{group}:{page}"),
            Self::Groups { page } => format!("{PREFIX}gp:{page}"),
            Self::Search { page, query } => format!("{PREFIX}sr:{page}:{query}"),
            Self::Visit { household } => format!("{PREFIX}v:{household}"),
        }
    }
}

/// The households of `group` still to visit, in walking order.
pub async fn remaining(conn: &mut SqliteConnection, group: i64) -> anyhow::Result<Vec<Door>> {
    let rows = doors(
        conn,
        "h.group_id = ? AND h.status = 'approved'
         AND (h.smartphone_users = 0 OR h.has_epayment = 0 OR h.vneid_level2 < h.members
              OR NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id))",
        &[group.to_string()],
    )
    .await?;
    Ok(rows.into_iter().filter(Door::needs_visit).collect())
}

/// Approved households in `reach` (None: the ward) whose house number is
/// `query` or whose head's name contains it (both folded).
pub async fn search(conn: &mut SqliteConnection, reach: &Option<Vec<i64>>, query: &str) -> anyhow::Result<Vec<Door>> {
    let groups = serde_json::to_string(reach)?;
    let rows = doors(
        conn,
        "h.status = 'approved' AND (?2 = 'null' OR h.group_id IN (SELECT value FROM json_each(?2)))
         AND (lower(replace(h.house_number, ' ', '')) = replace(?1, ' ', '') OR instr(h.head_name_folded, ?1) > 0)",
        &[query.to_string(), groups],
    )
    .await?;
    Ok(rows.into_iter().take(50).collect())
}

/// Doors of the households `filter` (over `households h`, with `binds`
/// for its parameters) picks, in walking order.
async fn doors(conn: &mut SqliteConnection, filter: &str, binds: &[String]) -> anyhow::Result<Vec<Door>> {
    let sql = format!(
        "SELECT {HOUSEHOLD_COLUMNS},
                (SELECT v.visited_on || '|' || v.outcome FROM visits v WHERE v.household_id = h.id
                 ORDER BY v.visited_on DESC, v.id DESC LIMIT 1) AS last_visit
         FROM households h WHERE {filter}"
    );
    let mut query = sqlx::query_as::<_, WithVisit>(&sql);
    for value in binds {
        query = query.bind(value);
    }
    let mut doors: Vec<(WalkKey, Door)> = query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|WithVisit(household, last)| {
            let key = WalkKey::new(&household.street, household.lane.as_deref(), &household.house_number);
            let last_visit = last.and_then(|l| {
                let (on, outcome) = l.split_once('|')?;
                Some((NaiveDate::parse_from_str(on, "%Y-%m-%d").ok()?, outcome.to_string()))
            });
            (key, Door { household, last_visit })
        })
        .collect();
    doors.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.household.id.cmp(&b.1.household.id)));
    Ok(doors.into_iter().map(|(_, d)| d).collect())
}

/// A household with its last visit (`visited_on|outcome`).
struct WithVisit(Household, Option<String>);

impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for WithVisit {
    fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        Ok(Self(Household::from_row(row)?, row.try_get("last_visit")?))
    }
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let query: String = fold(args).chars().filter(|c| *c != ':').collect();
    let query = cut(&query, MAX_QUERY);
    let press = if query.is_empty() { DoorButton::Groups { page: 0 } } else { DoorButton::Search { page: 0, query } };
    let (text, keyboard) = page(turn, &press).await?;
    turn.out.send_with(&turn.msg.chat, text, keyboard);
    Ok(())
}

/// A press on the list: another page, a group picked, or a visit to record.
pub async fn on_button(turn: &mut Turn, press: DoorButton, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    if let DoorButton::Visit { household } = press {
        return super::visit::start(turn, household, callback_id).await;
    }
    let (text, keyboard) = page(turn, &press).await?;
    turn.out.answer(callback_id, None);
    match message {
        Some(m) => turn.out.edit(m, text, keyboard),
        None => turn.out.send_with(&turn.caller.addr.private_chat(), text, keyboard),
    }
    Ok(())
}

async fn page(turn: &mut Turn, press: &DoorButton) -> Handled<(String, Keyboard)> {
    let Turn { caller, db, .. } = turn;
    let buttons = caller.addr.channel.capabilities().inline_buttons;
    let mut conn = db.read().await?;
    let reach = super::reach(&mut conn, caller.id).await?;
    if reach.as_ref().is_some_and(Vec::is_empty) {
        return Err(Refusal::OnlyFor { who: WHO, to: "xem được danh sách hộ cần đến" }.into());
    }
    match press {
        DoorButton::Groups { page } => {
            let groups = match &reach {
                None => group::all(&mut conn).await?,
                Some(ids) => {
                    let mut found = Vec::new();
                    for id in ids {
                        found.extend(group::by_id(&mut conn, *id).await?);
                    }
                    found
                }
            };
            if let [only] = groups.as_slice() {
                return group_page(&mut conn, only, 0, buttons).await;
            }
            let pages = groups.len().div_ceil(GROUPS_PER_PAGE).max(1);
            let page = (*page).min(pages - 1);
            let mut rows: Vec<Vec<Button>> = groups
                .iter()
                .skip(page * GROUPS_PER_PAGE)
                .take(GROUPS_PER_PAGE)
                .map(|g| vec![Button::callback(cut(&g.name, 40), DoorButton::Page { group: g.id, page: 0 }.data())])
                .collect();
            let next = rows.len() + 1;
            rows.extend(nav(page, pages, next, |p| DoorButton::Groups { page: p }));
            Ok((
                format!(
                    "🚪 Bác muốn xem hộ cần đến của tổ nào ạ? (trang {}/{pages})\nTìm một hộ: gõ /ditham <số nhà hoặc tên chủ hộ>.",
                    page + 1
                ),
                Keyboard::rows(rows),
            ))
        }
        DoorButton::Page { group, page } => {
            if !reach.as_ref().is_none_or(|r| r.contains(group)) {
                return Err(Refusal::no_right("xem các hộ của tổ này").into());
            }
            let Some(found) = group::by_id(&mut conn, *group).await? else {
                return Err(Refusal::StaleButton.into());
            };
            group_page(&mut conn, &found, *page, buttons).await
        }
        DoorButton::Search { page, query } => {
            let found = search(&mut conn, &reach, query).await?;
            if found.is_empty() {
                return Ok((
                    format!(
                        "Không tìm thấy hộ nào có số nhà «{query}» hoặc tên chủ hộ có «{query}» trong các tổ của bác."
                    ),
                    Keyboard::none(),
                ));
            }
            let title = format!("🔎 Hộ tìm theo «{query}»");
            Ok(render(&title, &found, *page, buttons, |p| DoorButton::Search { page: p, query: query.clone() }))
        }
        DoorButton::Visit { .. } => Err(Refusal::StaleButton.into()),
    }
}

async fn group_page(
    conn: &mut SqliteConnection,
    group: &group::Group,
    page: usize,
    buttons: bool,
) -> Handled<(String, Keyboard)> {
    let doors = remaining(conn, group.id).await?;
    if doors.is_empty() {
        return Ok((
            format!("🎉 {}: mọi hộ đã đăng ký đều đã được thăm và đạt các chỉ số.", group.name),
            Keyboard::none(),
        ));
    }
    let title = format!("🚪 Hộ cần đến — {}", group.name);
    Ok(render(&title, &doors, page, buttons, |p| DoorButton::Page { group: group.id, page: p }))
}

/// A page of doors. Lines and buttons are numbered on the page, paging
/// buttons after them, so that where there are no buttons (`buttons`
/// false) the numbers typed are the page's.
fn render(
    title: &str,
    doors: &[Door],
    page: usize,
    buttons: bool,
    to: impl Fn(usize) -> DoorButton,
) -> (String, Keyboard) {
    let pages = doors.len().div_ceil(PER_PAGE).max(1);
    let page = page.min(pages - 1);
    let mut text = format!("{title} (trang {}/{pages}, {} hộ), theo đường đi:", page + 1, doors.len());
    let mut rows = Vec::new();
    for (n, door) in doors.iter().skip(page * PER_PAGE).take(PER_PAGE).enumerate() {
        text.push_str("\n\n");
        text.push_str(&door.line(n + 1));
        let label = cut(&format!("{}. ✍️ Ghi thăm {}", n + 1, door.household.address()), 48);
        rows.push(vec![Button::callback(label, DoorButton::Visit { household: door.household.id }.data())]);
    }
    let how = if buttons {
        "Bấm vào một hộ để ghi lần thăm."
    } else {
        "Gõ số của hộ để ghi lần thăm."
    };
    text.push_str(&format!("\n\n{how} Tìm một hộ: gõ /ditham <số nhà hoặc tên chủ hộ>."));
    let next = rows.len() + 1;
    rows.extend(nav(page, pages, next, to));
    (text, Keyboard::rows(rows))
}

/// "« Trang trước", "Trang sau »", numbered from `first`.
fn nav(page: usize, pages: usize, first: usize, to: impl Fn(usize) -> DoorButton) -> Option<Vec<Button>> {
    let mut buttons = Vec::new();
    if page > 0 {
        buttons.push(Button::callback(format!("{}. « Trang trước", first), to(page - 1).data()));
    }
    if page + 1 < pages {
        buttons.push(Button::callback(format!("{}. Trang sau »", first + buttons.len()), to(page + 1).data()));
    }
    (!buttons.is_empty()).then_some(buttons)
}

fn cut(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_button_reads_back_and_fits() {
        let long = "nguyen van an ".repeat(3);
        for b in [
            DoorButton::Page { group: 12, page: 3 },
            DoorButton::Groups { page: 1 },
            DoorButton::Search { page: 2, query: cut(long.trim(), MAX_QUERY) },
            DoorButton::Visit { household: 123_456 },
        ] {
            assert!(b.data().len() <= 64, "{}", b.data());
            assert_eq!(DoorButton::parse(&b.data()), Some(b));
        }
        for stale in ["dt:pg:x:1", "dt:v:", "dt:sr:1:", "dt:zz:1", "dt:gp:-1"] {
            assert_eq!(DoorButton::parse(stale), None, "{stale}");
        }
    }
}
