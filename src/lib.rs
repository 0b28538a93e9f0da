//! todanpho — a chatbot for Vietnamese residential groups (tổ dân phố, thôn).
//! What it is for, its words, flows and rules: `docs/design.md`.
//!
//! # Layout
//! One line per module, from the process down to storage. A module imports
//! only modules listed after it here (test code aside: `intake`'s tests
//! start the whole process); `doc_check` keeps this map and the imports in
//! step, and checks that every path the README and `docs/` name exists.
//!
//! - `testing` (tests only) — a ward on a temporary database, to call ward actions without a chat.
//!
//! The process and its platforms
//! - `startup`, `scheduler`, `ops` — wiring the process; time-driven work; `/healthz` and `/metrics`.
//! - `telegram`, `zalo` — each platform's wire format in and out, polling or webhook.
//! - `admin` — `todanpho admin`: the command line as a door to the same ward actions.
//! - `intake` — one intake for every platform: the inbox, replay, one chat at a time, the
//!   handler tree, one update's turn ([`intake::process`]), the reply outbox.
//!
//! Routing — **start here**
//! - `handle` — where every incoming message is routed, and the rules every update keeps;
//! - `commands` — the command table (name, who, where, help line, handler), `/start`, `/help`;
//! - `buttons` — every kind of button, parsed once; `forms` — every dialogue whose answers are saved.
//! - `busy_group` — the answers a busy group held back, sent together.
//!
//! Features (one that uses another is listed first)
//! - `stats` — `/thongke` with its chart, `/sohodukien`, `/xuatexcel` and CSV exports.
//! - `consultation` — consultations: `/layykien`, the ballot in private, `/ykien`, paper answers
//!   `/ghiykien`, reminders with door-to-door lists, `/ketquaykien`, the close; secret ballots
//!   secret in the files.
//! - `household` — registration, leader review, `/hocuatoi`, a household's members.
//! - `digital` — community digital teams: `/tocongnghe`, the walking list `/ditham`, visits,
//!   residents' own figures, `/tiendo` with its chart, weekly summaries.
//! - `report` — scene reports: filing, handling, listing, deadline reminders, feed, Open311.
//! - `campaign` — fundraising: campaigns, pledges with VietQR, confirmations, progress.
//! - `notice` — notices: compose, preview, durable outbox and its drain for every platform,
//!   acknowledgements, scheduling.
//! - `appoint`, `identity` — `/phancong`; linking a Zalo account to a Telegram one.
//! - `conversation` — running a dialogue in private; `conversation::flow` starts a group's flow
//!   (registration, a report, a campaign) from a group's button, a picker or a deep link.
//! - `membership`, `group` — Zalo join codes; groups and `/lienket`, `/nhom`.
//! - `backup`, `demo` — backups; demo data.
//!
//! Foundation
//! - `turn` — one update's turn as a value: the caller, the message, the update's transaction
//!   and the replies; every handler takes `&mut Turn`.
//! - `audit` — the audit log of ward actions; each row names the door it came through.
//! - `action` — what every ward action is given and gives back, whichever door calls it: the
//!   [`action::Actor`] (who, through which door, when), the outcome with its notifications, and
//!   their rendering as messages. The actions themselves live with their features.
//! - `posts` — messages to edit later.
//! - `app` — the shared handles every handler and job reads.
//! - `delivery`, `fit`, `flood` — the outgoing path: which platform sends, and fitting its
//!   limits; flood control.
//! - `roles` — who may do what.
//! - `dialogue` — dialogue definitions (`dialogues/*.toml`), the engine, the store.
//! - `refusal` — expected refusals as values, with their Vietnamese words.
//! - `health`, `fault` — when each platform last answered; fault injection for the crash tests.
//! - `runs`, `canvas` — jobs that run once a day or a week, claimed before they act; drawing
//!   the charts' PNGs, Vietnamese text shaped.
//! - `outbox` — the reply outbox's rows, and what a scheduled job commits to tell with its
//!   change ([`outbox::JobOutbox`]).
//! - `channel` — the platform-neutral messages in and actions out; what each chat can do
//!   ([`channel::Capabilities`]: features ask it, never the platform); the options kept for
//!   chats without buttons.
//! - `domain` — values that cannot be invalid: phone, name, money, counts, percent, address,
//!   walking order.
//! - `db` — the database and its one writer.
//! - `config`, `measure`, `clock`, `gather`, `text` — configuration; the names of what is counted
//!   and timed; the bot's now; taking queued work in groups; Vietnamese folding.
//! - `doc_check` (tests only) — this map against the imports; the docs' paths against `src/`.

pub mod action;
pub mod admin;
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
#[cfg(test)]
mod doc_check;
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
#[cfg(test)]
mod testing;
pub mod text;
pub mod turn;
pub mod zalo;
