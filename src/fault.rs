//! Faults on demand, compiled only with the `fault-injection` feature that
//! the test suite turns on: a resident's message with this exact text makes
//! the handler panic, so tests can prove one panic does not stop the bot.

use crate::channel::{Event, Incoming};

/// The text that makes the handler panic.
pub const PANIC_TEXT: &str = "__todanpho_fault_panic__";

pub fn inject(msg: &Incoming) {
    if matches!(&msg.event, Event::Text(t) if t == PANIC_TEXT) {
        panic!("injected fault");
    }
}
