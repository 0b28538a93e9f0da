//! Running it: `GET /healthz` and `GET /metrics` on a listener of the
//! operator's own (`[ops] listen`, loopback by default), never a public
//! one's.
//!
//! - `figures` — what `/metrics` reads from the database at each scrape.
//!
//! Counters and histograms are kept where things happen, with the
//! `metrics` crate's macros (names below); the exposition is
//! `metrics-exporter-prometheus`'s. No label holds personal data: only a
//! platform, a kind of update, a status or a table name.

mod figures;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::task::JoinHandle;

use crate::app::App;
use crate::channel::Channel;
use crate::db::Database;

/// The process's one recorder, installed at start-up so that nothing
/// counted before the first scrape is lost. Tests start many bots in one
/// process: they share it.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full(crate::measure::COMMIT_SECONDS.into()),
                &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics shows only the database's figures");
        }
        handle
    })
}

struct Ops {
    app: App,
    db: Database,
    /// The platforms this process runs, each of which must answer.
    platforms: Vec<Channel>,
}

/// Binds `[ops] listen` and answers there until the task is aborted.
/// Returns the address bound (tests bind port 0).
pub async fn serve(app: App, db: Database, platforms: Vec<Channel>) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    install();
    let listen = app.settings.ops.listen.clone();
    let socket = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("[ops] listen '{listen}': cannot listen there for /healthz and /metrics"))?;
    let bound = socket.local_addr()?;
    let ops = Arc::new(Ops { app, db, platforms });
    let router = Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(ops);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(socket, router).await {
            tracing::error!(error = %e, "the ops listener stopped");
        }
    });
    tracing::info!(%bound, "health and metrics listening");
    Ok((bound, task))
}

/// 200 "ok" when the database takes a write and every platform answered
/// recently; 503 with one short line per problem otherwise.
async fn healthz(State(ops): State<Arc<Ops>>) -> (StatusCode, String) {
    let mut problems = Vec::new();
    if let Err(e) = figures::heartbeat(&ops.db, ops.app.clock.now()).await {
        problems.push(format!("database: does not take writes ({e:#})"));
    }
    let now = ops.app.clock.now();
    let stale = chrono::Duration::seconds(i64::try_from(ops.app.settings.ops.stale_after_secs).unwrap_or(i64::MAX));
    for channel in &ops.platforms {
        match ops.app.health.last_answer(*channel) {
            None => problems.push(format!("{}: has not answered since start-up", channel.as_str())),
            Some(at) if now - at > stale => {
                problems.push(format!("{}: no answer for {} s", channel.as_str(), (now - at).num_seconds()))
            }
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        (StatusCode::OK, "ok\n".into())
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, problems.join("\n") + "\n")
    }
}

/// Sets the gauges read from the database, as each `/metrics` scrape
/// does (public for `cargo bench --bench metrics`).
pub async fn read_figures(db: &Database, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<()> {
    figures::read(db, now).await
}

async fn metrics(State(ops): State<Arc<Ops>>) -> (StatusCode, String) {
    if let Err(e) = read_figures(&ops.db, ops.app.clock.now()).await {
        tracing::warn!(error = %format!("{e:#}"), "cannot read the figures for /metrics");
    }
    (StatusCode::OK, install().render())
}
