//! Long polling Zalo through the inbox. Zalo's getUpdates has no offset: an
//! event is gone once answered, so each batch is recorded (one
//! transaction) the moment it arrives, then handled from the record, and
//! what was recorded but not handled before a crash is handled at the next
//! start. (An event lost between Zalo's answer and the record cannot be
//! asked for again; webhook mode records before answering Zalo.)

use std::sync::Arc;
use std::time::Duration;

use super::api::{Client, ZaloUpdate};
use super::inbound;
use super::outbound::ZaloSender;
use crate::app::App;
use crate::channel::Channel;
use crate::db::Database;
use crate::updates::{self, Marks};

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

/// Receives and handles Zalo events until the task is aborted.
pub async fn run(app: App, db: Database, client: Client, settings: Settings) {
    let (marks, _notices) = start(&app, &db, &client, settings).await;
    let mut workers = Workers::new(app.clone(), db.clone(), client.clone(), marks);
    let mut backoff = Duration::from_secs(1);
    loop {
        let batch = match client.get_updates(settings.poll_timeout).await {
            Ok(batch) => {
                backoff = Duration::from_secs(1);
                batch
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_secs = backoff.as_secs(), "Zalo getUpdates failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        receive(&db, &mut workers, batch).await;
    }
}

/// What both ways of receiving do first: the sender for Zalo is set up,
/// then replies and events a crash left are dealt with.
pub(super) async fn start(app: &App, db: &Database, client: &Client, settings: Settings) -> (Marks, Background) {
    let sender = Arc::new(ZaloSender::new(client.clone(), db.clone(), settings.per_second));
    app.senders.set(Channel::Zalo, sender.clone());
    let marks = Marks::start(db.clone(), Channel::Zalo);
    updates::send_unsent_replies(app, db, Channel::Zalo).await;

    match updates::unhandled(db, Channel::Zalo).await {
        Ok(pending) => {
            for (id, payload) in pending {
                match serde_json::from_str::<ZaloUpdate>(&payload) {
                    Ok(update) => handle(app, db, client, &marks, &id, &update).await,
                    Err(e) => {
                        let error = format!("the stored event cannot be read: {e}");
                        let _ = marks.handled(Channel::Zalo, &id, Some(&error)).await;
                    }
                }
            }
        }
        Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot read Zalo events left from before the restart"),
    }
    // Notices to Zalo households, for as long as receiving runs.
    (marks, Background(tokio::spawn(super::notices::run(app.clone(), db.clone(), sender))))
}

/// A task that ends with its owner.
pub(super) struct Background(tokio::task::JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Records a batch of events in the inbox and hands the new ones to their
/// chats' workers.
pub(super) async fn receive(db: &Database, workers: &mut Workers, batch: Vec<ZaloUpdate>) {
    match record(db, batch).await {
        Ok(fresh) => {
            for (id, update) in fresh {
                workers.dispatch(id, update);
            }
        }
        Err(e) => tracing::error!(error = %format!("{e:#}"), "cannot record Zalo events"),
    }
}

/// One worker per chat: a chat's events are handled in the order they came,
/// different chats side by side, so that one slow conversation holds up
/// nobody else. Workers stay for the life of the process (a ward has a
/// few thousand chats; an idle worker is a few hundred bytes).
pub(super) struct Workers {
    app: App,
    db: Database,
    client: Client,
    marks: Marks,
    chats: std::collections::HashMap<String, tokio::sync::mpsc::UnboundedSender<(String, ZaloUpdate)>>,
}

impl Workers {
    pub(super) fn new(app: App, db: Database, client: Client, marks: Marks) -> Self {
        Self { app, db, client, marks, chats: Default::default() }
    }

    pub(super) fn dispatch(&mut self, id: String, update: ZaloUpdate) {
        let chat = update.message.chat.id.clone();
        let tx = self.chats.entry(chat).or_insert_with(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, ZaloUpdate)>();
            let (app, db, client, marks) = (self.app.clone(), self.db.clone(), self.client.clone(), self.marks.clone());
            tokio::spawn(async move {
                while let Some((id, update)) = rx.recv().await {
                    handle(&app, &db, &client, &marks, &id, &update).await;
                }
            });
            tx
        });
        if tx.send((id, update)).is_err() {
            tracing::error!("a Zalo chat worker has stopped; the event is handled after the restart");
        }
    }
}

/// Records a batch in the inbox (one transaction); returns the events not
/// seen before, with their ids.
pub(super) async fn record(db: &Database, batch: Vec<ZaloUpdate>) -> anyhow::Result<Vec<(String, ZaloUpdate)>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String)> =
        batch.iter().map(|u| (u.message.message_id.clone(), serde_json::to_string(u).unwrap_or_default())).collect();
    let fresh = updates::record_batch(db, Channel::Zalo, &rows).await?;
    let mut batch: Vec<Option<ZaloUpdate>> = batch.into_iter().map(Some).collect();
    Ok(fresh.into_iter().filter_map(|i| Some((rows[i].0.clone(), batch[i].take()?))).collect())
}

/// The most a kept photo may weigh.
const PHOTO_LIMIT: usize = 10 * 1024 * 1024;

/// Keeps the bytes of a photo the person sent, before its URL expires;
/// fetched outside any transaction. A failure is logged: the URL remains.
async fn keep_photo(db: &Database, client: &Client, update: &ZaloUpdate) {
    let Some(url) = update.message.picture() else { return };
    match client.fetch(url, PHOTO_LIMIT).await {
        Ok((bytes, content_type)) => {
            let stored = async {
                let mut tx = db.write().await?;
                sqlx::query(
                    "INSERT INTO zalo_media (url, bytes, content_type, fetched_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(url)
                .bind(bytes)
                .bind(content_type)
                .bind(chrono::Utc::now())
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            };
            if let Err(e) = stored.await {
                tracing::warn!(error = %e, "cannot keep a photo from Zalo");
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot fetch a photo from Zalo; only its URL is kept"),
    }
}

pub(super) async fn handle(app: &App, db: &Database, client: &Client, marks: &Marks, id: &str, update: &ZaloUpdate) {
    keep_photo(db, client, update).await;
    let incoming = match db.read().await {
        Ok(mut conn) => inbound::incoming(&mut conn, update).await,
        Err(e) => Err(e),
    };
    match incoming {
        Ok(Some(incoming)) => updates::process(app, db, marks, Channel::Zalo, id, incoming).await,
        Ok(None) => {
            let _ = marks.handled(Channel::Zalo, id, None).await;
        }
        Err(e) => {
            let _ = marks.handled(Channel::Zalo, id, Some(&format!("reading the event: {e}"))).await;
        }
    }
}
