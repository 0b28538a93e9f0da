//! The reply outbox: an update's replies are committed with it, sent, then
//! removed; those a crash left unsent are sent at the restart.

use crate::app::App;
use crate::channel::menus::Kept;
use crate::channel::{Action, Channel};
use crate::db::{Batch, Database, Written};

use super::marks::Marks;
use super::rows::{ending_statements, remove_replies, Ending};

/// Ends an update that changed something: its "handled" mark, its replies
/// and what they leave in chats without buttons (`menus`, see
/// [`crate::channel::menus::kept`]) go into the update's transaction,
/// which is then committed.
/// Returns the replies with their outbox rows, to be sent and then removed
/// with [`Marks::sent`]. An update that only deferred rows (most dialogue
/// answers) ends together with the others ending at the same moment: one
/// turn at the writer for all of them.
pub async fn commit_with_replies(
    marks: &Marks,
    written: Written,
    channel: Channel,
    update_id: &str,
    actions: Vec<Action>,
    refused: Option<&'static str>,
    menus: Vec<Kept>,
) -> anyhow::Result<Vec<(i64, Action)>> {
    let replies = actions.iter().map(serde_json::to_string).collect::<Result<Vec<_>, _>>()?;
    let ending = Ending { channel, update_id: update_id.to_string(), replies, refused, menus };
    let mut ids = match written {
        Written::Rows(rows) => marks.end(rows, ending).await?,
        // The update holds its turn at the writer: its ending goes there.
        Written::Open(mut tx) => {
            let mut last = Batch::default();
            ending_statements(std::slice::from_ref(&ending), marks.now(), &mut last);
            last.push(crate::db::END_TURN);
            let ids = last.fetch_ids(&mut tx).await?;
            tx.commit_released().await?;
            ids
        }
    };
    anyhow::ensure!(ids.len() == actions.len(), "{} replies queued as {} rows", actions.len(), ids.len());
    // Row ids grow in the order the rows were inserted, which is the order
    // the replies are to be sent in.
    ids.sort_unstable();
    Ok(ids.into_iter().zip(actions).collect())
}

/// Replies committed but not sent when the process stopped, oldest first.
/// (Those the sent logs named were removed at start-up: see
/// [`settle_sent_logs`](super::settle_sent_logs).) One that cannot be read any more is dropped with
/// an error in the log.
pub async fn unsent_replies(db: &Database, channel: Channel) -> anyhow::Result<Vec<(i64, Action)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, action FROM reply_outbox WHERE channel = ? ORDER BY id")
        .bind(channel.as_str())
        .fetch_all(&mut *db.read().await?)
        .await?;
    let mut replies = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    for (id, action) in rows {
        match serde_json::from_str(&action) {
            Ok(action) => replies.push((id, action)),
            Err(e) => {
                tracing::error!(reply = id, error = %e, "a stored reply cannot be read; dropped");
                unreadable.push(id);
            }
        }
    }
    remove_replies(db, &unreadable).await?;
    Ok(replies)
}

/// Sends replies committed in the outbox on the lane `origin` (an update's
/// or a job's), in order, each marked sent the moment its request ends:
/// the one outgoing path of everything committed, whoever committed it.
pub async fn send_queued(app: &App, marks: &Marks, origin: Channel, queued: crate::outbox::Queued) {
    for (id, action) in queued {
        app.senders.deliver(origin, action).await;
        marks.sent(id);
    }
}
