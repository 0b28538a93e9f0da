//! Long polling into the intake. teloxide's own polling confirms an
//! update's offset as soon as it has queued it, so a crash loses what was
//! in flight. Here each batch from getUpdates is first recorded (one
//! transaction for the batch, see [`Intake::take`]), and only then is its
//! offset confirmed, by the next getUpdates; a batch Telegram delivers again
//! is recognised and skipped.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use teloxide::RequestError;
use tokio::sync::watch;

use super::Updates;
use crate::intake::Intake;

/// How long one getUpdates waits on Telegram's side for something new.
const LONG_POLL_SECS: u32 = 10;

/// Drops a webhook left from an earlier set-up (getUpdates refuses to work
/// while one is set), then polls until `stop` turns true. A getUpdates in
/// flight is dropped then: it confirms nothing, and its updates come again
/// after the restart.
pub async fn receive(bot: &Bot, intake: &Intake<Updates>, mut stop: watch::Receiver<bool>) {
    match bot.get_webhook_info().await {
        Ok(info) if info.url.is_some() => {
            if let Err(e) = bot.delete_webhook().await {
                tracing::warn!(error = %e, "cannot remove the webhook; polling may fail");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the webhook settings"),
    }
    let mut offset: i32 = 0;
    let mut backoff = Duration::from_secs(1);
    while !*stop.borrow() {
        let request = bot.get_updates().offset(offset).timeout(LONG_POLL_SECS).allowed_updates([
            AllowedUpdate::Message,
            AllowedUpdate::EditedMessage,
            AllowedUpdate::CallbackQuery,
        ]);
        let answer = tokio::select! {
            answer = request.send() => answer,
            _ = stop.changed() => return,
        };
        let batch = match answer {
            Ok(batch) => {
                intake.heard();
                backoff = Duration::from_secs(1);
                batch
            }
            Err(e) => {
                let wait = match &e {
                    RequestError::RetryAfter(after) => after.duration(),
                    _ => backoff,
                };
                tracing::warn!(error = %e, retry_in_secs = wait.as_secs(), "getUpdates failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = stop.changed() => return,
                }
            }
        };
        let Some(last) = batch.last().map(|u| u.id.0) else { continue };
        let batch =
            batch.into_iter().map(|u| (u.id.0.to_string(), serde_json::to_string(&u).unwrap_or_default(), u)).collect();
        match intake.take(batch).await {
            // The next getUpdates confirms this batch, now on disk.
            Ok(()) => offset = i32::try_from(last).unwrap_or(i32::MAX).saturating_add(1),
            Err(e) => {
                // Not confirmed: Telegram gives the batch again.
                tracing::error!(error = %format!("{e:#}"), "cannot record incoming updates");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}
