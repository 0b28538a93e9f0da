//! Time as the bot sees it. Production reads the system clock; tests use a
//! [`ManualClock`] so deadlines and daily reminders are tested without
//! sleeping.

use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use tokio::sync::watch;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Waits until `at` on this clock, or until the clock is moved by hand
    /// (a test clock), whichever comes first: the caller then looks at the
    /// time again. Returns at once when `at` has come.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let wait = (at - Utc::now()).to_std().unwrap_or(std::time::Duration::ZERO);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told; whoever sleeps on it wakes when it
/// is moved.
pub struct ManualClock(watch::Sender<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(watch::Sender::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_replace(at);
    }

    pub fn advance(&self, by: Duration) {
        self.0.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let mut moved = self.0.subscribe();
        let come = *moved.borrow_and_update() >= at;
        Box::pin(async move {
            if !come {
                let _ = moved.changed().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn a_sleeper_on_the_test_clock_wakes_when_it_is_moved_and_not_before() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 9, 59, 59).unwrap();
        let clock = ManualClock::new(start);
        let mut sleeping = tokio::spawn(clock.sleep_until(start + Duration::seconds(1)));
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), &mut sleeping).await;
        assert!(early.is_err(), "woke before the clock moved");
        clock.advance(Duration::seconds(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeping).await.unwrap().unwrap();
        // A moment already come does not wait at all.
        tokio::time::timeout(std::time::Duration::from_millis(50), clock.sleep_until(start)).await.unwrap();
    }
}
