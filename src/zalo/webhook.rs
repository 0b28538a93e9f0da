//! Zalo events by webhook, through the same inbox as polling: an event is
//! recorded before Zalo gets its 200. Requests without Zalo's
//! `X-Bot-Api-Secret-Token` header, or with a wrong one, get 401 and change
//! nothing. Bodies come flat (`{event_name, message}`) or wrapped
//! (`{ok, result}`); both are read.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use tokio::sync::watch;

use super::api::{parse_webhook, Client};
use super::inbound::{rows, Updates};
use crate::config::Secret;
use crate::intake::Intake;

const SECRET_HEADER: &str = "x-bot-api-secret-token";

#[derive(Clone)]
pub struct Webhook {
    /// The public URL given to setWebhook.
    pub url: String,
    /// Where the server listens (behind the HTTPS proxy); port 0 picks one.
    pub listen: SocketAddr,
    /// 8–256 characters, sent back by Zalo in the header.
    pub secret: Secret,
}

struct Shared {
    intake: Arc<Intake<Updates>>,
    secret: Secret,
}

/// Binds the server and tells Zalo the URL; the returned future serves
/// until `stop` turns true. Returns the address bound.
pub(super) async fn serve(
    intake: Arc<Intake<Updates>>,
    client: &Client,
    hook: Webhook,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<(SocketAddr, impl std::future::Future<Output = anyhow::Result<()>>)> {
    let secret_len = hook.secret.expose().chars().count();
    anyhow::ensure!((8..=256).contains(&secret_len), "ZALO_WEBHOOK_SECRET must be 8–256 characters");
    let socket = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("cannot listen for the Zalo webhook on {}", hook.listen))?;
    let bound = socket.local_addr()?;
    client.set_webhook(&hook.url, hook.secret.expose()).await.context("Zalo setWebhook failed")?;
    let probe = {
        let client = client.clone();
        intake.keep_probing(move || {
            let client = client.clone();
            async move { client.get_me().await.is_ok() }
        })
    };
    let shared = Arc::new(Shared { intake, secret: hook.secret });
    let router = Router::new().route("/", post(receive)).route("/{*path}", post(receive)).with_state(shared);
    let serving = async move {
        let served = axum::serve(socket, router)
            .with_graceful_shutdown(crate::intake::stopped(stop))
            .await
            .context("the Zalo webhook server stopped");
        probe.abort();
        served
    };
    Ok((bound, serving))
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: String) -> StatusCode {
    let presented = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    if !presented.is_some_and(|p| constant_time_eq(p, shared.secret.expose().as_bytes())) {
        tracing::warn!("Zalo webhook request without the right secret token refused");
        return StatusCode::UNAUTHORIZED;
    }
    let batch = match parse_webhook(&body) {
        Ok(batch) => batch,
        Err(e) => {
            tracing::error!(error = %e, "a Zalo webhook body cannot be read");
            return StatusCode::OK;
        }
    };
    shared.intake.heard();
    match shared.intake.take(rows(batch)).await {
        // Stopping: it is recorded and is handled after the restart.
        Ok(()) => StatusCode::OK,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot record a Zalo webhook event");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
