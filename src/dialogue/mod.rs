//! Multi-step dialogues: definitions read from `dialogues/*.toml`, a pure
//! engine that advances them, and a store that keeps them across restarts.

pub mod definition;
pub mod engine;
pub mod max_from;
pub mod store;
#[cfg(test)]
mod tests;
mod zalo_wording;

pub use definition::{embedded_sources, Book, Definition, DefinitionError};
pub use engine::{Answer, DialogueState, Engine, Input, Position, Prompt, Turn, BUTTON_PREFIX};
