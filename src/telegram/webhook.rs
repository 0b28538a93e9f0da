//! Updates by webhook, through the same inbox as long polling: an update is
//! recorded before Telegram gets its 200, so one Telegram sees confirmed is
//! never lost, and one it sends again is skipped. Requests without
//! Telegram's secret token header, or with a wrong one, get 401 and change
//! nothing.

use std::sync::Arc;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use tokio::sync::watch;

use super::Updates;
use crate::config::Secret;
use crate::intake::Intake;

const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Where Telegram should send updates, and what it must send back.
#[derive(Clone)]
pub struct Webhook {
    /// The public URL given to setWebhook.
    pub url: url::Url,
    /// The local address the server listens on.
    pub listen: std::net::SocketAddr,
    pub secret: Secret,
}

struct Shared {
    intake: Arc<Intake<Updates>>,
    secret: Secret,
}

/// Binds the server, tells Telegram the URL, and takes updates in until
/// `stop` turns true.
pub async fn receive(
    bot: &Bot,
    intake: Arc<Intake<Updates>>,
    hook: Webhook,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let socket = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("cannot listen for the webhook on {}", hook.listen))?;
    bot.set_webhook(hook.url.clone())
        .secret_token(hook.secret.expose().to_string())
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::EditedMessage, AllowedUpdate::CallbackQuery])
        .await
        .context("setWebhook failed")?;
    let probe = {
        let bot = bot.clone();
        intake.keep_probing(move || {
            let bot = bot.clone();
            async move { bot.get_webhook_info().await.is_ok_and(|info| info.url.is_some()) }
        })
    };
    let shared = Arc::new(Shared { intake, secret: hook.secret });
    let router = Router::new().route("/", post(take)).route("/{*path}", post(take)).with_state(shared);
    let served = axum::serve(socket, router)
        .with_graceful_shutdown(crate::intake::stopped(stop))
        .await
        .context("the webhook server stopped");
    probe.abort();
    served
}

async fn take(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let presented = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if !presented.is_some_and(|p| constant_time_eq(p, shared.secret.expose().as_bytes())) {
        tracing::warn!("webhook request without the right secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(e) => {
            // Telegram would send it again and again; there is nothing to gain.
            tracing::error!(error = %e, "a webhook update cannot be read");
            return StatusCode::OK;
        }
    };
    let row = (update.id.0.to_string(), String::from_utf8_lossy(&body).into_owned(), update);
    shared.intake.heard();
    match shared.intake.take(vec![row]).await {
        // Stopping: it is recorded and will be handled after the restart.
        Ok(()) => StatusCode::OK,
        // Not recorded: Telegram retries a failed delivery.
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot record a webhook update");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
