//! Time-driven work (the daily reminder of overdue reports, the digital
//! teams' weekly summary, consultations' reminders, posts and closes, the
//! last edit of campaign announcements, answers a busy group held back,
//! pruning the inbox), whatever platforms the process runs.
//!
//! Each job commits what it must tell with its own change, in the reply
//! outbox ([`JobOutbox`]); the scheduler then sends it by the same path as
//! an update's replies, on the lane of the platform it runs beside. A kill
//! between the commit and the send loses nothing: that platform's intake
//! sends it at the restart, before the scheduler starts again.
//!
//! Between rounds it sleeps until the next moment any job falls due, on
//! the bot's clock (so moving a test clock wakes it), and at most
//! `[reports] check_every_secs`, for work that updates create meanwhile.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{oneshot, watch};

use crate::app::App;
use crate::channel::Channel;
use crate::db::Database;
use crate::intake::{send_queued, Marks};
use crate::outbox::JobOutbox;
use crate::{admin, busy_group, campaign, consultation, digital, report};

/// The platform the scheduler sends through (its outbox lane), and its
/// marks: handed over once that platform's intake has sent what a crash
/// left, so nothing the scheduler commits is sent by both.
pub type Lane = (Channel, Marks);

/// Runs until `stopped` turns true, between two rounds of work: never
/// while a job holds a transaction. Starts when `started` gives the lane;
/// ends at once if the platform never started.
pub async fn run(app: App, db: Database, started: oneshot::Receiver<Lane>, stopped: watch::Receiver<bool>) {
    // Beside the rounds, on a beat of its own: the journal is scrubbed
    // within a second of a secret answer, whatever the rounds' beat.
    let scrubber = tokio::spawn(crate::consultation::secrecy::run(db.clone(), stopped.clone()));
    rounds(app, db, started, stopped).await;
    let _ = scrubber.await;
}

async fn rounds(app: App, db: Database, started: oneshot::Receiver<Lane>, mut stopped: watch::Receiver<bool>) {
    let (lane, marks) = tokio::select! {
        lane = started => match lane {
            Ok(lane) => lane,
            Err(_) => return,
        },
        _ = stopped.wait_for(|stop| *stop) => return,
    };
    // On the bot's clock, so that the tests can move a day on.
    let mut prune_at = app.clock.now() + PRUNE_EVERY;
    let keep = app.settings.ops.keep_handled().unwrap_or(chrono::Duration::days(2));
    loop {
        let now = app.clock.now();
        if now >= prune_at {
            prune_at = now + PRUNE_EVERY;
            if let Err(e) = crate::intake::forget_handled(&db, now, keep).await {
                tracing::error!(error = %format!("{e:#}"), "pruning the inbox failed");
            }
        }
        let jobs = Jobs { app: &app, db: &db, lane, marks: &marks };
        jobs.run(report::deadline::JOB, report::deadline::run_due).await;
        jobs.run(digital::weekly::JOB, digital::weekly::run_due).await;
        jobs.run("consultation_close", consultation::results::close_due).await;
        jobs.run(consultation::remind::JOB, consultation::remind::run_due).await;
        jobs.run("consultation_post", consultation::post::flush_due).await;
        jobs.run("busy_group", busy_group::flush_due).await;
        jobs.run("campaign_progress", campaign::progress::flush_due).await;
        jobs.run("admin", admin::send_due).await;
        if *stopped.borrow() {
            return;
        }
        let now = app.clock.now();
        let wake = match next_due(&app, &db, now).await.into_iter().chain([prune_at]).min() {
            Some(at) if at > now => at,
            // Due, and not done (a busy group still within its minute):
            // looked at again within a second.
            Some(_) => now + chrono::Duration::seconds(1),
            None => now + chrono::Duration::days(1),
        };
        let beat = app.settings.reports.check_every.min(Duration::from_secs(86_400));
        tokio::select! {
            _ = app.clock.sleep_until(wake) => {}
            _ = tokio::time::sleep(beat) => {}
            _ = stopped.wait_for(|stop| *stop) => return,
        }
    }
}

/// How often handled updates older than the inbox keeps them are removed
/// (also once at start-up).
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// What one round's jobs share.
struct Jobs<'a> {
    app: &'a App,
    db: &'a Database,
    lane: Channel,
    marks: &'a Marks,
}

impl Jobs<'_> {
    /// Runs one job, then sends what it committed; a job that fails after
    /// committing part of its work still has that part sent.
    async fn run<F>(&self, job: &str, work: F)
    where
        F: for<'x> AsyncFnOnce(&'x App, &'x Database, &'x mut JobOutbox) -> anyhow::Result<()>,
    {
        let mut outbox = JobOutbox::new(self.lane, job, self.app.clock.now());
        if let Err(e) = work(self.app, self.db, &mut outbox).await {
            tracing::error!(job, error = %format!("{e:#}"), "a scheduled job failed");
        }
        let queued = outbox.take();
        if queued.is_empty() {
            return;
        }
        #[cfg(feature = "fault-injection")]
        crate::fault::after_job_commit(job);
        send_queued(self.app, self.marks, self.lane, queued).await;
    }
}

/// The earliest moment any job falls due, if one will.
async fn next_due(app: &App, db: &Database, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let read = [
        campaign::progress::next_edit_due(app, db).await,
        busy_group::next_due(app, db).await,
        consultation::post::next_edit_due(db).await,
        consultation::results::next_close(db).await,
        consultation::remind::next_due(app, db, now).await,
    ];
    let timed = [report::deadline::next_run(app, now), digital::weekly::next_run(app, now)];
    read.into_iter()
        .filter_map(|due| {
            due.unwrap_or_else(|e| {
                tracing::error!(error = %format!("{e:#}"), "cannot tell when the next job is due");
                None
            })
        })
        .chain(timed.into_iter().flatten())
        .min()
}
