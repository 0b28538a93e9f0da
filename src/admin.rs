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
//! ```

use clap::Subcommand;

use crate::action::{told, Acted, Actor, Door};
use crate::app::App;
use crate::campaign::{self, PledgeCode};
use crate::channel::{Channel, Replies, UserAddr};
use crate::db::Database;
use crate::domain::Money;
use crate::outbox::JobOutbox;
use crate::refusal::{Refusal, Stop};

/// What `todanpho admin` can do.
#[derive(Debug, Clone, Subcommand)]
pub enum Admin {
    /// A pledge's money.
    #[command(subcommand)]
    Pledge(PledgeAdmin),
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
    let user = match who {
        Who::User(id) => sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no user has the id {id}"))?,
        Who::Account(addr) => {
            sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE channel = ? AND external_id = ?")
                .bind(addr.channel.as_str())
                .bind(&addr.id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| anyhow::anyhow!("nobody is known as {}:{}", addr.channel.as_str(), addr.id))?
        }
    };
    let actor = Actor::new(user, Door::Cli, app.clock.now());
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
