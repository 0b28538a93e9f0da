//! Receiving Zalo's events into the intake, by long polling (or webhook,
//! see `webhook`). Zalo's getUpdates has no offset: an event is gone once
//! answered, so each batch is recorded (one transaction) the moment it
//! arrives, then handled from the record, and what was recorded but not
//! handled before a crash is handled at the next start. (An event lost
//! between Zalo's answer and the record cannot be asked for again; webhook
//! mode records before answering Zalo.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::api::Client;
use super::inbound::{rows, Updates};
use super::outbound::ZaloSender;
use super::webhook::Webhook;
use crate::app::App;
use crate::channel::Channel;
use crate::db::Database;
use crate::intake::Intake;

/// How Zalo is used: the rate is ours to choose, Zalo publishes none.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub poll_timeout: Duration,
    pub per_second: f64,
}

impl From<&crate::config::Zalo> for Settings {
    fn from(config: &crate::config::Zalo) -> Self {
        Self { poll_timeout: Duration::from_secs(config.poll_timeout_secs.clamp(1, 50)), per_second: config.per_second }
    }
}

/// Checks the token before anything starts, and, for long polling, takes
/// away a webhook left set (Zalo answers getUpdates with nothing while one
/// is). Fails with what to check.
pub async fn connect(client: &Client, polling: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    client
        .get_me()
        .await
        .context("cannot reach the Zalo Bot API (getMe failed); check ZALO_BOT_TOKEN and [zalo] api_url")?;
    if polling {
        client.delete_webhook().await.context("cannot delete the Zalo webhook before long polling")?;
        tracing::info!("Zalo: any webhook deleted, receiving by long polling");
    }
    Ok(())
}

/// Zalo running: receiving into its intake, and its notice sender.
pub struct Started {
    pub stop: watch::Sender<bool>,
    /// Receives until told to stop, then lets what was taken in be handled.
    pub task: JoinHandle<anyhow::Result<()>>,
    /// Sends notices to Zalo households; finishes the one in hand on stop.
    pub notices: JoinHandle<()>,
    /// The marks of Zalo's updates and sent replies (see [`crate::scheduler::Lane`]).
    pub marks: crate::intake::Marks,
    /// Where the webhook listens, if it does.
    pub listening: Option<SocketAddr>,
}

/// Sets Zalo's sender up, sends the replies and handles the events a crash
/// left, then receives by long polling (or by `webhook`) in the background.
pub async fn start(
    app: App,
    db: Database,
    client: Client,
    settings: Settings,
    webhook: Option<Webhook>,
) -> anyhow::Result<Started> {
    let sender = Arc::new(ZaloSender::new(client.clone(), db.clone(), app.clock.clone(), settings.per_second));
    app.senders.set(Channel::Zalo, sender.clone());
    let (stop, stopped) = watch::channel(false);
    let notices = tokio::spawn(super::notices::run(app.clone(), db.clone(), sender, stopped.clone()));
    let updates = Updates { client: client.clone(), clock: app.clock.clone() };
    let intake = Intake::start(app, db, updates).await;
    let marks = intake.marks();
    let (task, listening) = match webhook {
        None => {
            let task = tokio::spawn(async move {
                poll(&client, &intake, settings, stopped).await;
                intake.drain().await;
                Ok(())
            });
            (task, None)
        }
        Some(hook) => {
            let (listening, serving) = super::webhook::serve(intake.clone(), &client, hook, stopped).await?;
            let task = tokio::spawn(async move {
                let served = serving.await;
                intake.drain().await;
                served
            });
            (task, Some(listening))
        }
    };
    Ok(Started { stop, task, notices, marks, listening })
}

async fn poll(client: &Client, intake: &Intake<Updates>, settings: Settings, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_secs(1);
    while !*stop.borrow() {
        let answer = tokio::select! {
            answer = client.get_updates(settings.poll_timeout) => answer,
            _ = stop.changed() => return,
        };
        let batch = match answer {
            Ok(batch) => {
                intake.heard();
                backoff = Duration::from_secs(1);
                batch
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_secs = backoff.as_secs(), "Zalo getUpdates failed");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = stop.changed() => return,
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        if let Err(e) = intake.take(rows(batch)).await {
            tracing::error!(error = %format!("{e:#}"), "cannot record Zalo events");
        }
    }
}
