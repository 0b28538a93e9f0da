//! What a platform gives the intake: its updates, read from their stored
//! payloads, and what each one is to the bot. Everything else (recording,
//! replay, per-chat order, marks) is the intake's, the same for all.

use futures_util::future::BoxFuture;

use crate::channel::{Channel, ChatAddr, Incoming};
use crate::db::Database;

pub trait Platform: Send + Sync + 'static {
    /// An update as the platform sends it.
    type Update: Send + 'static;

    fn channel(&self) -> Channel;

    /// Reads an update back from the payload the inbox stored.
    fn parse(&self, payload: &str) -> Result<Self::Update, String>;

    /// The chat whose updates are handled one after another, in the order
    /// they came (None: in any order).
    fn chat_of(&self, update: &Self::Update) -> Option<String>;

    /// What the update is to the bot. Called in its chat's turn, after the
    /// chat's earlier updates are handled (Zalo reads the options it offered
    /// the chat, which the update before may have changed).
    fn read<'a>(&'a self, db: &'a Database, update: Self::Update) -> BoxFuture<'a, anyhow::Result<Inbound>>;
}

/// What an update is, on any platform.
#[derive(Clone, Debug)]
pub enum Inbound {
    /// A command, a button press, a private message: for the handlers.
    Incoming(Incoming),
    /// A group chat now has another id (a Telegram group became a
    /// supergroup).
    Moved { from: ChatAddr, to: ChatAddr },
    /// A command sent under a channel's or the group's own name: there is
    /// nobody to answer but the group.
    Anonymous(ChatAddr),
    /// Not the bot's business: marked handled and left.
    Other,
}
