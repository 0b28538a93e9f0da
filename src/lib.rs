//! todanpho — a chatbot for Vietnamese residential groups (tổ dân phố, thôn).
//!
//! # Layout
//! From the platforms down to storage; imports point down this list.
//!
//! Platforms and intake
//! - `telegram`, `zalo` — each platform's wire format in and out, polling or webhook.
//! - `startup`, `scheduler`, `ops` — wiring the process; time-driven work; `/healthz` and `/metrics`.
//! - `intake` — one intake for every platform: the inbox, replay, one chat at a time, the
//!   handler tree, one update's turn ([`intake::process`]), the reply outbox.
//! - `delivery`, `fit` — the outgoing path: which platform sends, and fitting its limits.
//!
//! Routing — **start here**
//! - `handle` — where every incoming message is routed, and the rules every update keeps;
//! - `commands` — the command table (name, who, where, help line, handler), `/start`, `/help`;
//! - `buttons` — every kind of button, parsed once; `forms` — every dialogue whose answers are saved.
//! - `turn` — one update's turn as a value: the caller, the message, the update's transaction
//!   and the replies; every handler takes `&mut Turn`.
//! - `flood` — flood control; `busy_group` — the answers a busy group held back, sent together.
//!
//! Features
//! - `household` — registration, leader review, `/hocuatoi`.
//! - `report` — scene reports: filing, handling, listing, deadline reminders, feed, Open311.
//! - `campaign` — fundraising: campaigns, pledges with VietQR, confirmations, progress.
//! - `notice` — notices: compose, preview, durable outbox and its drain for every platform,
//!   acknowledgements, scheduling.
//! - `stats` — `/thongke` with its chart, `/sohodukien`, `/xuatexcel` and CSV exports.
//! - `digital` — community digital teams: `/tocongnghe`, the walking list `/ditham`, visits,
//!   residents' own figures, `/tiendo` with its chart, weekly summaries.
//! - `consultation` — consultations: `/layykien`, the ballot in private, `/ykien`, paper answers
//!   `/ghiykien`, reminders with door-to-door lists, `/ketquaykien`, the close; secret ballots
//!   secret in the files.
//! - `group`, `appoint`, `membership`, `identity` — groups and `/lienket`, `/nhom`; `/phancong`;
//!   Zalo join codes; linking a Zalo account to a Telegram one.
//! - `conversation` — running a dialogue in private; `conversation::flow` starts a group's flow
//!   (registration, a report, a campaign) from a group's button, a picker or a deep link.
//! - `posts`, `audit`, `backup`, `demo` — messages to edit later; the audit log; backups; demo data.
//!
//! Foundation
//! - `dialogue` — dialogue definitions (`dialogues/*.toml`), the engine, the store.
//! - `refusal` — expected refusals as values, with their Vietnamese words;
//! - `roles` — who may do what; `channel` — the platform-neutral messages in and actions out.
//! - `domain` — values that cannot be invalid: phone, name, money, counts, percent, walking order.
//! - `health`, `measure` — when each platform last answered; the names of what is counted and timed.
//! - `canvas` — drawing the charts' PNGs, Vietnamese text shaped.
//! - `runs` — jobs that run once a day or a week, claimed before they act;
//!   `outbox` — the reply outbox's rows, and what a scheduled job commits to tell ([`outbox::JobOutbox`]).
//! - `app`, `config`, `db`, `clock`, `gather`, `text`, `fault` — the shared handles, configuration,
//!   the database and its one writer, the bot's now, taking queued work in groups, Vietnamese folding,
//!   fault injection for the crash tests.

pub mod app;
pub mod appoint;
pub mod audit;
pub mod backup;
pub mod busy_group;
pub mod buttons;
pub mod campaign;
pub mod canvas;
pub mod channel;
pub mod clock;
pub mod commands;
pub mod config;
pub mod consultation;
pub mod conversation;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod dialogue;
pub mod digital;
pub mod domain;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod fit;
pub mod flood;
pub mod forms;
pub mod gather;
pub mod group;
pub mod handle;
pub mod health;
pub mod household;
pub mod identity;
pub mod intake;
pub mod measure;
pub mod membership;
pub mod notice;
pub mod ops;
pub mod outbox;
pub mod posts;
pub mod refusal;
pub mod report;
pub mod roles;
pub mod runs;
pub mod scheduler;
pub mod startup;
pub mod stats;
pub mod telegram;
pub mod text;
pub mod turn;
pub mod zalo;
