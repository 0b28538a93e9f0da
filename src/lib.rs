//! todanpho — a chatbot for Vietnamese residential groups (tổ dân phố, thôn).
//!
//! # Layout
//! - `handle` — **start here**: where every incoming message is routed;
//!   `commands` (the command table), `buttons` (every kind of button), `forms` (every saved dialogue).
//! - `channel` — the platform-neutral shape of messages in and actions out.
//! - `fit` — splitting what the bot says to fit a platform's limits (the outgoing path of every platform).
//! - `telegram` — the dptree handler tree and the Bot API side.
//! - `conversation` — runs dialogues in private chat and saves them each turn.
//! - `dialogue` — dialogue definitions (`dialogues/*.toml`), the engine, the store.
//! - `flows` — starting a group's flow: deep links from the group, group picker.
//! - `household` — registration, leader review, `/hocuatoi`.
//! - `report` — scene reports: filing, handling, listing, deadline reminders, feed, Open311.
//! - `campaign` — fundraising: campaigns, pledges with VietQR, confirmations, progress.
//! - `notice` — notices: compose, durable outbox, acknowledgements, scheduling.
//! - `stats` — `/thongke`, `/sohodukien`, `/xuatexcel` and CSV exports.
//! - `group` — the ward's groups, `/lienket`, `/nhom`, chat migration.
//! - `appoint` — `/phancong`; `roles` — who may do what.
//! - `commands` — the command table (name, who, where, help line, handler), `/start`, `/help`.
//! - `domain` — values that cannot be invalid: phone, name, money, counts.
//! - `audit`, `updates`, `posts` — the audit log; the inbox of incoming updates; messages to edit later.
//! - `backup` — `todanpho backup` / `restore` and the daily copy with retention.
//! - `config`, `db`, `startup`, `app` — configuration and wiring; `gather` — taking queued work in groups.
//! - `clock` — the bot's notion of now (a manual clock in tests).
//! - `demo` — realistic demo data (`todanpho seed-demo`), also used by benchmarks.
//! - `text` — Vietnamese-aware folding for matching without diacritics.

pub mod app;
pub mod appoint;
pub mod audit;
pub mod backup;
pub mod buttons;
pub mod campaign;
pub mod channel;
pub mod clock;
pub mod commands;
pub mod config;
pub mod conversation;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod dialogue;
pub mod domain;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod fit;
pub mod flood;
pub mod flows;
pub mod forms;
pub mod gather;
pub mod group;
pub mod handle;
pub mod household;
pub mod identity;
pub mod membership;
pub mod notice;
pub mod posts;
pub mod report;
pub mod roles;
pub mod scheduler;
pub mod startup;
pub mod stats;
pub mod telegram;
pub mod text;
pub mod updates;
pub mod zalo;
