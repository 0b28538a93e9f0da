//! Incoming updates, from arrival to their replies, for every platform.
//!
//! A platform may deliver the same update again (Telegram does when the
//! bot did not confirm its offset); recording every update in the inbox,
//! with its payload, before confirming it means each one is handled once,
//! and one taken in before a crash is handled after it.
//!
//! - `inbox` — recording updates, finding the unhandled, forgetting old ones.
//! - `rows` — the statements that end updates and remove sent replies.
//! - `outbox` — an update's replies committed with it, and those left unsent.
//! - `marks` — the "handled" marks and endings, written in group commits,
//!   and the logs of replies sent.
//! - `process` — one update's turn: handler, transaction, replies.
//! - `platform` — what a platform gives: its updates, read into [`Inbound`].
//! - `chats` — one platform's intake ([`Intake`]): record, replay, one chat
//!   at a time, drained on shutdown.
//! - `route` — the handler tree every platform's updates go through.

mod chats;
mod inbox;
mod marks;
mod outbox;
mod platform;
mod process;
mod route;
mod rows;

pub use chats::Intake;
pub use platform::{Inbound, Platform};

pub use inbox::{forget_handled, record_batch, unhandled};
pub use marks::settle_sent_logs;
pub use marks::Marks;
pub use outbox::{commit_with_replies, send_queued, unsent_replies};
pub use process::{describe, process, send_unsent_replies};

/// Resolves once `stop` turns true (or its sender is gone): when a
/// platform's receiving is to end.
pub async fn stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests;
