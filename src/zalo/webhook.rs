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
use tokio::sync::mpsc;

use super::api::{parse_webhook, Client, ZaloUpdate};
use super::polling::{record, start, Settings, Workers};
use crate::app::App;
use crate::config::Secret;
use crate::db::Database;

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
    db: Database,
    secret: Secret,
    tx: mpsc::Sender<(String, ZaloUpdate)>,
}

/// Binds the server, deals with what a crash left, tells Zalo the URL, and
/// handles events until the task is aborted. Returns the address bound.
pub async fn serve(
    app: App,
    db: Database,
    client: Client,
    settings: Settings,
    hook: Webhook,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let secret_len = hook.secret.expose().chars().count();
    anyhow::ensure!((8..=256).contains(&secret_len), "ZALO_WEBHOOK_SECRET must be 8–256 characters");
    let socket = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("cannot listen for the Zalo webhook on {}", hook.listen))?;
    let bound = socket.local_addr()?;
    let (marks, notices) = start(&app, &db, &client, settings).await;
    client.set_webhook(&hook.url, hook.secret.expose()).await.context("Zalo setWebhook failed")?;
    // Each chat's events in order, chats side by side, apart from
    // answering Zalo.
    let (tx, mut rx) = mpsc::channel::<(String, ZaloUpdate)>(256);
    let mut workers = Workers::new(app, db.clone(), client.clone(), marks);
    let worker = tokio::spawn(async move {
        while let Some((id, update)) = rx.recv().await {
            workers.dispatch(id, update);
        }
    });
    let shared = Arc::new(Shared { db, secret: hook.secret, tx });
    let router = Router::new().route("/", post(receive)).route("/{*path}", post(receive)).with_state(shared);
    let task = tokio::spawn(async move {
        let _notices = notices;
        if let Err(e) = axum::serve(socket, router).await {
            tracing::error!(error = %e, "the Zalo webhook server stopped");
        }
        worker.abort();
    });
    Ok((bound, task))
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
    match record(&shared.db, batch).await {
        Ok(fresh) => {
            for event in fresh {
                // Stopping: it is recorded and is handled after the restart.
                let _ = shared.tx.send(event).await;
            }
            StatusCode::OK
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot record a Zalo webhook event");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
