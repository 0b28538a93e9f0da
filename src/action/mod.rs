//! Ward actions that any door can call: a chat's command or button, the
//! office web desk, a scheduled job, `todanpho admin` on the command line.
//!
//! An action is a function that takes the write transaction, an [`Actor`]
//! (who acts, through which door, at what time on the bot's clock) and
//! typed input. It checks the actor's rights and the record's state, writes
//! the rows and the audit row (which names the door), and returns a typed
//! outcome with the notifications the change causes ([`Done`]), or a
//! [`Refusal`](crate::refusal::Refusal). It never renders for a platform:
//! notifications are plain values ([`Notification`]) that the door turns
//! into messages ([`told::render`]) and queues in the same transaction, so
//! nobody is told of a change that did not commit and nothing committed
//! goes untold. No action imports a platform, the intake or the turn.

pub mod told;

use chrono::{DateTime, Utc};

use crate::channel::Channel;
use crate::refusal::Stop;
pub use told::{Choice, Media, Notification, To};

/// Through which door an action came: recorded with its audit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    Telegram,
    Zalo,
    /// The office web desk.
    Web,
    /// A scheduled job of the bot's own.
    Job,
    /// `todanpho admin` on the command line.
    Cli,
}

impl Door {
    pub fn as_str(self) -> &'static str {
        match self {
            Door::Telegram => "telegram",
            Door::Zalo => "zalo",
            Door::Web => "web",
            Door::Job => "job",
            Door::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Door::Telegram, Door::Zalo, Door::Web, Door::Job, Door::Cli].into_iter().find(|d| d.as_str() == s)
    }
}

/// A chat platform is a door.
impl From<Channel> for Door {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Telegram => Door::Telegram,
            Channel::Zalo => Door::Zalo,
        }
    }
}

/// Who acts (our own user id), through which door, and when (the bot's
/// clock: an update's time, a job's run, the command line's start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user: i64,
    pub door: Door,
    pub at: DateTime<Utc>,
}

impl Actor {
    pub fn new(user: i64, door: impl Into<Door>, at: DateTime<Utc>) -> Self {
        Self { user, door: door.into(), at }
    }
}

/// What an action did: its typed outcome and whom it tells of it.
#[must_use = "the notifications must be queued with the change"]
#[derive(Debug)]
pub struct Done<T> {
    pub outcome: T,
    pub told: Vec<Notification>,
}

impl<T> Done<T> {
    pub fn new(outcome: T, told: Vec<Notification>) -> Self {
        Self { outcome, told }
    }

    /// An outcome that tells nobody.
    pub fn quiet(outcome: T) -> Self {
        Self { outcome, told: Vec::new() }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Done<U> {
        Done { outcome: f(self.outcome), told: self.told }
    }
}

/// What an action returns: done, refused (a [`Refusal`](crate::refusal::Refusal)
/// the door shows in its own way) or failed.
pub type Acted<T> = Result<Done<T>, Stop>;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::doc_check::rust_files;

    /// Every file that holds an action (a function returning `Acted`)
    /// imports no door: a platform, the intake or a chat's turn. Its tests
    /// aside.
    #[test]
    fn no_action_knows_its_door() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        let mut found = 0;
        let mut wrong = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a file");
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            if !code.contains("-> Acted<") {
                continue;
            }
            found += 1;
            for door in ["crate::turn", "crate::telegram", "crate::zalo", "crate::intake", "teloxide"] {
                if code.contains(door) {
                    wrong.push(format!("{} uses {door}", file.strip_prefix(&src).unwrap_or(&file).display()));
                }
            }
        }
        assert!(found > 0, "the actions are found");
        assert!(wrong.is_empty(), "actions that know their door:\n{}", wrong.join("\n"));
    }
}
