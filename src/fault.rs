//! Faults on demand, compiled only with the `fault-injection` feature that
//! the test suite turns on: a resident's message with this exact text makes
//! the handler panic, so tests can prove one panic does not stop the bot;
//! and the process can die right after a scheduled job commits, as a kill
//! -9 there would, so tests can prove what it committed is still sent.

use crate::channel::{Event, Incoming};

/// The text that makes the handler panic.
pub const PANIC_TEXT: &str = "__todanpho_fault_panic__";

/// Names a job (`consultation_reminder`, `digital_weekly`, `busy_group`, …):
/// the process dies the moment that job has committed something to tell,
/// before any of it is sent.
pub const DIE_AFTER_JOB: &str = "TODANPHO_FAULT_DIE_AFTER_JOB";

pub fn inject(msg: &Incoming) {
    if matches!(&msg.event, Event::Text(t) if t == PANIC_TEXT) {
        panic!("injected fault");
    }
}

/// Dies without unwinding or flushing anything if [`DIE_AFTER_JOB`] names
/// `job`.
pub fn after_job_commit(job: &str) {
    if std::env::var(DIE_AFTER_JOB).is_ok_and(|named| named == job) {
        eprintln!("injected fault: dying after the job {job} committed");
        std::process::abort();
    }
}
