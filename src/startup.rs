//! Wiring: configuration → database → dialogues → the Telegram dispatcher.
//! The binary and the tests both start the bot through here.

use std::sync::Arc;

use anyhow::Context;
use teloxide::dispatching::ShutdownToken;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use tokio::task::JoinHandle;

use crate::app::{App, ReportSettings, Settings};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Secret};
use crate::db::Database;
use crate::dialogue::Book;
use crate::{campaign, db, household, report, roles, telegram};

/// Everything but the chat platform: database migrated, officials seeded,
/// dialogues loaded and checked. The shared handles, and the database for
/// the work outside updates (each update reaches it through its turn).
pub async fn build_app(config: &Config) -> anyhow::Result<(App, Database)> {
    build_app_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn build_app_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<(App, Database)> {
    let mut book = Book::load(config.dialogues.dir.as_deref())?;
    crate::forms::check(&book)?;
    household::registration::check_definition(&book)?;
    report::filing::prepare_definition(&mut book, &config.reports.categories)?;
    campaign::create::prepare_definition(&mut book)?;
    let db = db::connect(&config.database.path, config.database.synchronous).await?;
    // Before any platform takes updates in (and so before any new reply).
    crate::updates::settle_sent_logs(&db).await.context("reading the logs of sent replies")?;
    crate::updates::forget_handled(&db, chrono::Utc::now()).await.context("pruning the inbox")?;
    {
        let mut tx = db.write().await?;
        roles::seed_officials(&mut tx, &config.telegram.officials).await.context("seeding officials from config")?;
        tx.commit().await?;
    }
    let r = &config.reports;
    let settings = Settings {
        ward_name: config.ward.name.clone(),
        timezone: config.timezone()?,
        reports: ReportSettings {
            deadline: chrono::Duration::hours(r.deadline_hours.into()),
            reminder_hour: r.reminder_hour,
            check_every: std::time::Duration::from_secs_f64(r.check_every_secs),
            media_url: r.media_url.clone(),
            categories: r.categories.clone(),
        },
        honour_amounts: config.campaigns.honour_amounts,
        notices: config.notices.clone(),
        targets: config.stats.clone(),
    };
    let app = App {
        lookups: crate::roles::Lookups::start(db.clone()),
        book: Arc::new(book),
        settings: Arc::new(settings),
        clock,
        outbox: Arc::new(tokio::sync::Notify::new()),
        flood: Arc::new(crate::flood::FloodGuard::new(config.flood)),
        senders: Arc::default(),
    };
    Ok((app, db))
}

pub fn telegram_bot(token: &Secret, api_url: &str) -> anyhow::Result<Bot> {
    let url = url::Url::parse(api_url).with_context(|| format!("the Bot API URL '{api_url}' is not valid"))?;
    // A connection per request in flight: under a burst, one per resident
    // waiting for an answer. Closing all but a few after each request (as
    // a cap of 32 did) made the bot reconnect for most answers, 5% of its
    // CPU under load; kept for the size of a ward's burst, they are
    // dropped 30 s after it instead.
    let client = teloxide::net::default_reqwest_settings()
        .pool_max_idle_per_host(1024)
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
        .context("cannot set up the HTTP client")?;
    Ok(Bot::with_client(token.expose(), client).set_api_url(url))
}

/// A running Telegram dispatcher and its scheduler.
pub struct Running {
    pub shutdown: ShutdownToken,
    pub task: JoinHandle<anyhow::Result<()>>,
    pub scheduler: JoinHandle<()>,
    pub outbox: JoinHandle<()>,
    outbox_stop: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Stops polling, lets handlers in flight finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        // A dispatcher that has not started listening yet refuses to shut
        // down ("idle"); wait until it can, or until it has ended on its own.
        loop {
            match self.shutdown.shutdown() {
                Ok(done) => {
                    done.await;
                    break;
                }
                Err(_) if self.task.is_finished() => break,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
        self.scheduler.abort();
        // The notice sender finishes the requests in flight and records them.
        let _ = self.outbox_stop.send(true);
        let _ = self.outbox.await;
        self.task.await.context("the dispatcher task failed")?
    }
}

/// Registers the command menu and starts long polling in the background.
pub async fn spawn_telegram(bot: Bot, app: App, db: Database) -> Running {
    spawn_telegram_with(bot, app, db, None).await
}

/// As [`spawn_telegram`], receiving updates by `webhook` when given.
pub async fn spawn_telegram_with(bot: Bot, app: App, db: Database, webhook: Option<telegram::Webhook>) -> Running {
    telegram::register_commands(&bot, &db).await;
    let scheduler =
        tokio::spawn(crate::scheduler::run(app.clone(), db.clone(), vec![crate::channel::Channel::Telegram]));
    let (outbox_stop, stop) = tokio::sync::watch::channel(false);
    let outbox = tokio::spawn(telegram::run_outbox(bot.clone(), app.clone(), db.clone(), stop));
    let app_for_replies = app.clone();
    let mut dispatcher = telegram::dispatcher(bot.clone(), app, db.clone());
    let shutdown = dispatcher.shutdown_token();
    let task = tokio::spawn(async move {
        let me = bot
            .get_me()
            .await
            .context("cannot reach the Telegram Bot API (getMe failed); check TELOXIDE_TOKEN and the API URL")?;
        let sender = telegram::TelegramSender { bot: bot.clone(), me, db: db.clone() };
        app_for_replies.senders.set(crate::channel::Channel::Telegram, Arc::new(sender));
        telegram::send_unsent_replies(&app_for_replies, &db).await;
        let errors = LoggingErrorHandler::with_custom_text("receiving updates failed");
        let dispatched = match webhook {
            None => dispatcher.try_dispatch_with_listener(telegram::listener(bot, db), errors).await,
            Some(hook) => {
                let listener = telegram::webhook_listener(bot, db, hook).await?;
                dispatcher.try_dispatch_with_listener(listener, errors).await
            }
        };
        dispatched.context("cannot reach the Telegram Bot API (getMe failed); check TELOXIDE_TOKEN and the API URL")
    });
    Running { shutdown, task, scheduler, outbox, outbox_stop }
}

/// What `todanpho` runs: until Ctrl-C or SIGTERM.
pub async fn run(config: Config, telegram: Option<Secret>) -> anyhow::Result<()> {
    let (app, db) = build_app(&config).await?;
    tracing::info!(ward = %config.ward.name, database = %config.database.path.display(), "todanpho starting");
    let daily_backup = tokio::spawn(crate::backup::run_daily(app.clone(), db.clone(), config.backup.clone()));
    let zalo = match Secret::from_env("ZALO_BOT_TOKEN") {
        Ok(token) => {
            let client = crate::zalo::Client::new(&config.zalo.api_url, token.expose())?;
            crate::zalo::connect(&client, config.zalo.webhook_url.is_none()).await?;
            tracing::info!("Zalo channel starting");
            match &config.zalo.webhook_url {
                None => Some(tokio::spawn(crate::zalo::run(
                    app.clone(),
                    db.clone(),
                    client,
                    crate::zalo::Settings::from(&config.zalo),
                ))),
                Some(url) => {
                    let hook = crate::zalo::Webhook {
                        url: url.clone(),
                        listen: config.zalo.webhook_listen.parse().with_context(|| {
                            format!("[zalo] webhook_listen '{}' is not an address like 0.0.0.0:8444", config.zalo.webhook_listen)
                        })?,
                        secret: Secret::from_env("ZALO_WEBHOOK_SECRET")
                            .map_err(|_| anyhow::anyhow!("ZALO_WEBHOOK_SECRET is not set: a Zalo webhook needs a secret token (8–256 characters)"))?,
                    };
                    let (_, task) = crate::zalo::serve_webhook(
                        app.clone(),
                        db.clone(),
                        client,
                        crate::zalo::Settings::from(&config.zalo),
                        hook,
                    )
                    .await?;
                    Some(task)
                }
            }
        }
        Err(_) => None,
    };
    let Some(token) = telegram else {
        // Zalo only.
        let Some(zalo) = zalo else { return Err(crate::config::ConfigError::MissingToken.into()) };
        let scheduler =
            tokio::spawn(crate::scheduler::run(app.clone(), db.clone(), vec![crate::channel::Channel::Zalo]));
        wait_for_signal().await;
        tracing::info!("stopping");
        scheduler.abort();
        zalo.abort();
        daily_backup.abort();
        return Ok(());
    };
    let bot = telegram_bot(&token, &config.telegram.api_url)?;
    let webhook = match &config.telegram.webhook_url {
        None => None,
        Some(url) => Some(telegram::Webhook {
            url: url::Url::parse(url).with_context(|| format!("[telegram] webhook_url '{url}' is not a valid URL"))?,
            listen: config.telegram.webhook_listen.parse().with_context(|| {
                format!("[telegram] webhook_listen '{}' is not an address like 0.0.0.0:8443", config.telegram.webhook_listen)
            })?,
            secret: Secret::from_env("TODANPHO_WEBHOOK_SECRET")
                .map_err(|_| anyhow::anyhow!("TODANPHO_WEBHOOK_SECRET is not set: a webhook needs a secret token (1–256 characters A–Z, a–z, 0–9, _ and -)"))?,
        }),
    };
    let running = spawn_telegram_with(bot, app, db, webhook).await;
    let shutdown = running.shutdown.clone();
    let scheduler = running.scheduler.abort_handle();
    let outbox_stop = running.outbox_stop.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing the updates in hand");
        scheduler.abort();
        let _ = outbox_stop.send(true);
        if let Ok(done) = shutdown.shutdown() {
            done.await;
        }
    });
    let result = running.task.await.context("the dispatcher task failed")?;
    daily_backup.abort();
    if let Some(zalo) = zalo {
        zalo.abort();
    }
    // Let the notice sender record what it has in flight before exiting.
    let _ = running.outbox_stop.send(true);
    let _ = running.outbox.await;
    result
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
