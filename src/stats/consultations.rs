//! Consultations in the export: a sheet per consultation with each group's
//! participation and, where the result is counted (an open ballot, or a
//! secret one once closed), each option's count in the groups with at
//! least ten answers; for open ballots a sheet of each household's answers;
//! the "Ý kiến khác" texts on a sheet of their own.

use sqlx::SqliteConnection;

use super::sinks::{Cell, Sink};
use super::Scope;
use crate::consultation::{figures, repo, Ballot, Status, GROUP_RESULT_MIN};

/// At most this many consultations, the latest: three sheets each.
const LATEST: usize = 20;

pub async fn sheets(conn: &mut SqliteConnection, scope: &Scope, sink: &mut dyn Sink) -> anyhow::Result<()> {
    let list = repo::reaching(&mut *conn, scope.as_deref(), &[Status::Open, Status::Closed]).await?;
    if list.is_empty() {
        sink.begin("Lấy ý kiến", &["Chưa có cuộc lấy ý kiến nào"])?;
        return sink.end();
    }
    for c in list.into_iter().take(LATEST) {
        let counted = c.status == Status::Closed || c.ballot == Ballot::Open;
        let all = figures::turnout(&mut *conn, &c, None).await?;
        let tally = if counted { figures::tally(&mut *conn, &c).await? } else { Vec::new() };
        let mut headers = vec!["Tổ", "Đã trả lời", "Đã đăng ký", "Dự kiến (hộ)"];
        headers.extend(c.options.iter().map(String::as_str));
        let name = c.code.to_string();
        sink.begin(&name, &headers)?;
        let count = |group: Option<i64>, option: usize| -> i64 {
            tally.iter().filter(|(g, o, _)| *o == option && group.is_none_or(|x| x == *g)).map(|(_, _, n)| n).sum()
        };
        for t in all.iter().filter(|t| scope.as_ref().is_none_or(|s| s.contains(&t.group_id))) {
            let mut row = vec![
                Cell::Text(t.name.clone()),
                Cell::Int(t.answered),
                Cell::Int(t.registered),
                t.expected.map_or(Cell::Text(String::new()), Cell::Int),
            ];
            let answers: i64 = (0..c.options.len()).map(|o| count(Some(t.group_id), o)).sum();
            for o in 0..c.options.len() {
                row.push(if counted && answers >= GROUP_RESULT_MIN {
                    Cell::Int(count(Some(t.group_id), o))
                } else {
                    Cell::Text(String::new())
                });
            }
            sink.row(&row)?;
        }
        let mut total = vec![
            Cell::Text(format!("Tất cả các tổ được hỏi — {}", c.question)),
            Cell::Int(all.iter().map(|t| t.answered).sum()),
            Cell::Int(all.iter().map(|t| t.registered).sum()),
            Cell::Text(String::new()),
        ];
        for o in 0..c.options.len() {
            total.push(if counted {
                Cell::Int(count(None, o))
            } else {
                Cell::Text("kín đến khi kết thúc".into())
            });
        }
        sink.row(&total)?;
        sink.end()?;
        if let Some(rows) = figures::open_answers(&mut *conn, &c, scope.as_deref()).await? {
            sink.begin(
                &format!("{name} từng hộ"),
                &[
                    "Hộ",
                    "Tổ",
                    "Địa chỉ",
                    "Chủ hộ",
                    "Người trả lời",
                    "Lựa chọn",
                    "Ý kiến khác",
                    "Cách",
                    "Người ghi phiếu giấy",
                    "Lúc",
                    "Còn hiệu lực",
                ],
            )?;
            for r in rows {
                sink.row(&[
                    Cell::Int(r.household),
                    Cell::Text(r.group),
                    Cell::Text(crate::domain::house_address(&r.house_number, r.lane.as_deref(), &r.street)),
                    Cell::Text(r.head_name),
                    Cell::Text(r.person.unwrap_or_default()),
                    Cell::Text(usize::try_from(r.option).ok().and_then(|o| c.option(o)).unwrap_or("?").to_string()),
                    Cell::Text(r.other_text.unwrap_or_default()),
                    Cell::Text(if r.via == "paper" { "phiếu giấy" } else { "qua bot" }.into()),
                    Cell::Text(r.recorded_by.unwrap_or_default()),
                    Cell::Time(Some(r.at)),
                    Cell::Text(if r.current { "có" } else { "đã thay" }.into()),
                ])?;
            }
            sink.end()?;
        }
        if counted {
            let names: Vec<&str> = all
                .iter()
                .filter(|t| scope.as_ref().is_none_or(|s| s.contains(&t.group_id)))
                .map(|t| t.name.as_str())
                .collect();
            let others: Vec<(String, String)> = figures::other_texts(&mut *conn, &c)
                .await?
                .into_iter()
                .filter(|(g, _)| names.contains(&g.as_str()))
                .collect();
            if !others.is_empty() {
                sink.begin(&format!("{name} ý kiến khác"), &["Tổ", "Ý kiến"])?;
                for (group, text) in others {
                    sink.row(&[Cell::Text(group), Cell::Text(text)])?;
                }
                sink.end()?;
            }
        }
    }
    Ok(())
}

/// `/thongke`'s lines: the latest consultations with their participation
/// (no shares: `/ketquaykien` has them, with its rules).
pub async fn summary(app: &crate::app::App, conn: &mut SqliteConnection, scope: &Scope) -> anyhow::Result<String> {
    let list = repo::reaching(&mut *conn, scope.as_deref(), &[Status::Open, Status::Closed]).await?;
    if list.is_empty() {
        return Ok(String::new());
    }
    let mut s = String::from("\n\n🗳 <b>Lấy ý kiến</b> (chi tiết: /ketquaykien):");
    for c in list.into_iter().take(5) {
        let turnout = figures::turnout(&mut *conn, &c, scope.as_deref()).await?;
        let (answered, registered) =
            (turnout.iter().map(|t| t.answered).sum::<i64>(), turnout.iter().map(|t| t.registered).sum::<i64>());
        let state = match c.status {
            Status::Open => format!("đang mở đến {}", app.settings.show_time(c.closes_at)),
            _ => format!("đã kết thúc lúc {}", app.settings.show_time(c.ended_at())),
        };
        s.push_str(&format!(
            "\n• {} ({state}): {answered}/{registered} {} đã cho ý kiến ({})",
            c.code,
            c.unit.noun(),
            crate::domain::Percent::of(answered, registered)
        ));
    }
    Ok(s)
}
