//! Updates by webhook, through the same inbox as long polling: an update is
//! recorded before Telegram gets its 200, so one Telegram sees confirmed is
//! never lost, and one it sends again is skipped. Requests without
//! Telegram's secret token header, or with a wrong one, get 401 and change
//! nothing.

use std::convert::Infallible;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use teloxide::prelude::*;
use teloxide::stop::mk_stop_token;
use teloxide::types::AllowedUpdate;
use teloxide::update_listeners::UpdateListener;
use tokio::sync::mpsc;

use super::polling::{inbox_listener, replay, QUEUE};
use crate::channel::Channel;
use crate::config::Secret;
use crate::db::Database;
use crate::updates;

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
    db: Database,
    secret: Secret,
    tx: mpsc::Sender<Update>,
}

/// Binds the server, replays what a crash left, tells Telegram the URL, and
/// returns the listener the dispatcher reads from.
pub async fn listener(
    bot: Bot,
    db: Database,
    hook: Webhook,
) -> anyhow::Result<impl UpdateListener<Err = Infallible> + Send> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (stop, flag) = mk_stop_token();
    let socket = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("cannot listen for the webhook on {}", hook.listen))?;
    bot.set_webhook(hook.url.clone())
        .secret_token(hook.secret.expose().to_string())
        .allowed_updates([AllowedUpdate::Message, AllowedUpdate::EditedMessage, AllowedUpdate::CallbackQuery])
        .await
        .context("setWebhook failed")?;
    let shared = Arc::new(Shared { db, secret: hook.secret, tx });
    let router = Router::new().route("/", post(receive)).route("/{*path}", post(receive)).with_state(shared.clone());
    tokio::spawn(async move {
        replay(&shared.db, &shared.tx).await;
        drop(shared);
        if let Err(e) = axum::serve(socket, router).with_graceful_shutdown(flag).await {
            tracing::error!(error = %e, "the webhook server stopped");
        }
    });
    Ok(inbox_listener(rx, stop))
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
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
    let row = [(update.id.0.to_string(), String::from_utf8_lossy(&body).into_owned())];
    match updates::record_batch(&shared.db, Channel::Telegram, &row).await {
        Ok(fresh) if fresh.is_empty() => {
            tracing::info!(updates = 1, "skipping updates already taken in");
            StatusCode::OK
        }
        Ok(_) => match shared.tx.send(update).await {
            Ok(()) => StatusCode::OK,
            // Stopping: it is recorded and will be handled after the restart.
            Err(_) => StatusCode::OK,
        },
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
