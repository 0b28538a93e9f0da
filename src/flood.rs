//! Flood control. One person sending dozens of messages a second gets one
//! polite warning and has the rest of the burst dropped, without slowing
//! anyone else; a group where residents keep typing commands hears the bot
//! at most once a minute, and the residents it did not answer there are
//! answered in private or together at the next minute (`busy_group`).
//! Leaders and officials are never held back in their groups.
//!
//! Time is the bot's clock (`App::clock`), so the minute a waiting answer
//! is due is the same for the scheduler and for tests.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

type Instant = DateTime<Utc>;

use crate::channel::{ChatAddr, UserAddr};
use crate::config::Flood as Limits;

/// A token bucket: `burst` at once, then one every `every`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    /// The person was told to slow down since the bucket last ran dry.
    warned: bool,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Self { tokens: f64::from(burst), at: now, warned: false }
    }

    fn take(&mut self, burst: u32, every: Duration, now: Instant) -> bool {
        let earned = since(self.at, now).as_seconds_f64() / every.as_seconds_f64().max(1e-9);
        self.tokens = (self.tokens + earned).min(f64::from(burst));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.warned = false;
            true
        } else {
            false
        }
    }
}

/// What to do with a person's message.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Handle,
    /// Over the limit: drop it, and warn this once.
    DropAndWarn,
    Drop,
}

pub struct FloodGuard {
    limits: Limits,
    people: Mutex<HashMap<UserAddr, Bucket>>,
    groups: Mutex<HashMap<ChatAddr, Bucket>>,
}

/// Buckets untouched this long are full again and can be forgotten.
const FORGET_AFTER: Duration = Duration::minutes(10);
/// Forgetting is looked at when a map grows past this.
const TIDY_AT: usize = 10_000;

impl FloodGuard {
    pub fn new(limits: Limits) -> Self {
        Self { limits, people: Mutex::default(), groups: Mutex::default() }
    }

    /// A message (or button press) from `person`.
    pub fn person(&self, person: &UserAddr, now: Instant) -> Verdict {
        let (burst, every) = (self.limits.per_person_burst, per(self.limits.per_person_per_minute));
        let Ok(mut people) = self.people.lock() else { return Verdict::Handle };
        tidy(&mut people, now);
        let bucket = people.entry(person.clone()).or_insert_with(|| Bucket::full(burst, now));
        if bucket.take(burst, every, now) {
            Verdict::Handle
        } else if bucket.warned {
            Verdict::Drop
        } else {
            bucket.warned = true;
            Verdict::DropAndWarn
        }
    }

    /// May the bot answer a resident in `group` now?
    pub fn group_reply(&self, group: &ChatAddr, now: Instant) -> bool {
        let (burst, every) = (self.limits.group_burst, per(self.limits.group_replies_per_minute));
        let Ok(mut groups) = self.groups.lock() else { return true };
        tidy(&mut groups, now);
        groups.entry(group.clone()).or_insert_with(|| Bucket::full(burst, now)).take(burst, every, now)
    }

    /// When `group` may next hear an answer to a resident (now, if it may
    /// already).
    pub fn next_group_reply(&self, group: &ChatAddr, now: Instant) -> Instant {
        let every = per(self.limits.group_replies_per_minute);
        let Ok(groups) = self.groups.lock() else { return now };
        match groups.get(group) {
            None => now,
            Some(b) => {
                let earned = since(b.at, now).as_seconds_f64() / every.as_seconds_f64().max(1e-9);
                let missing = (1.0 - (b.tokens + earned)).max(0.0);
                now + Duration::milliseconds((missing * every.as_seconds_f64() * 1000.0).ceil() as i64)
            }
        }
    }
}

fn per(per_minute: u32) -> Duration {
    Duration::milliseconds((60_000.0 / f64::from(per_minute.max(1))).round() as i64)
}

/// How long from `then` to `now`; nothing if the clock was set back.
fn since(then: Instant, now: Instant) -> Duration {
    (now - then).max(Duration::zero())
}

fn tidy<K: Eq + std::hash::Hash>(map: &mut HashMap<K, Bucket>, now: Instant) {
    if map.len() >= TIDY_AT {
        map.retain(|_, b| since(b.at, now) < FORGET_AFTER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Channel;

    fn limits() -> Limits {
        Limits { per_person_burst: 8, per_person_per_minute: 30, group_burst: 1, group_replies_per_minute: 1 }
    }

    #[test]
    fn a_burst_is_allowed_then_one_warning_then_silence_until_it_refills() {
        let guard = FloodGuard::new(limits());
        let person = UserAddr { channel: Channel::Telegram, id: "1".into() };
        let start = Utc::now();
        let verdicts: Vec<Verdict> =
            (0..50).map(|i| guard.person(&person, start + Duration::milliseconds(20 * i))).collect();
        let handled = verdicts.iter().filter(|v| **v == Verdict::Handle).count();
        assert_eq!(handled, 8, "the burst, and nothing earned within one second at 30 a minute");
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::DropAndWarn).count(), 1);
        // One message is earned every two seconds; by 4 s two are, and the
        // next flood gets a new warning.
        let later: Vec<Verdict> =
            (0..3).map(|i| guard.person(&person, start + Duration::milliseconds(4000 + i))).collect();
        assert_eq!(later, [Verdict::Handle, Verdict::Handle, Verdict::DropAndWarn]);
        let other = UserAddr { channel: Channel::Telegram, id: "2".into() };
        assert_eq!(guard.person(&other, start), Verdict::Handle, "others are not held back");
    }

    #[test]
    fn a_group_hears_the_bot_once_a_minute() {
        let guard = FloodGuard::new(limits());
        let group = ChatAddr { channel: Channel::Telegram, id: "-5".into() };
        let start = Utc::now();
        assert_eq!(guard.next_group_reply(&group, start), start, "a group not heard yet may hear the bot now");
        let answered = (0..120).filter(|s| guard.group_reply(&group, start + Duration::seconds(*s))).count();
        assert_eq!(answered, 2, "at 0 s and at 60 s");
        assert_eq!(guard.next_group_reply(&group, start + Duration::seconds(119)), start + Duration::seconds(120));
    }
}
