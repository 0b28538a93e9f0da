//! Notices to residents on Zalo. A bot account on Zalo may not join
//! groups, so a notice reaches each Zalo household of the target groups in
//! private, from the same durable outbox as Telegram's group chats (rows in
//! `notice_deliveries` with channel `zalo`, written when the notice is
//! queued), at Zalo's configured pace. "Đã xem" is answered by typing
//! `đã xem` (or `1` when no question is in hand: a number always answers
//! the question the resident is in the middle of, see `menu`); `dừng nhận`
//! (with or without accents) stops them.

use std::time::Duration;

use tokio::sync::watch;

use crate::app::App;
use crate::channel::{Channel, Replies};
use crate::db::Database;
use crate::notice::{outbox, repo};

/// How often the outbox is looked at when nobody rings.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Drains Zalo deliveries until `stop` turns true (the one in hand is
/// finished and recorded), through the same sender (and so at the same
/// pace) as every other message to Zalo.
pub async fn run(app: App, db: Database, sender: std::sync::Arc<super::ZaloSender>, mut stop: watch::Receiver<bool>) {
    let reset = async {
        let mut tx = db.write().await?;
        repo::reset_sending(&mut tx, Channel::Zalo).await?;
        tx.commit().await?;
        anyhow::Ok(())
    };
    if let Err(e) = reset.await {
        tracing::error!(error = %format!("{e:#}"), "cannot take back Zalo notices in flight");
    }
    while !*stop.borrow() {
        match drain(&app, &db, &sender, &stop).await {
            Ok(0) => {
                tokio::select! {
                    _ = app.outbox.notified() => {}
                    _ = tokio::time::sleep(LOOK_EVERY) => {}
                    _ = stop.changed() => {}
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "sending notices to Zalo failed");
                tokio::time::sleep(LOOK_EVERY).await;
            }
        }
    }
}

/// Sends what is due, one at a time (the sender keeps Zalo's pace).
/// Returns how many were tried.
async fn drain(
    app: &App,
    db: &Database,
    sender: &super::ZaloSender,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<usize> {
    let due = {
        let mut conn = db.read().await?;
        repo::due(&mut conn, Channel::Zalo, app.clock.now(), 50).await?
    };
    for delivery in &due {
        if *stop.borrow() {
            break;
        }
        {
            let mut tx = db.write().await?;
            let claimed = repo::mark_sending(&mut tx, delivery.id).await?;
            tx.commit().await?;
            if !claimed {
                continue;
            }
        }
        let message = {
            let mut conn = db.read().await?;
            match repo::get(&mut conn, delivery.notice).await? {
                Some(notice) => Some(outbox::group_message(&mut conn, &notice).await?),
                None => None,
            }
        };
        // One part per turn, as on Telegram: the parts already sent are not
        // sent again after a restart.
        let (sent, last) = match message {
            Some((text, keyboard)) => {
                let text = format!("{text}\n\n(Không muốn nhận thông báo qua Zalo nữa, bác gõ: dừng nhận)");
                let parts = outbox::parts(&text, None, keyboard, &crate::fit::ZALO);
                let index = usize::try_from(delivery.parts_sent).unwrap_or(0).min(parts.len() - 1);
                let part = &parts[index];
                (sender.aside(&delivery.chat, &part.text, &part.keyboard).await, index + 1 == parts.len())
            }
            None => (false, true),
        };
        let mut replies = Replies::default();
        {
            let mut tx = db.write().await?;
            match (sent, last) {
                (true, false) => repo::mark_part_sent(&mut tx, delivery.id, "").await?,
                (true, true) => repo::mark_sent(&mut tx, delivery.id, "", app.clock.now()).await?,
                (false, _) => repo::mark_failed(&mut tx, delivery.id, "Zalo không nhận tin").await?,
            }
            if !sent || last {
                outbox::after_delivery(app, &mut tx, delivery.notice, &mut replies).await?;
            }
            tx.commit().await?;
        }
        for action in replies.actions {
            app.senders.deliver(Channel::Zalo, action).await;
        }
    }
    Ok(due.len())
}
