//! When each platform last answered the bot: a successful poll, or (for a
//! webhook, which a quiet ward may leave silent for hours) a periodic
//! probe. `/healthz` reads it (see `ops`).

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::channel::Channel;

#[derive(Default)]
pub struct Health {
    contacts: Mutex<Vec<(Channel, DateTime<Utc>)>>,
}

impl Health {
    /// `channel` answered a request at `at`.
    pub fn answered(&self, channel: Channel, at: DateTime<Utc>) {
        let Ok(mut contacts) = self.contacts.lock() else { return };
        match contacts.iter_mut().find(|(c, _)| *c == channel) {
            Some((_, last)) => *last = at,
            None => contacts.push((channel, at)),
        }
    }

    /// When `channel` last answered, if it has since the process started.
    pub fn last_answer(&self, channel: Channel) -> Option<DateTime<Utc>> {
        self.contacts.lock().ok()?.iter().find(|(c, _)| *c == channel).map(|(_, at)| *at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_answer_of_each_platform_is_kept() {
        let health = Health::default();
        let at = |s: i64| DateTime::from_timestamp(s, 0).unwrap();
        assert_eq!(health.last_answer(Channel::Telegram), None);
        health.answered(Channel::Telegram, at(10));
        health.answered(Channel::Zalo, at(20));
        health.answered(Channel::Telegram, at(30));
        assert_eq!(health.last_answer(Channel::Telegram), Some(at(30)));
        assert_eq!(health.last_answer(Channel::Zalo), Some(at(20)));
    }
}
