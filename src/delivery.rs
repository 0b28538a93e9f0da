//! Carrying actions out on the platform each one is for. A reply usually
//! goes back where its update came from, but not always: a leader's
//! decision on Telegram is told to a resident who uses Zalo.

use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;

use crate::channel::{Action, Channel};

/// One platform's way of carrying out actions.
pub trait Deliver: Send + Sync {
    /// Carries the action out, trying again where the failure is the
    /// platform's; false if it was given up.
    fn deliver(&self, action: Action) -> BoxFuture<'_, bool>;
}

/// The senders of the platforms this process runs, set as each starts.
#[derive(Default)]
pub struct Senders {
    telegram: OnceLock<Arc<dyn Deliver>>,
    zalo: OnceLock<Arc<dyn Deliver>>,
}

impl Senders {
    pub fn set(&self, channel: Channel, sender: Arc<dyn Deliver>) {
        if self.slot(channel).set(sender).is_err() {
            tracing::warn!(channel = channel.as_str(), "a sender for this platform was already set");
        }
    }

    /// Whether this platform's sender is set up.
    pub fn ready(&self, channel: Channel) -> bool {
        self.slot(channel).get().is_some()
    }

    fn slot(&self, channel: Channel) -> &OnceLock<Arc<dyn Deliver>> {
        match channel {
            Channel::Telegram => &self.telegram,
            Channel::Zalo => &self.zalo,
        }
    }

    /// Carries `action` out on the platform of the chat it goes to; an
    /// acknowledgement of a button goes back to where the press came from.
    pub async fn deliver(&self, origin: Channel, action: Action) -> bool {
        let channel = action.chat().map(|c| c.channel).unwrap_or(origin);
        match self.slot(channel).get() {
            Some(sender) => sender.deliver(action).await,
            None => {
                tracing::warn!(channel = channel.as_str(), "this platform is not running; a message was not sent");
                false
            }
        }
    }
}
