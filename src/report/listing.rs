//! `/phananhcuatoi` (a resident's own reports) and `/dsphananh` (open cases
//! for leaders and officials, oldest first, a page at a time).
//!
//! ```text
//! (leader)   /dsphananh
//!            Phản ánh đang mở, cũ nhất trước (trang 1/2, 7 việc):
//!            1. PA-000003 · Chiếu sáng · Tổ dân phố số 12 · mới · 4 ngày …   [Sau »]
//! (official) /dsphananh dangxuly chieu sang to 12
//! ```

use super::repo::{self, Filter};
use super::{Report, Status};
use crate::app::App;
use crate::channel::{Button, Keyboard, MessageRef};
use crate::group;
use crate::refusal::{Handled, Refusal};
use crate::roles::{self, Caller};
use crate::text::fold;
use crate::turn::{Turn, TurnDb};

const PER_PAGE: i64 = 5;
pub const PAGE_PREFIX: &str = "rp:ls:";

pub async fn mine(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let reports = repo::by_reporter(&mut conn, caller.id, 20).await?;
    if reports.is_empty() {
        out.send(&msg.chat, "Bác chưa gửi phản ánh nào. Gõ /phananh để gửi phản ánh.");
        return Ok(());
    }
    let now = app.clock.now();
    let mut text = "Phản ánh bác đã gửi (mới nhất trước):".to_string();
    for r in &reports {
        text.push_str(&format!(
            "\n• {} · {} · {} · gửi {} trước",
            r.code,
            app.settings.reports.category_label(&r.category),
            r.status.label(),
            app.settings.age(r.created_at, now)
        ));
    }
    out.send(&msg.chat, text.replace("gửi vừa xong trước", "vừa gửi"));
    Ok(())
}

/// What a `/dsphananh` page shows; encoded in the paging buttons.
#[derive(Debug, Clone, PartialEq)]
struct Query {
    status: Option<Status>,
    category: Option<String>,
    group: Option<i64>,
}

impl Query {
    fn encode(&self, page: i64) -> String {
        format!(
            "{PAGE_PREFIX}{page}:{}:{}:{}",
            self.status.map(|s| s.word()).unwrap_or("-"),
            self.category.as_deref().unwrap_or("-"),
            self.group.map(|g| g.to_string()).unwrap_or_else(|| "-".into())
        )
    }

    fn decode(data: &str) -> Option<(i64, Self)> {
        let mut parts = data.strip_prefix(PAGE_PREFIX)?.split(':');
        let page = parts.next()?.parse::<i64>().ok().filter(|p| (0..10_000).contains(p))?;
        let status = match parts.next()? {
            "-" => None,
            w => Some(Status::from_word(w)?),
        };
        let category = match parts.next()? {
            "-" => None,
            c => Some(c.to_string()),
        };
        let group = match parts.next()? {
            "-" => None,
            g => Some(g.parse().ok()?),
        };
        parts.next().is_none().then_some((page, Self { status, category, group }))
    }
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    // Descriptions can name houses and people: the list is private-only
    // in the command catalog (`commands::COMMANDS`).
    let mut conn = db.read().await?;
    let mut query = Query { status: None, category: None, group: None };
    let folded = fold(args);
    let (before_group, group_part) =
        match folded.split_once(" to ").or_else(|| folded.strip_prefix("to ").map(|g| ("", g))) {
            Some((b, g)) => (b.to_string(), Some(g.trim().to_string())),
            None => (folded.clone(), None),
        };
    let mut rest = Vec::new();
    for word in before_group.split_whitespace() {
        match Status::from_word(word) {
            Some(s) if query.status.is_none() => query.status = Some(s),
            _ => rest.push(word),
        }
    }
    let rest = rest.join(" ");
    if !rest.is_empty() {
        let found = app
            .settings
            .reports
            .categories
            .iter()
            .find(|c| fold(&c.label) == rest || c.code == rest || fold(&c.label).contains(&rest));
        match found {
            Some(c) => query.category = Some(c.code.clone()),
            None => {
                return Err(Refusal::input("Chưa hiểu bộ lọc. Cách dùng: /dsphananh [moi | tiepnhan | dangxuly | daxuly | khongxuly] [loại việc] [to <tên hoặc số tổ>]\nVí dụ: /dsphananh dangxuly chieu sang").into());
            }
        }
    }
    if let Some(g) = group_part {
        match group::find(&mut conn, &g).await? {
            Some(found) => query.group = Some(found.id),
            None => {
                return Err(Refusal::input(format!("Không tìm thấy tổ «{g}». Gõ /nhom để xem danh sách.")).into());
            }
        }
    }
    drop(conn);
    let (text, keyboard) = page(app, db, caller, &query, 0).await?;
    out.send_with(&msg.chat, text, keyboard);
    Ok(())
}

pub async fn on_page(turn: &mut Turn, data: &str, callback_id: &str, message: Option<&MessageRef>) -> Handled {
    let Turn { app, caller, db, out, .. } = turn;
    let Some((n, query)) = Query::decode(data) else {
        return Err(Refusal::StaleButton.into());
    };
    let (text, keyboard) = page(app, db, caller, &query, n).await?;
    out.answer(callback_id, None);
    match message {
        Some(m) => out.edit(m, text, keyboard),
        None => out.send(&caller.addr.private_chat(), text),
    }
    Ok(())
}

/// One page for the caller, with the role check: officials see the ward,
/// leaders their own groups, residents nothing.
async fn page(app: &App, db: &mut TurnDb, caller: &Caller, query: &Query, n: i64) -> Handled<(String, Keyboard)> {
    let mut conn = db.read().await?;
    let groups = if roles::is_official(&mut conn, caller.id).await? {
        query.group.map(|g| vec![g])
    } else {
        let led: Vec<i64> = group::led_by(&mut conn, caller.id).await?.into_iter().map(|g| g.id).collect();
        if led.is_empty() {
            return Err(Refusal::StaffOnly { what: "danh sách phản ánh" }.into());
        }
        match query.group {
            Some(g) if !led.contains(&g) => return Err(Refusal::OwnGroupOnly { what: "phản ánh" }.into()),
            Some(g) => Some(vec![g]),
            None => Some(led),
        }
    };
    let filter = Filter { groups, status: query.status, category: query.category.clone() };
    let (reports, total) = repo::list(&mut conn, &filter, n, PER_PAGE).await?;
    let what = match query.status {
        Some(s) => format!("Phản ánh «{}»", s.label()),
        None => "Phản ánh đang mở".to_string(),
    };
    if total == 0 {
        return Ok((format!("{what}: không có việc nào."), Keyboard::none()));
    }
    let pages = (total + PER_PAGE - 1) / PER_PAGE;
    let now = app.clock.now();
    let mut text = format!("{what}, cũ nhất trước (trang {}/{pages}, {total} việc):", n + 1);
    for (i, r) in reports.iter().enumerate() {
        text.push_str(&format!("\n\n{}. {}", n * PER_PAGE + i as i64 + 1, summary_line(app, &mut conn, r, now).await?));
    }
    let mut buttons = Vec::new();
    if n > 0 {
        buttons.push(Button::callback("« Trước", query.encode(n - 1)));
    }
    if n + 1 < pages {
        buttons.push(Button::callback("Sau »", query.encode(n + 1)));
    }
    let keyboard = if buttons.is_empty() { Keyboard::none() } else { Keyboard::rows(vec![buttons]) };
    Ok((text, keyboard))
}

async fn summary_line(
    app: &App,
    conn: &mut sqlx::SqliteConnection,
    r: &Report,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    let group = group::by_id(conn, r.group_id).await?.map(|g| g.name).unwrap_or_default();
    let short: String = r.description.chars().take(80).collect();
    let overdue = if now - r.created_at > app.settings.reports.deadline && !r.status.is_closed() {
        " ⏰ quá hạn"
    } else {
        ""
    };
    Ok(format!(
        "{} · {} · {group} · {} · {}{overdue}\n   {short}",
        r.code,
        app.settings.reports.category_label(&r.category),
        r.status.label(),
        app.settings.age(r.created_at, now),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_data_round_trips() {
        let q = Query { status: Some(Status::InProgress), category: Some("chieu_sang".into()), group: Some(12) };
        let data = q.encode(3);
        assert!(data.len() <= 64);
        assert_eq!(Query::decode(&data), Some((3, q)));
        let q = Query { status: None, category: None, group: None };
        assert_eq!(Query::decode(&q.encode(0)), Some((0, q)));
        for junk in ["rp:ls:", "rp:ls:x:-:-:-", "rp:ls:1:zz:-:-", "rp:ls:1:-:-:x", "rp:ls:1:-:-:-:-", "rp:ls:-1:-:-:-"]
        {
            assert_eq!(Query::decode(junk), None, "{junk}");
        }
    }
}
