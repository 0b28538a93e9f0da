//! The Zalo side: Zalo Bot Platform events become
//! [`Incoming`](crate::channel::Incoming), actions become Zalo messages.
//! Zalo has no buttons, so a message's buttons are shown as a numbered list
//! and the person answers with the number or the label (see `menu`); long
//! texts are split at Zalo's 2,000 characters. Nothing outside this module
//! sees a Zalo type.

pub mod api;
mod inbound;
mod menu;
pub mod notices;
mod outbound;
mod polling;
mod webhook;

pub use api::Client;

/// What one Zalo message may hold (see `channel::Capabilities`).
const LIMITS: crate::fit::Limits = crate::fit::Limits::of(crate::channel::Channel::Zalo.capabilities());
pub use outbound::ZaloSender;
pub use polling::{connect, start, Settings, Started};
pub use webhook::Webhook;
