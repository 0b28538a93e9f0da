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
mod sleeping {
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

/// The rule that keeps time testable: nothing but this module reads the
/// wall clock. A test moves [`ManualClock`], and every deadline, expiry,
/// window and timestamp must move with it; one `Utc::now()` elsewhere
/// would quietly follow the machine's time instead.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::doc_check::rust_files;

    /// Ways Rust code reads the wall clock.
    const RUST_NOW: &[&str] = &["Utc::now", "Local::now", "SystemTime::now", "Utc::today", "Local::today"];
    /// Ways SQL reads it (looked for in lower case): SQLite's `'now'` in
    /// `datetime('now')`, `date('now')`, `strftime('%s', 'now')`…, the
    /// `CURRENT_*` keywords and `unixepoch()` without an argument.
    const SQL_NOW: &[&str] = &["'now'", "current_timestamp", "current_date", "current_time", "unixepoch()"];

    /// The lines of `source` (number, text) that read the wall clock
    /// outside test code and comment lines.
    ///
    /// Test code is what `#[cfg(test)]` puts on the item after it (other
    /// attributes between them are skipped with it): one line when the
    /// item ends on its first line (`mod tests;`, a one-line `fn`), else
    /// up to its closing line, found by the layout `cargo fmt` gives: the
    /// first later line at the item's own indentation that starts with a
    /// closing `}`, `]` or `)` and does not open a block. So a test module
    /// at the end of a file, a `#[cfg(test)] mod tests;` at its top and a
    /// `#[cfg(test)]` helper in the middle each hide only themselves. A
    /// file opening with `#![cfg(test)]` is test code as a whole. Any
    /// other `cfg` (`all(test, …)`) counts as code: a false alarm is
    /// safer than a read let through. Comment lines (`//`, `///`, `//!`)
    /// are not code; block comments are.
    fn wall_clock_reads(source: &str) -> Vec<(usize, String)> {
        let lines: Vec<&str> = source.lines().collect();
        if lines.iter().any(|l| l.trim() == "#![cfg(test)]") {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let trimmed = line.trim();
            if let Some(rest) = trimmed.strip_prefix("#[cfg(test)]") {
                i = end_of_item(&lines, i, rest.trim()) + 1;
                continue;
            }
            let lower = line.to_lowercase();
            let reads = RUST_NOW.iter().any(|p| line.contains(p)) || SQL_NOW.iter().any(|p| lower.contains(p));
            if reads && !trimmed.starts_with("//") {
                found.push((i + 1, trimmed.to_string()));
            }
            i += 1;
        }
        found
    }

    /// The index of the last line of the item that `#[cfg(test)]` on line
    /// `at` applies to (`same_line`: what follows the attribute on its line).
    fn end_of_item(lines: &[&str], at: usize, same_line: &str) -> usize {
        let last = lines.len().saturating_sub(1);
        let indent = |l: &str| l.len() - l.trim_start().len();
        // The item's first line, below the attribute and any others of the
        // same item, or on the attribute's own line.
        let (head, first) = if same_line.is_empty() {
            let mut head = at + 1;
            while lines.get(head).is_some_and(|l| l.trim().starts_with("#[")) {
                head += 1;
            }
            (head, lines.get(head).map_or("", |l| l.trim()))
        } else {
            (at, same_line)
        };
        if head >= last || first.ends_with(';') || first.ends_with('}') {
            return head.min(last);
        }
        let own = indent(lines[at]);
        lines
            .iter()
            .enumerate()
            .skip(head + 1)
            .find(|(_, l)| {
                let t = l.trim();
                indent(l) == own && t.starts_with(['}', ']', ')']) && !t.ends_with('{')
            })
            .map_or(last, |(i, _)| i)
    }

    /// No code in `src/` reads the wall clock but this module: every other
    /// place takes the bot's clock (`App::clock`), the update's time
    /// (`TurnDb::now`) or a `now` from its caller, and SQL is given the
    /// time as a bound value. Left out: this module (`src/clock.rs`, or a
    /// `src/clock/` folder), files named `tests.rs` (test modules) and
    /// test code within a file (see [`wall_clock_reads`]).
    ///
    /// `std::time::Instant` / `tokio::time::Instant` are not looked for
    /// and are fine: they measure how long something took (metrics, log
    /// lines), pace requests and wait for a moment to pass, never say what
    /// time it is, and cannot be written down as a date.
    #[test]
    fn only_the_clock_module_reads_the_wall_clock() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        files.sort();
        assert!(files.len() > 50, "src/ was not found: {}", src.display());
        let mut reads = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&src).unwrap_or(&file);
            let clock_module = relative == Path::new("clock.rs") || relative.starts_with("clock");
            if clock_module || file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            for (line, text) in wall_clock_reads(&source) {
                reads.push(format!("src/{}:{line}: {text}", relative.display()));
            }
        }
        assert!(
            reads.is_empty(),
            "the wall clock is read outside src/clock.rs; take `app.clock.now()`, the update's \
             `turn.db.now()` or a `now` from the caller (and bind it in SQL) instead:\n{}",
            reads.join("\n")
        );
    }

    #[test]
    fn test_code_is_told_from_the_rest() {
        let source = r#"//! Utc::now() named in a comment is no read.
use chrono::Utc;

#[cfg(test)]
mod tests;

fn a() -> i64 {
    chrono::Utc::now().timestamp()
}

impl Thing {
    #[cfg(test)]
    #[allow(dead_code)]
    pub(super) fn helper(
        &self,
    ) -> DateTime<Utc> {
        Utc::now()
    }

    fn b(&self) {
        let started = std::time::Instant::now();
        sqlx::query("DELETE FROM t WHERE at < datetime('now', '-1 day')");
        let _ = std::time::SystemTime::now();
        let _ = started.elapsed();
    }
}

#[cfg(test)]
const DAYS: &[i64] = &[
    1,
];

#[cfg(test)] fn one_line() -> DateTime<Utc> { Utc::now() }

fn c() -> Option<DateTime<Utc>> {
    None.or_else(|| Some(Utc::now()))
}

#[cfg(test)]
mod more_tests {
    fn t() {
        let _ = Utc::now();
        let _ = "CURRENT_TIMESTAMP";
    }
}
"#;
        let lines: Vec<usize> = wall_clock_reads(source).into_iter().map(|(n, _)| n).collect();
        assert_eq!(lines, [8, 22, 23, 36], "{:#?}", wall_clock_reads(source));
        assert!(wall_clock_reads("#![cfg(test)]\nfn t() { Utc::now(); }\n").is_empty());
    }
}
