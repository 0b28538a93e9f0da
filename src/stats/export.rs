//! The ward's (or a leader's groups') records as tables: an Excel workbook
//! for `/xuatexcel`, CSV for `todanpho export <sheet> --format csv`. Both
//! read the same [`Sheet`]s, so the two never disagree.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sqlx::SqliteConnection;

use super::{compute, percent, Period, Scope};
use crate::app::App;
use crate::channel::{ChatKind, Incoming, Replies};
use crate::household::Circumstance;
use crate::roles::Caller;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(i64),
    Time(Option<DateTime<Utc>>),
}

pub struct Sheet {
    pub name: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Households,
    Reports,
    Pledges,
    Notices,
    Summary,
}

fn scope_json(scope: &Scope) -> anyhow::Result<Option<String>> {
    super::scope_json(scope)
}

pub async fn households(conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Sheet> {
    let json = scope_json(scope)?;
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        i64,
        Option<String>,
        i64,
        bool,
        i64,
        String,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT h.id, g.name, h.head_name, h.house_number, h.lane, h.street, h.phone, h.members,
                (SELECT group_concat(circumstance, ',') FROM household_circumstances c WHERE c.household_id = h.id),
                h.smartphone_users, h.has_epayment, h.vneid_level2, h.status, h.created_at
         FROM households h JOIN groups g ON g.id = h.group_id
         WHERE ? IS NULL OR h.group_id IN (SELECT value FROM json_each(?)) ORDER BY h.id",
    )
    .bind(&json)
    .bind(&json)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(id, group, head, number, lane, street, phone, members, circ, smart, epay, vneid, status, created)| {
            let address =
                [Some(format!("Số {number}")), lane, Some(street)].into_iter().flatten().collect::<Vec<_>>().join(", ");
            let circ = circ
                .unwrap_or_default()
                .split(',')
                .filter_map(Circumstance::from_code)
                .map(|c| c.label())
                .collect::<Vec<_>>()
                .join(", ");
            let status = crate::household::Status::from_code(&status).map(|s| s.label()).unwrap_or("");
            vec![
                Cell::Int(id),
                Cell::Text(group),
                Cell::Text(head),
                Cell::Text(address),
                Cell::Text(phone),
                Cell::Int(members),
                Cell::Text(circ),
                Cell::Int(smart),
                Cell::Text(if epay { "Có" } else { "Không" }.into()),
                Cell::Int(vneid),
                Cell::Text(status.into()),
                Cell::Time(Some(created)),
            ]
        })
        .collect();
    Ok(Sheet {
        name: "Hộ gia đình",
        headers: vec![
            "Mã hộ",
            "Tổ",
            "Chủ hộ",
            "Địa chỉ",
            "Điện thoại",
            "Nhân khẩu",
            "Hoàn cảnh",
            "Dùng ĐTTM",
            "Thanh toán điện tử",
            "VNeID mức 2",
            "Trạng thái",
            "Ngày đăng ký",
        ],
        rows,
    })
}

pub async fn reports(app: &App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Sheet> {
    let json = scope_json(scope)?;
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<f64>,
        Option<f64>,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT r.id, g.name, r.category, r.description, r.address, r.latitude, r.longitude, r.status, r.created_at, r.closed_at, r.rating
         FROM reports r JOIN groups g ON g.id = r.group_id
         WHERE ? IS NULL OR r.group_id IN (SELECT value FROM json_each(?)) ORDER BY r.id",
    )
    .bind(&json)
    .bind(&json)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(id, group, category, description, address, lat, lon, status, created, closed, rating)| {
            let place = match (address, lat, lon) {
                (Some(a), _, _) => a,
                (None, Some(lat), Some(lon)) => format!("{lat:.5}, {lon:.5}"),
                _ => String::new(),
            };
            let rating = match rating.as_deref() {
                Some("satisfied") => "Hài lòng",
                Some("dissatisfied") => "Không hài lòng",
                _ => "",
            };
            vec![
                Cell::Text(crate::report::ReportCode::new(id).to_string()),
                Cell::Text(group),
                Cell::Text(app.settings.reports.category_label(&category).to_string()),
                Cell::Text(description),
                Cell::Text(place),
                Cell::Text(crate::report::Status::from_code(&status).map(|s| s.label()).unwrap_or("").into()),
                Cell::Time(Some(created)),
                Cell::Time(closed),
                Cell::Text(rating.into()),
            ]
        })
        .collect();
    Ok(Sheet {
        name: "Phản ánh",
        headers: vec!["Mã", "Tổ", "Loại việc", "Nội dung", "Vị trí", "Trạng thái", "Ngày gửi", "Ngày đóng", "Đánh giá"],
        rows,
    })
}

pub async fn pledges(conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Sheet> {
    let json = scope_json(scope)?;
    type Row = (i64, i64, String, String, bool, String, i64, String, Option<i64>, DateTime<Utc>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT p.id, c.id, c.title, p.donor_name, p.anonymous, p.method, p.amount, p.status, p.received_amount, p.created_at
         FROM pledges p JOIN campaigns c ON c.id = p.campaign_id
         WHERE ? IS NULL OR EXISTS (SELECT 1 FROM campaign_groups cg WHERE cg.campaign_id = c.id
               AND cg.group_id IN (SELECT value FROM json_each(?)))
         ORDER BY p.id",
    )
    .bind(&json)
    .bind(&json)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(id, cid, title, donor, anonymous, method, amount, status, received, created)| {
            vec![
                Cell::Text(crate::campaign::PledgeCode::new(id).to_string()),
                Cell::Text(format!("UH{cid} {title}")),
                Cell::Text(if anonymous { "Ẩn danh".into() } else { donor }),
                Cell::Text(if method == "transfer" { "Chuyển khoản" } else { "Tiền mặt" }.into()),
                Cell::Money(amount),
                Cell::Text(crate::campaign::PledgeStatus::from_code(&status).map(|s| s.label()).unwrap_or("").into()),
                received.map(Cell::Money).unwrap_or(Cell::Text(String::new())),
                Cell::Time(Some(created)),
            ]
        })
        .collect();
    Ok(Sheet {
        name: "Ủng hộ",
        headers: vec![
            "Mã",
            "Cuộc vận động",
            "Người ủng hộ",
            "Cách",
            "Số tiền đăng ký",
            "Trạng thái",
            "Số tiền đã nhận",
            "Ngày",
        ],
        rows,
    })
}

pub async fn notices(conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Sheet> {
    let json = scope_json(scope)?;
    type Row = (i64, String, String, Option<DateTime<Utc>>, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT n.id, n.text, n.status, n.queued_at,
                (SELECT COUNT(*) FROM notice_deliveries d WHERE d.notice_id = n.id AND d.status = 'sent'),
                (SELECT COUNT(*) FROM notice_acks a WHERE a.notice_id = n.id)
         FROM notices n
         WHERE n.status IN ('queued', 'done') AND (? IS NULL OR EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id
               AND t.group_id IN (SELECT value FROM json_each(?))))
         ORDER BY n.id",
    )
    .bind(&json)
    .bind(&json)
    .fetch_all(conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(|(id, text, status, queued, sent, acks)| {
            vec![
                Cell::Text(format!("TB{id}")),
                Cell::Text(text),
                Cell::Text(if status == "done" { "Đã gửi" } else { "Đang gửi / hẹn giờ" }.into()),
                Cell::Time(queued),
                Cell::Int(sent),
                Cell::Int(acks),
            ]
        })
        .collect();
    Ok(Sheet {
        name: "Thông báo",
        headers: vec!["Mã", "Nội dung", "Trạng thái", "Gửi lúc", "Số nhóm đã gửi", "Số người đã xem"],
        rows,
    })
}

pub async fn summary(app: &App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Sheet> {
    let f = compute(app, conn, scope, Period::last_days(app.clock.now(), 30)).await?;
    let approved = f.approved();
    let mut rows = vec![
        vec![Cell::Text("Hộ đã duyệt".into()), Cell::Int(approved)],
        vec![Cell::Text("Hộ chờ duyệt".into()), Cell::Int(f.groups.iter().map(|g| g.pending).sum())],
        vec![Cell::Text("Nhân khẩu".into()), Cell::Int(f.groups.iter().map(|g| g.people).sum())],
        vec![
            Cell::Text("% hộ có người dùng ĐTTM".into()),
            Cell::Int(percent(f.groups.iter().map(|g| g.smartphone).sum(), approved)),
        ],
        vec![
            Cell::Text("% hộ có thanh toán điện tử".into()),
            Cell::Int(percent(f.groups.iter().map(|g| g.epayment).sum(), approved)),
        ],
        vec![
            Cell::Text("% hộ có VNeID mức 2".into()),
            Cell::Int(percent(f.groups.iter().map(|g| g.vneid).sum(), approved)),
        ],
        vec![Cell::Text("Phản ánh đang mở".into()), Cell::Int(f.reports.open_by_status.iter().map(|(_, n)| n).sum())],
        vec![Cell::Text("Phản ánh quá hạn".into()), Cell::Int(f.reports.overdue)],
    ];
    for c in Circumstance::ALL {
        let n = f.circumstances.iter().find(|(code, _)| code == c.code()).map(|(_, n)| *n).unwrap_or(0);
        rows.push(vec![Cell::Text(c.label().into()), Cell::Int(n)]);
    }
    for c in &f.campaigns {
        rows.push(vec![Cell::Text(format!("{} {} — đã nhận", c.code, c.title)), Cell::Money(c.received)]);
    }
    Ok(Sheet { name: "Tổng hợp", headers: vec!["Chỉ tiêu", "Giá trị"], rows })
}

pub async fn sheet(app: &App, conn: &mut SqliteConnection, scope: &Scope, which: Which) -> anyhow::Result<Sheet> {
    match which {
        Which::Households => households(conn, scope).await,
        Which::Reports => reports(app, conn, scope).await,
        Which::Pledges => pledges(conn, scope).await,
        Which::Notices => notices(conn, scope).await,
        Which::Summary => summary(app, conn, scope).await,
    }
}

fn excel_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> anyhow::Result<ExcelDateTime> {
    let local = at.with_timezone(&tz);
    Ok(ExcelDateTime::from_ymd(local.year() as u16, local.month() as u8, local.day() as u8)?.and_hms(
        local.hour() as u16,
        local.minute() as u8,
        local.second(),
    )?)
}

/// The workbook: one sheet per table, Vietnamese headers, real dates in the
/// ward's zone, money as numbers with a đ format, frozen header, filters.
pub async fn workbook(app: &App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Vec<u8>> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy hh:mm");
    let money = Format::new().set_num_format("#,##0 \"đ\"");
    for which in [Which::Households, Which::Reports, Which::Pledges, Which::Notices, Which::Summary] {
        let sheet = sheet(app, &mut *conn, scope, which).await?;
        let ws = book.add_worksheet();
        ws.set_name(sheet.name)?;
        for (c, h) in sheet.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(r, c, t)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(r, c, *n as f64)?;
                    }
                    Cell::Money(n) => {
                        ws.write_number_with_format(r, c, *n as f64, &money)?;
                    }
                    Cell::Time(Some(t)) => {
                        ws.write_datetime_with_format(r, c, excel_time(*t, app.settings.timezone)?, &date)?;
                    }
                    Cell::Time(None) => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, sheet.rows.len() as u32, sheet.headers.len().saturating_sub(1) as u16)?;
        ws.autofit();
    }
    Ok(book.save_to_buffer()?)
}

/// One table as CSV (for the CLI).
pub fn csv(sheet: &Sheet, tz: chrono_tz::Tz, out: impl std::io::Write) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&sheet.headers)?;
    for row in &sheet.rows {
        w.write_record(row.iter().map(|cell| match cell {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) | Cell::Money(n) => n.to_string(),
            Cell::Time(Some(t)) => t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
            Cell::Time(None) => String::new(),
        }))?;
    }
    w.flush()?;
    Ok(())
}

/// `/xuatexcel`: private chat only; officials get the ward, leaders their
/// groups.
pub async fn command(app: &App, caller: &Caller, msg: &Incoming, out: &mut Replies) -> anyhow::Result<()> {
    if msg.chat_kind != ChatKind::Private {
        out.send(
            &msg.chat,
            "Tệp thống kê có thông tin cá nhân nên bot chỉ gửi trong tin nhắn riêng. Xin nhắn /xuatexcel cho bot.",
        );
        return Ok(());
    }
    let mut conn = app.db.acquire().await?;
    let Some(scope) = super::command::visible_scope(&mut conn, caller).await? else {
        out.send(&msg.chat, "Xin lỗi, chỉ tổ trưởng, tổ phó và cán bộ phường mới xuất được tệp thống kê.");
        return Ok(());
    };
    let bytes = workbook(app, &mut conn, &scope).await?;
    crate::audit::record(&mut conn, caller.id, "stats.export", "xlsx", None).await?;
    let day = app.clock.now().with_timezone(&app.settings.timezone).format("%Y-%m-%d");
    out.document(
        &msg.chat,
        bytes,
        &format!("thong-ke-{day}.xlsx"),
        Some("Tệp thống kê (Excel): hộ gia đình, phản ánh, ủng hộ, thông báo, tổng hợp.".into()),
    );
    Ok(())
}
