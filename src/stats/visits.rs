//! The digital teams' sheets of `/xuatexcel` (and `todanpho export visits
//! | digital`): every visit, and each group's indicators at registration,
//! now, and against the ward's targets.

use futures_util::TryStreamExt;
use sqlx::SqliteConnection;

use super::sinks::{Cell, Sink};
use super::Scope;
use crate::app::App;
use crate::digital::progress;
use crate::domain::Percent;

type VisitRow =
    (String, String, Option<String>, String, i64, String, String, i64, bool, bool, bool, bool, Option<String>);

pub async fn visits(conn: &mut SqliteConnection, scope: &Scope, sink: &mut dyn Sink) -> anyhow::Result<()> {
    sink.begin(
        "Thăm hộ",
        &[
            "Ngày thăm",
            "Tổ",
            "Đội",
            "Người thăm",
            "Mã hộ",
            "Địa chỉ",
            "Kết quả",
            "Số người đạt VNeID mức 2",
            "Mở tài khoản thanh toán",
            "Cài ứng dụng của phường",
            "Vào nhóm của tổ",
            "Hướng dẫn dịch vụ công",
            "Ghi chú",
        ],
    )?;
    let scope = serde_json::to_string(scope)?;
    let sql = concat!(
        "SELECT v.visited_on, g.name, t.name, ",
        crate::roles::person_name!(),
        ", h.id, 'Số ' || h.house_number || COALESCE(', ' || h.lane, '') || ', ' || h.street,
                v.outcome, v.vneid_added, v.epayment_opened, v.ward_app, v.joined_group, v.public_service, v.note
         FROM visits v JOIN households h ON h.id = v.household_id JOIN groups g ON g.id = v.group_id
         JOIN users u ON u.id = v.by_user_id LEFT JOIN digital_teams t ON t.id = v.team_id
         WHERE ?1 = 'null' OR v.group_id IN (SELECT value FROM json_each(?1))
         ORDER BY v.visited_on, v.id"
    );
    let mut rows = sqlx::query_as::<_, VisitRow>(sql).bind(scope).fetch(conn);
    let yes = |b: bool| Cell::Text(if b { "Có" } else { "" }.into());
    while let Some((on, group, team, by, id, address, outcome, vneid, epay, app, joined, service, note)) =
        rows.try_next().await?
    {
        let on = chrono::NaiveDate::parse_from_str(&on, "%Y-%m-%d").map(|d| d.format("%d/%m/%Y").to_string());
        sink.row(&[
            Cell::Text(on.unwrap_or_default()),
            Cell::Text(group),
            Cell::Text(team.unwrap_or_default()),
            Cell::Text(by),
            Cell::Int(id),
            Cell::Text(address),
            Cell::Text(crate::digital::visit::outcome_label(&outcome).into()),
            Cell::Int(vneid),
            yes(epay),
            yes(app),
            yes(joined),
            yes(service),
            Cell::Text(note.unwrap_or_default()),
        ])?;
    }
    Ok(())
}

pub async fn by_group(
    app: &App,
    conn: &mut SqliteConnection,
    scope: &Scope,
    sink: &mut dyn Sink,
) -> anyhow::Result<()> {
    let t = &app.settings.targets;
    sink.begin(
        "Công dân số theo tổ",
        &[
            "Tổ",
            "Hộ đã duyệt",
            "Hộ đã được thăm",
            "ĐTTM lúc đăng ký",
            "ĐTTM nay",
            "Mục tiêu ĐTTM",
            "Thanh toán lúc đăng ký",
            "Thanh toán nay",
            "Mục tiêu thanh toán",
            "VNeID mức 2 lúc đăng ký",
            "VNeID mức 2 nay",
            "Mục tiêu VNeID",
        ],
    )?;
    // The period does not matter to these columns: the last week's.
    let now = app.clock.now();
    let since_at = now - chrono::Duration::days(7);
    let groups = progress::compute(conn, scope, app.settings.day(since_at), since_at).await?.groups;
    for g in groups {
        let (name, f) = (g.name, g.figures);
        let share = |n: i64| Cell::Percent(Percent::of(n, f.households));
        let target = |p: i64| Cell::Percent(Percent::of(p, 100));
        sink.row(&[
            Cell::Text(name),
            Cell::Int(f.households),
            Cell::Int(f.visited),
            share(f.smartphone.0),
            share(f.smartphone.1),
            target(t.smartphone_target),
            share(f.epayment.0),
            share(f.epayment.1),
            target(t.epayment_target),
            share(f.vneid.0),
            share(f.vneid.1),
            target(t.vneid_target),
        ])?;
    }
    Ok(())
}
