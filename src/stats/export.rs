//! The ward's (or a leader's groups') records as tables: an Excel workbook
//! for `/xuatexcel`, CSV for `todanpho export <sheet> --format csv`. Both
//! read the same `Sheet`s, so the two never disagree. Long on purpose:
//! each sheet's columns stand beside the one writer both formats use.

use crate::refusal::{Handled, Refusal};
use crate::turn::Turn;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::SqliteConnection;

use super::sinks::XlsxSink;
pub use super::sinks::{Cell, CsvSink, Sink};
use super::{compute, Period, Scope};
use crate::app::App;
use crate::domain::Percent;
use crate::household::Circumstance;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Households,
    Reports,
    Pledges,
    Notices,
    Summary,
    Visits,
    Digital,
    Consultations,
}

impl Which {
    pub const ALL: [Which; 8] = [
        Which::Households,
        Which::Reports,
        Which::Pledges,
        Which::Notices,
        Which::Summary,
        Which::Visits,
        Which::Digital,
        Which::Consultations,
    ];
}

fn scope_json(scope: &Scope) -> anyhow::Result<Option<String>> {
    super::scope_json(scope)
}

/// Streams rows of a query through `convert` into the sink.
async fn stream<'c, R, F>(
    query: sqlx::query::QueryAs<'c, sqlx::Sqlite, R, sqlx::sqlite::SqliteArguments<'c>>,
    conn: &'c mut SqliteConnection,
    sink: &mut dyn Sink,
    mut convert: F,
) -> anyhow::Result<()>
where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin + 'c,
    F: FnMut(R) -> Vec<Cell> + Send,
{
    let mut rows = query.fetch(conn);
    while let Some(row) = rows.try_next().await? {
        sink.row(&convert(row))?;
    }
    Ok(())
}

const HOUSEHOLD_HEADERS: &[&str] = &[
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
];

type HouseholdRow = (
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

fn household_cells(row: HouseholdRow) -> Vec<Cell> {
    let (id, group, head, number, lane, street, phone, members, circ, smart, epay, vneid, status, created) = row;
    let address = crate::domain::house_address(&number, lane.as_deref(), &street);
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
}

type ReportRow = (
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

fn report_cells(app: &App, row: ReportRow) -> Vec<Cell> {
    let (id, group, category, description, address, lat, lon, status, created, closed, rating) = row;
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
}

type PledgeRow = (i64, i64, String, String, bool, String, i64, String, Option<i64>, DateTime<Utc>);

fn pledge_cells(row: PledgeRow) -> Vec<Cell> {
    let (id, cid, title, donor, anonymous, method, amount, status, received, created) = row;
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
}

type NoticeRow = (i64, String, String, Option<DateTime<Utc>>, i64, i64);

fn notice_cells(row: NoticeRow) -> Vec<Cell> {
    let (id, text, status, queued, sent, acks) = row;
    vec![
        Cell::Text(format!("TB{id}")),
        Cell::Text(text),
        Cell::Text(if status == "done" { "Đã gửi" } else { "Đang gửi / hẹn giờ" }.into()),
        Cell::Time(queued),
        Cell::Int(sent),
        Cell::Int(acks),
    ]
}

async fn summary_rows(app: &App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Vec<Vec<Cell>>> {
    let f = compute(app, conn, scope, Period::last_days(app.clock.now(), 30)).await?;
    let approved = f.approved();
    let mut rows = vec![
        vec![Cell::Text("Hộ đã duyệt".into()), Cell::Int(approved)],
        vec![Cell::Text("Hộ chờ duyệt".into()), Cell::Int(f.groups.iter().map(|g| g.pending).sum())],
        vec![Cell::Text("Nhân khẩu".into()), Cell::Int(f.groups.iter().map(|g| g.people).sum())],
        vec![
            Cell::Text("% hộ có người dùng ĐTTM".into()),
            Cell::Percent(Percent::of(f.groups.iter().map(|g| g.smartphone).sum(), approved)),
        ],
        vec![
            Cell::Text("% hộ có thanh toán điện tử".into()),
            Cell::Percent(Percent::of(f.groups.iter().map(|g| g.epayment).sum(), approved)),
        ],
        vec![
            Cell::Text("% hộ có VNeID mức 2".into()),
            Cell::Percent(Percent::of(f.groups.iter().map(|g| g.vneid).sum(), approved)),
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
    Ok(rows)
}

/// Writes one table into the sink, row by row.
pub async fn write(
    app: &App,
    conn: &mut SqliteConnection,
    scope: &Scope,
    which: Which,
    sink: &mut dyn Sink,
) -> anyhow::Result<()> {
    let json = scope_json(scope)?;
    match which {
        Which::Households => {
            sink.begin("Hộ gia đình", HOUSEHOLD_HEADERS)?;
            let q = sqlx::query_as::<_, HouseholdRow>(
                "SELECT h.id, g.name, h.head_name, h.house_number, h.lane, h.street, h.phone, h.members,
                        (SELECT group_concat(circumstance, ',') FROM household_circumstances c WHERE c.household_id = h.id),
                        h.smartphone_users, h.has_epayment, h.vneid_level2, h.status, h.created_at
                 FROM households h JOIN groups g ON g.id = h.group_id
                 WHERE ? IS NULL OR h.group_id IN (SELECT value FROM json_each(?)) ORDER BY h.id",
            )
            .bind(json.clone())
            .bind(json);
            stream(q, conn, sink, household_cells).await?;
        }
        Which::Reports => {
            sink.begin(
                "Phản ánh",
                &["Mã", "Tổ", "Loại việc", "Nội dung", "Vị trí", "Trạng thái", "Ngày gửi", "Ngày đóng", "Đánh giá"],
            )?;
            let q = sqlx::query_as::<_, ReportRow>(
                "SELECT r.id, g.name, r.category, r.description, r.address, r.latitude, r.longitude, r.status, r.created_at, r.closed_at, r.rating
                 FROM reports r JOIN groups g ON g.id = r.group_id
                 WHERE ? IS NULL OR r.group_id IN (SELECT value FROM json_each(?)) ORDER BY r.id",
            )
            .bind(json.clone())
            .bind(json);
            stream(q, conn, sink, |r| report_cells(app, r)).await?;
        }
        Which::Pledges => {
            sink.begin(
                "Ủng hộ",
                &[
                    "Mã",
                    "Cuộc vận động",
                    "Người ủng hộ",
                    "Cách",
                    "Số tiền đăng ký",
                    "Trạng thái",
                    "Số tiền đã nhận",
                    "Ngày",
                ],
            )?;
            let q = sqlx::query_as::<_, PledgeRow>(
                "SELECT p.id, c.id, c.title, p.donor_name, p.anonymous, p.method, p.amount, p.status, p.received_amount, p.created_at
                 FROM pledges p JOIN campaigns c ON c.id = p.campaign_id
                 WHERE ? IS NULL OR EXISTS (SELECT 1 FROM campaign_groups cg WHERE cg.campaign_id = c.id
                       AND cg.group_id IN (SELECT value FROM json_each(?)))
                 ORDER BY p.id",
            )
            .bind(json.clone())
            .bind(json);
            stream(q, conn, sink, pledge_cells).await?;
        }
        Which::Notices => {
            sink.begin("Thông báo", &["Mã", "Nội dung", "Trạng thái", "Gửi lúc", "Số nhóm đã gửi", "Số người đã xem"])?;
            let q = sqlx::query_as::<_, NoticeRow>(
                "SELECT n.id, n.text, n.status, n.queued_at,
                        (SELECT COUNT(*) FROM notice_deliveries d WHERE d.notice_id = n.id AND d.status = 'sent'),
                        (SELECT COUNT(*) FROM notice_acks a WHERE a.notice_id = n.id)
                 FROM notices n
                 WHERE n.status IN ('queued', 'done') AND (? IS NULL OR EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id
                       AND t.group_id IN (SELECT value FROM json_each(?))))
                 ORDER BY n.id",
            )
            .bind(json.clone())
            .bind(json);
            stream(q, conn, sink, notice_cells).await?;
        }
        Which::Summary => {
            sink.begin("Tổng hợp", &["Chỉ tiêu", "Giá trị"])?;
            for row in summary_rows(app, conn, scope).await? {
                sink.row(&row)?;
            }
        }
        Which::Visits => super::visits::visits(conn, scope, sink).await?,
        Which::Digital => super::visits::by_group(app, conn, scope, sink).await?,
        // Several sheets, each ended there.
        Which::Consultations => return super::consultations::sheets(conn, scope, sink).await,
    }
    sink.end()
}

/// The workbook: one sheet per table, Vietnamese headers, real dates in the
/// ward's zone, money as numbers with a đ format, frozen header, filters.
pub async fn workbook(app: &App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<Vec<u8>> {
    let mut sink = XlsxSink::new(app.settings.timezone);
    for which in Which::ALL {
        write(app, &mut *conn, scope, which, &mut sink).await?;
    }
    sink.finish()
}

/// `/xuatexcel`: private chat only; officials get the ward, leaders their
/// groups.
pub async fn command(turn: &mut Turn) -> Handled {
    let Turn { app, caller, msg, db, out } = turn;
    let mut conn = db.read().await?;
    let Some(scope) = super::command::visible_scope(&mut conn, caller).await? else {
        return Err(Refusal::OnlyFor {
            who: "tổ trưởng, tổ phó và cán bộ phường", to: "xuất được tệp thống kê"
        }
        .into());
    };
    let bytes = workbook(app, &mut conn, &scope).await?;
    drop(conn);
    let mut tx = db.write().await?;
    crate::audit::record(
        &mut tx,
        &crate::action::Actor::new(caller.id, caller.addr.channel, app.clock.now()),
        "stats.export",
        "xlsx",
        None,
    )
    .await?;
    let day = app.clock.now().with_timezone(&app.settings.timezone).format("%Y-%m-%d");
    out.document(
        &msg.chat,
        bytes,
        &format!("thong-ke-{day}.xlsx"),
        Some(
            "Tệp thống kê (Excel): hộ gia đình, phản ánh, ủng hộ, thông báo, tổng hợp, thăm hộ, công dân số theo tổ, lấy ý kiến."
                .into(),
        ),
    );
    Ok(())
}
