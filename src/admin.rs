//! `todanpho admin`: the ward's IT contact's door. It calls the same ward
//! actions as a chat's commands and buttons, as a person named by id, through
//! the command line: the audit row says `cli`, and the people concerned are
//! told on their platform through the reply outbox, which the running bot
//! sends within its scheduler's beat (see [`send_due`]).
//!
//! ```text
//! $ todanpho admin --as 1 pledge confirm P0004 --amount 450k
//! ✅ Đã ghi nhận P0004: đã nhận 450.000 đ.
//! (1 tin nhắn sẽ được bot gửi đi)
//! $ todanpho admin --as telegram:10001 household approve 12
//! Đã duyệt hộ Số 12, ngõ 41, Hoàng Quốc Việt — Nguyễn Văn An.
//! ```

use clap::Subcommand;

use crate::action::{told, Acted, Actor, Door};
use crate::app::App;
use crate::appoint::{self, actions::Grant};
use crate::campaign::{self, PledgeCode};
use crate::channel::{Channel, Replies, UserAddr};
use crate::db::Database;
use crate::domain::Money;
use crate::household;
use crate::outbox::JobOutbox;
use crate::refusal::{Refusal, Stop};
use crate::report;

/// What `todanpho admin` can do.
#[derive(Debug, Clone, Subcommand)]
pub enum Admin {
    /// A pledge's money.
    #[command(subcommand)]
    Pledge(PledgeAdmin),
    /// A household's registration.
    #[command(subcommand)]
    Household(HouseholdAdmin),
    /// A scene report's case.
    #[command(subcommand)]
    Report(ReportAdmin),
    /// Officials and leaders.
    #[command(subcommand)]
    Role(RoleAdmin),
}

#[derive(Debug, Clone, Subcommand)]
pub enum ReportAdmin {
    /// Move a case: tiepnhan, dangxuly, daxuly or khongxuly (which needs a
    /// reason).
    Move {
        /// The case's code (PA-000012).
        report: String,
        /// Where to: tiepnhan, dangxuly, daxuly, khongxuly.
        status: String,
        /// A note for the reporter; the reason, for khongxuly.
        reason: Vec<String>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum RoleAdmin {
    /// Make someone an official (--official) or the leader of a group
    /// (--leader-of <group id>).
    Grant {
        /// Whom: our user id, or telegram:<id> / zalo:<id>.
        whom: Who,
        #[command(flatten)]
        role: RoleArg,
    },
    /// Take a role away.
    Revoke {
        whom: Who,
        #[command(flatten)]
        role: RoleArg,
    },
}

#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct RoleArg {
    #[arg(long)]
    official: bool,
    /// The group's id (see /nhom).
    #[arg(long, value_name = "GROUP")]
    leader_of: Option<i64>,
}

impl RoleArg {
    fn grant(&self) -> Grant {
        match self.leader_of {
            Some(group) => Grant::Leader { group },
            None => Grant::Official,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum HouseholdAdmin {
    /// Approve a household waiting for review (its number, as in «#12»).
    Approve { household: i64 },
    /// Turn a household's registration down.
    Reject { household: i64 },
}

#[derive(Debug, Clone, Subcommand)]
pub enum PledgeAdmin {
    /// Confirm that a pledge's money was received (or, with --not-received,
    /// that it was not).
    Confirm {
        /// The pledge's code, as residents see it (P0004).
        pledge: String,
        /// The amount really received, when it differs (450k, 1tr5, 450.000).
        #[arg(long, conflicts_with = "not_received")]
        amount: Option<String>,
        #[arg(long)]
        not_received: bool,
    },
}

/// Who acts: our user id (`12`), or a platform account (`telegram:123456`,
/// `zalo:abc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    User(i64),
    Account(UserAddr),
}

impl std::str::FromStr for Who {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(id) = s.parse::<i64>() {
            return Ok(Who::User(id));
        }
        let (platform, id) = s.split_once(':').ok_or_else(|| format!("'{s}' is not a user id nor telegram:<id>"))?;
        let channel = Channel::parse(platform).ok_or_else(|| format!("'{platform}' is not telegram or zalo"))?;
        if id.is_empty() {
            return Err(format!("'{s}' names no account"));
        }
        Ok(Who::Account(UserAddr { channel, id: id.to_string() }))
    }
}

/// How an admin command ended.
#[derive(Debug)]
pub enum Ended {
    /// Done: what the person acting reads, and how many messages were
    /// queued for others.
    Done { text: String, queued: usize },
    /// Refused, with the same words a chat would show; nothing changed.
    Refused(Refusal),
}

/// Runs one admin command as `who`, in one transaction with the messages it
/// causes.
pub async fn run(app: &App, db: &Database, who: &Who, admin: Admin) -> anyhow::Result<Ended> {
    let mut tx = db.write().await?;
    let now = app.clock.now();
    let user = user_of(&mut tx, who, None).await?;
    let actor = Actor::new(user, Door::Cli, now);
    let acted: Acted<String> = match admin {
        Admin::Pledge(PledgeAdmin::Confirm { pledge, amount, not_received }) => {
            let Some(code) = PledgeCode::parse(&pledge) else {
                return Ok(Ended::Refused(Refusal::input(format!("«{pledge}» không phải mã ủng hộ (ví dụ P0004)."))));
            };
            let said = match (not_received, amount) {
                (true, _) => campaign::actions::Said::NotReceived,
                (false, None) => campaign::actions::Said::Received(None),
                (false, Some(typed)) => match Money::parse(&typed) {
                    Ok(m) => campaign::actions::Said::Received(Some(m)),
                    Err(_) => {
                        return Ok(Ended::Refused(Refusal::input(format!(
                            "Số tiền «{typed}» chưa đúng. Ví dụ: 500k, 1tr5, 1.500.000."
                        ))))
                    }
                },
            };
            campaign::actions::confirm(app, &mut tx, &actor, code, said).await.map(|d| d.map(|c| c.text()))
        }
        Admin::Household(HouseholdAdmin::Approve { household: id }) => {
            household::actions::approve(&mut tx, &actor, id).await.map(|d| d.map(|d| d.text()))
        }
        Admin::Household(HouseholdAdmin::Reject { household: id }) => {
            household::actions::reject(&mut tx, &actor, id).await.map(|d| d.map(|d| d.text()))
        }
        Admin::Report(ReportAdmin::Move { report, status, reason }) => {
            let Some(code) = report::ReportCode::parse(&report) else {
                return Ok(Ended::Refused(Refusal::input(format!(
                    "«{report}» không phải mã phản ánh (ví dụ PA-000012)."
                ))));
            };
            let Some(to) = report::Status::from_word(&status) else {
                return Ok(Ended::Refused(Refusal::input(format!(
                    "«{status}» không phải trạng thái. Chọn: tiepnhan, dangxuly, daxuly, khongxuly."
                ))));
            };
            let reason = reason.join(" ");
            let note = Some(reason.trim()).filter(|r| !r.is_empty());
            report::actions::move_report(app, &mut tx, &actor, code, to, note).await.map(|d| d.map(|m| m.text()))
        }
        Admin::Role(RoleAdmin::Grant { whom, role }) => {
            // Someone who has not written to the bot yet can be appointed
            // by their account, as `/phancong` does by a reply.
            let target = user_of(&mut tx, &whom, Some(now)).await?;
            appoint::actions::grant(app, &mut tx, &actor, target, role.grant()).await.map(|d| d.map(|a| a.text()))
        }
        Admin::Role(RoleAdmin::Revoke { whom, role }) => {
            let target = user_of(&mut tx, &whom, None).await?;
            appoint::actions::revoke(&mut tx, &actor, target, role.grant()).await.map(|d| d.map(|a| a.text()))
        }
    };
    let done = match acted {
        Ok(done) => done,
        // Dropping the transaction undoes whatever was written.
        Err(Stop::Refused(refusal)) => return Ok(Ended::Refused(refusal)),
        Err(Stop::Failed(e)) => return Err(e),
    };
    let mut out = Replies::default();
    told::render(&mut tx, done.told, &mut out).await?;
    let queued = crate::outbox::queue_beside(&mut tx, &out, actor.at).await?;
    tx.commit().await?;
    Ok(Ended::Done { text: done.outcome, queued })
}

/// The person `who` names; with `create_at`, an account not known yet is
/// added (at that time).
async fn user_of(
    conn: &mut sqlx::SqliteConnection,
    who: &Who,
    create_at: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<i64> {
    match (who, create_at) {
        (Who::User(id), _) => sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user has the id {id}")),
        (Who::Account(addr), Some(now)) => crate::roles::ensure_user(conn, addr, None, now).await,
        (Who::Account(addr), None) => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE channel = ? AND external_id = ?")
                .bind(addr.channel.as_str())
                .bind(&addr.id)
                .fetch_optional(conn)
                .await?
                .ok_or_else(|| anyhow::anyhow!("nobody is known as {}:{}", addr.channel.as_str(), addr.id))
        }
    }
}

/// The scheduler's part: what `todanpho admin` queued is sent by the running
/// bot, on its lane, like a job's own messages.
pub async fn send_due(_app: &App, db: &Database, outbox: &mut JobOutbox) -> anyhow::Result<()> {
    let n = outbox.adopt_beside(db).await?;
    if n > 0 {
        tracing::info!(replies = n, "messages queued by todanpho admin taken to be sent");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::actions::Filing;
    use crate::testing::Ward;

    /// Files a street light out in the ward's first group, as the resident.
    async fn filed(ward: &Ward) -> String {
        let filing = Filing {
            group: ward.group,
            category: "chieu_sang".into(),
            description: "Đèn đường trước số 12 hỏng".into(),
            place: crate::report::Place::None,
            photos: Vec::new(),
        };
        let mut tx = ward.tx().await;
        let done = crate::report::actions::file(&ward.app, &mut tx, &ward.actor(ward.resident), filing).await.unwrap();
        tx.commit().await.unwrap();
        done.outcome.code.to_string()
    }

    fn move_to(report: &str, status: &str, reason: &[&str]) -> Admin {
        Admin::Report(ReportAdmin::Move {
            report: report.into(),
            status: status.into(),
            reason: reason.iter().map(|w| w.to_string()).collect(),
        })
    }

    #[tokio::test]
    async fn a_case_is_moved_from_the_command_line_and_the_reporter_is_told_through_the_outbox() {
        let ward = Ward::new().await;
        let code = filed(&ward).await;
        let waiting = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM reply_outbox WHERE update_id = ?")
                .bind(crate::outbox::BESIDE)
                .fetch_one(&mut *ward.db.read().await.unwrap())
                .await
                .unwrap()
        };
        // Another group's leader may not: nothing is queued or written.
        let other = Who::User(ward.other_leader);
        let refused = run(&ward.app, &ward.db, &other, move_to(&code, "tiepnhan", &[])).await.unwrap();
        assert!(matches!(refused, Ended::Refused(Refusal::NoRight { .. })), "{refused:?}");
        assert_eq!(waiting().await, 0);
        // A decline needs its reason, the same refusal as in the chat.
        let leader = Who::User(ward.leader);
        let no_reason = run(&ward.app, &ward.db, &leader, move_to(&code, "khongxuly", &[])).await.unwrap();
        assert!(matches!(no_reason, Ended::Refused(Refusal::Input(_))), "{no_reason:?}");
        let moved = run(&ward.app, &ward.db, &leader, move_to(&code, "khongxuly", &["Đã", "báo", "điện", "lực"]))
            .await
            .unwrap();
        let Ended::Done { text, queued } = moved else { panic!("{moved:?}") };
        assert!(text.contains("không xử lý"), "{text}");
        assert!(queued >= 1, "the reporter is told");
        assert_eq!(waiting().await as usize, queued);
        let audit = ward.audit().await;
        let row = audit.iter().find(|r| r.1 == "report.status").expect("the move is audited");
        assert_eq!((row.0, row.4.as_deref()), (Some(ward.leader), Some("cli")));
        // A status nobody types is refused before anything is read.
        let junk = run(&ward.app, &ward.db, &leader, move_to(&code, "xong roi", &[])).await.unwrap();
        assert!(matches!(junk, Ended::Refused(Refusal::Input(_))), "{junk:?}");
    }

    #[test]
    fn who_is_named_by_id_or_account() {
        assert_eq!("12".parse::<Who>(), Ok(Who::User(12)));
        assert_eq!(
            "telegram:555".parse::<Who>(),
            Ok(Who::Account(UserAddr { channel: Channel::Telegram, id: "555".into() }))
        );
        assert!("facebook:1".parse::<Who>().is_err());
        assert!("zalo:".parse::<Who>().is_err());
        assert!("bác Ba".parse::<Who>().is_err());
    }
}
