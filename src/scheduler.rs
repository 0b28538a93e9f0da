//! Time-driven work (the daily reminder of overdue reports, the digital
//! teams' weekly summary, consultations' reminders, posts and closes, the last edit of
//! campaign announcements, answers a busy group held back, pruning the
//! inbox), checked every `[reports] check_every_secs` or sooner when an edit
//! or answer falls due, whatever platforms the process runs.

use std::time::Duration;

use crate::app::App;
use crate::channel::{Channel, Replies};
use crate::db::Database;

/// Runs until `stopped` turns true, between two rounds of work: never
/// while a job holds a transaction. Starts once the senders of `channels`
/// are set up, so that nothing it says is lost at start-up.
pub async fn run(app: App, db: Database, channels: Vec<Channel>, stopped: tokio::sync::watch::Receiver<bool>) {
    // Beside the rounds, on a beat of its own: the journal is scrubbed
    // within a second of a secret answer, whatever the rounds' beat.
    let scrubber = tokio::spawn(crate::consultation::secrecy::run(db.clone(), stopped.clone()));
    rounds(app, db, channels, stopped).await;
    let _ = scrubber.await;
}

async fn rounds(app: App, db: Database, channels: Vec<Channel>, mut stopped: tokio::sync::watch::Receiver<bool>) {
    while !channels.iter().all(|c| app.senders.ready(*c)) {
        if *stopped.borrow() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut tick = tokio::time::interval(app.settings.reports.check_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // On the bot's clock, so that the tests can move a day on.
    let mut prune_at = app.clock.now() + PRUNE_EVERY;
    let keep = app.settings.ops.keep_handled().unwrap_or(chrono::Duration::days(2));
    loop {
        // On the beat, or sooner when an announcement may be brought up to
        // date (see `campaign::progress::next_edit_due`).
        let due = [
            crate::campaign::progress::next_edit_due(&app, &db).await,
            crate::busy_group::next_due(&app, &db).await,
            crate::consultation::post::next_edit_due(&db).await,
        ]
        .into_iter()
        .filter_map(|due| {
            due.unwrap_or_else(|e| {
                tracing::error!(error = %format!("{e:#}"), "cannot tell when the next edit or answer is due");
                None
            })
        })
        .min()
        .map_or(Duration::MAX, |at| (at - app.clock.now()).to_std().unwrap_or(Duration::ZERO));
        if *stopped.borrow() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::time::sleep(due.clamp(Duration::from_secs(1), Duration::from_secs(86_400))) => {}
            _ = stopped.changed() => return,
        }
        let now = app.clock.now();
        if now >= prune_at {
            prune_at = now + PRUNE_EVERY;
            if let Err(e) = crate::intake::forget_handled(&db, now, keep).await {
                tracing::error!(error = %format!("{e:#}"), "pruning the inbox failed");
            }
        }
        match crate::report::deadline::run_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "the deadline reminder failed"),
        }
        match crate::digital::weekly::run_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "the digital teams' weekly summary failed"),
        }
        match crate::consultation::results::close_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "closing consultations failed"),
        }
        match crate::consultation::remind::run_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "the consultation reminders failed"),
        }
        match crate::consultation::post::flush_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "updating consultation posts failed"),
        }
        match crate::busy_group::flush_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "answering a busy group failed"),
        }
        match crate::campaign::progress::flush_due(&app, &db).await {
            Ok(replies) => deliver(&app, replies).await,
            Err(e) => tracing::error!(error = %format!("{e:#}"), "updating campaign announcements failed"),
        }
    }
}

/// How often handled updates older than the inbox keeps them are removed
/// (also once at start-up).
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

async fn deliver(app: &App, replies: Replies) {
    for action in replies.actions {
        // Every action here goes to a chat, whose platform decides.
        app.senders.deliver(Channel::Telegram, action).await;
    }
}
