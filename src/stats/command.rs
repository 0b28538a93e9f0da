//! `/thongke` and `/sohodukien`.
//!
//! ```text
//! (official) /thongke            → the ward: households, circumstances, digital citizens, reports, campaigns, notices
//! (leader)   /thongke ho 7d      → own groups, households only, last 7 days
//! (official) /thongke phananh thang 10/2025
//! (official) /sohodukien Tổ dân phố số 12 40
//! ```

use super::{compute, Figures, Period, Scope};
use crate::app::App;
use crate::domain::group_thousands;
use crate::domain::Percent;
use crate::group;
use crate::household::Circumstance;
use crate::refusal::{Handled, Refusal};
use crate::report::Status;
use crate::roles::{self, Caller};
use crate::text::fold;
use crate::turn::Turn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    All,
    Households,
    Reports,
    Funds,
}

/// The groups a caller may see: None (the ward) for officials, their own
/// for leaders, nothing for residents.
pub async fn visible_scope(conn: &mut sqlx::SqliteConnection, caller: &Caller) -> anyhow::Result<Option<Scope>> {
    if roles::is_official(&mut *conn, caller.id).await? {
        return Ok(Some(None));
    }
    let led: Vec<i64> = group::led_by(conn, caller.id).await?.into_iter().map(|g| g.id).collect();
    Ok((!led.is_empty()).then_some(Some(led)))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn cut(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= n {
        format!("{s:<n$}")
    } else {
        chars[..n - 1].iter().collect::<String>() + "…"
    }
}

pub async fn command(turn: &mut Turn, args: &str) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let Some(mut scope) = visible_scope(&mut conn, caller).await? else {
        return Err(Refusal::OnlyFor {
            who: "tổ trưởng, tổ phó và cán bộ phường", to: "xem được thống kê"
        }
        .into());
    };
    let now = app.clock.now();
    let folded = fold(args);
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    if words.first() == Some(&"bieudo") {
        let groups = super::households(&mut conn, &scope).await?;
        let png = super::chart::png("Tỷ lệ đăng ký và công dân số theo tổ", &groups, &app.settings.targets)?;
        out.image(
            &msg.chat,
            png,
            "bieu-do.png",
            Some(format!("Đăng ký hộ và công dân số — {}", app.settings.ward_name)),
        );
        return Ok(());
    }
    let mut part = Part::All;
    if let Some(first) = words.first() {
        part = match *first {
            "ho" => Part::Households,
            "phananh" => Part::Reports,
            "quy" => Part::Funds,
            _ => Part::All,
        };
        if part != Part::All {
            words.remove(0);
        }
    }
    // A period at the end: "7d", "30d" or "thang 10/2025".
    let mut period = Period::last_days(now, 30);
    if let Some(p) = words.last().and_then(|w| Period::parse(&[w], now, app.settings.timezone)) {
        period = p;
        words.pop();
    } else if words.len() >= 2 {
        if let Some(p) = Period::parse(&words[words.len() - 2..], now, app.settings.timezone) {
            period = p;
            words.truncate(words.len() - 2);
        }
    }
    if !words.is_empty() {
        let name = words.join(" ");
        let Some(g) = group::find(&mut conn, &name).await? else {
            return Err(Refusal::input(format!("Không tìm thấy tổ «{name}». Cách dùng: /thongke [ho | phananh | quy] [tên tổ] [7d | 30d | thang 10/2025]")).into());
        };
        if scope.as_ref().is_some_and(|s| !s.contains(&g.id)) {
            return Err(Refusal::OwnGroupOnly { what: "thống kê" }.into());
        }
        scope = Some(vec![g.id]);
    }
    let figures = compute(app, &mut conn, &scope, period).await?;
    let title = match &scope {
        None => app.settings.ward_name.clone(),
        Some(ids) if ids.len() == 1 => figures.groups.first().map(|g| g.name.clone()).unwrap_or_default(),
        Some(ids) => format!("{} tổ của bác", ids.len()),
    };
    let mut html = render(app, &figures, &title, period, part);
    if part == Part::All {
        html.push_str(&super::consultations::summary(app, &mut conn, &scope).await?);
    }
    out.html(&msg.chat, html);
    Ok(())
}

pub fn render(app: &App, f: &Figures, title: &str, period: Period, part: Part) -> String {
    let mut s = format!("📊 <b>Thống kê — {}</b>\n", esc(title));
    if matches!(part, Part::All | Part::Households) {
        let approved = f.approved();
        let pending: i64 = f.groups.iter().map(|g| g.pending).sum();
        let people: i64 = f.groups.iter().map(|g| g.people).sum();
        let expected: i64 = f.groups.iter().filter_map(|g| g.expected).sum();
        s.push_str(&format!("\n🏠 <b>Hộ gia đình</b>: {approved} hộ đã duyệt"));
        if expected > 0 {
            s.push_str(&format!(" / {expected} dự kiến ({})", Percent::of(approved, expected)));
        }
        s.push_str(&format!(", {pending} chờ duyệt, {people} nhân khẩu\n<pre>"));
        s.push_str(&format!("{} {:>9} {:>4}\n", cut("Tổ", 16), "Hộ/dự kiến", "Chờ"));
        for g in &f.groups {
            // A group whose expected count is not set is marked, not shown
            // as "2/?", and the mark is explained under the table.
            let approved = match g.expected {
                Some(e) => format!("{}/{e}", g.approved),
                None => format!("{}*", g.approved),
            };
            s.push_str(&format!("{} {:>9} {:>4}\n", esc(&cut(&g.name, 16)), approved, g.pending));
        }
        s.push_str("</pre>\n");
        if f.groups.iter().any(|g| g.expected.is_none()) {
            s.push_str("* chưa đặt số hộ dự kiến (cán bộ phường đặt bằng /sohodukien)\n");
        }
        let count =
            |c: Circumstance| f.circumstances.iter().find(|(code, _)| code == c.code()).map(|(_, n)| *n).unwrap_or(0);
        s.push_str("<b>Hoàn cảnh</b>: ");
        s.push_str(
            &Circumstance::ALL.iter().map(|c| format!("{} {}", c.label(), count(*c))).collect::<Vec<_>>().join(", "),
        );
        let t = &app.settings.targets;
        let line = |label: &str, n: i64, target: i64| {
            let p = Percent::of(n, approved);
            format!("\n• {label}: {p} (mục tiêu {target}%) {}", if p.reaches(target) { "✅" } else { "⚠️" })
        };
        s.push_str("\n\n📱 <b>Công dân số</b> (trên số hộ đã duyệt):");
        s.push_str(&line(
            "Có người dùng điện thoại thông minh",
            f.groups.iter().map(|g| g.smartphone).sum(),
            t.smartphone_target,
        ));
        s.push_str(&line(
            "Có tài khoản thanh toán điện tử",
            f.groups.iter().map(|g| g.epayment).sum(),
            t.epayment_target,
        ));
        s.push_str(&line("Có người dùng VNeID mức 2", f.groups.iter().map(|g| g.vneid).sum(), t.vneid_target));
        s.push('\n');
    }
    if matches!(part, Part::All | Part::Reports) {
        let r = &f.reports;
        let status = |st: Status| r.open_by_status.iter().find(|(c, _)| c == st.code()).map(|(_, n)| *n).unwrap_or(0);
        let open: i64 = r.open_by_status.iter().map(|(_, n)| n).sum();
        s.push_str(&format!(
            "\n📣 <b>Phản ánh</b>: {open} đang mở (mới {}, đã tiếp nhận {}, đang xử lý {}), {} quá hạn",
            status(Status::New),
            status(Status::Accepted),
            status(Status::InProgress),
            r.overdue
        ));
        for (cat, n) in &r.open_by_category {
            s.push_str(&format!("\n• {}: {n}", esc(app.settings.reports.category_label(cat))));
        }
        s.push_str(&format!("\nĐã đóng ({}): {}", period.label(app.settings.timezone), r.closed_in_period));
        if let Some(h) = r.median_hours_to_close {
            s.push_str(&format!(", thời gian xử lý trung vị {}", crate::domain::hours(h)));
        }
        if r.rated > 0 {
            s.push_str(&format!(", hài lòng {} ({}/{})", Percent::of(r.satisfied, r.rated), r.satisfied, r.rated));
        }
        s.push('\n');
    }
    if matches!(part, Part::All | Part::Funds) {
        s.push_str("\n💝 <b>Vận động đang mở</b>:");
        if f.campaigns.is_empty() {
            s.push_str(" không có");
        }
        for c in &f.campaigns {
            s.push_str(&format!(
                "\n• {} {}: đã nhận {} đ / đăng ký {} đ{}, {} lượt, {} hộ",
                c.code,
                esc(&c.title),
                group_thousands(c.received),
                group_thousands(c.pledged),
                c.target.map(|t| format!(" / mục tiêu {} đ", group_thousands(t))).unwrap_or_default(),
                c.contributions,
                c.households
            ));
        }
        s.push('\n');
    }
    if part == Part::All {
        s.push_str(&format!(
            "\n📢 <b>Thông báo</b> ({}): {} thông báo, {} lượt gửi tới nhóm, {} lượt «Đã xem»",
            period.label(app.settings.timezone),
            f.notices.notices,
            f.notices.deliveries,
            f.notices.acknowledgements
        ));
    }
    s
}

/// `/sohodukien <tổ> <n>`: how many households the group should have.
pub async fn expected(turn: &mut Turn, args: &str) -> Handled {
    const USAGE: &str = "Cách dùng: /sohodukien <tên hoặc số tổ> <số hộ>, ví dụ: /sohodukien Tổ dân phố số 12 40";
    let words: Vec<&str> = args.split_whitespace().collect();
    let Some((n, name)) = words.split_last() else {
        return Err(Refusal::input(USAGE).into());
    };
    let Ok(n) = crate::domain::parse_count(n, 0, super::actions::MAX_EXPECTED) else {
        return Err(Refusal::input(USAGE).into());
    };
    let actor = turn.actor();
    let tx = turn.db.write().await?;
    let Some(g) = group::find(&mut *tx, &name.join(" ")).await? else {
        return Err(Refusal::input(format!("Không tìm thấy tổ «{}». {USAGE}", name.join(" "))).into());
    };
    let done = super::actions::set_expected(tx, &actor, g.id, n).await?;
    let chat = turn.msg.chat.clone();
    turn.out.send(&chat, done.outcome.text());
    turn.tell(done.told).await?;
    Ok(())
}
