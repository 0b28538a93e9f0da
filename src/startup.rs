//! Wiring: configuration → database → dialogues → each platform's intake, notice drain and the scheduler.
//! The binary and the tests both start the bot through here.

use std::sync::Arc;

use anyhow::Context;
use teloxide::prelude::*;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app::{App, ReportSettings, Settings};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Secret};
use crate::db::Database;
use crate::dialogue::Book;
use crate::intake::Intake;
use crate::{campaign, db, household, report, roles, telegram};

/// Everything but the chat platform: database migrated, officials seeded,
/// dialogues loaded and checked. The shared handles, and the database for
/// the work outside updates (each update reaches it through its turn).
pub async fn build_app(config: &Config) -> anyhow::Result<(App, Database)> {
    build_app_with_clock(config, Arc::new(SystemClock)).await
}

pub async fn build_app_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<(App, Database)> {
    build(config, clock, Start::Bot).await
}

/// The shared handles for a door that runs beside the bot on the same
/// database (`todanpho admin`): the same as [`build_app`], but it leaves
/// the running bot's sent logs and inbox alone.
pub async fn build_app_beside(config: &Config) -> anyhow::Result<(App, Database)> {
    build(config, Arc::new(SystemClock), Start::Beside).await
}

#[derive(PartialEq, Eq)]
enum Start {
    /// The bot itself starts: it settles what its last run left.
    Bot,
    /// A command beside a bot that may be running.
    Beside,
}

async fn build(config: &Config, clock: Arc<dyn Clock>, start: Start) -> anyhow::Result<(App, Database)> {
    // Counting starts before anything happens (see `ops`).
    crate::ops::install();
    let mut book = Book::load(config.dialogues.dir.as_deref())?;
    crate::forms::check(&book)?;
    household::registration::check_definition(&book)?;
    report::filing::prepare_definition(&mut book, &config.reports.categories)?;
    campaign::create::prepare_definition(&mut book)?;
    let db =
        db::connect_with(&config.database.path, config.database.synchronous, config.database.upgrade_backup).await?;
    if start == Start::Bot {
        // Before any platform takes updates in (and so before any new reply).
        crate::intake::settle_sent_logs(&db).await.context("reading the logs of sent replies")?;
        let keep = config.ops.keep_handled().map_err(crate::config::ConfigError::Invalid)?;
        crate::intake::forget_handled(&db, clock.now(), keep).await.context("pruning the inbox")?;
    }
    {
        let mut tx = db.write().await?;
        roles::seed_officials(&mut tx, &config.telegram.officials, clock.now())
            .await
            .context("seeding officials from config")?;
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
        ops: config.ops.clone(),
        weekly_summary: config.digital_teams.weekly().map_err(anyhow::Error::msg)?,
        consultation_reminders: config.consultations.reminder_offsets().map_err(anyhow::Error::msg)?,
    };
    let app = App {
        lookups: crate::roles::Lookups::start(db.clone()),
        book: Arc::new(book),
        settings: Arc::new(settings),
        clock,
        outbox: Arc::new(tokio::sync::Notify::new()),
        flood: Arc::new(crate::flood::FloodGuard::new(config.flood)),
        senders: Arc::default(),
        health: Arc::default(),
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

/// A platform running: receiving into its intake, its notice sender, and
/// (Telegram's, or the only one's) the scheduler. Every platform is
/// stopped the same way.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<anyhow::Result<()>>,
    scheduler: Option<JoinHandle<()>>,
    outbox: JoinHandle<()>,
    /// The lane a scheduler beside this platform would send through (Zalo's,
    /// for a process that runs Zalo only; Telegram's start runs its own).
    lane: Option<crate::scheduler::Lane>,
    /// Where a Zalo webhook listens.
    pub listening: Option<std::net::SocketAddr>,
}

impl Running {
    /// Stops receiving, lets the updates taken in be handled and the
    /// notices in flight be recorded, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let result = self.task.await.context("a platform's task failed")?;
        if let Some(scheduler) = self.scheduler {
            // It ends between two rounds of work; aborted, it could leave a
            // job's transaction open on the writer's connection.
            let _ = scheduler.await;
        }
        let _ = self.outbox.await;
        result
    }

    /// Receiving has ended by itself (it could not start, or failed).
    pub fn ended(&self) -> bool {
        self.task.is_finished()
    }
}

/// Starts Zalo (see [`crate::zalo::start`]).
pub async fn spawn_zalo(
    app: App,
    db: Database,
    client: crate::zalo::Client,
    settings: crate::zalo::Settings,
    webhook: Option<crate::zalo::Webhook>,
) -> anyhow::Result<Running> {
    let started = crate::zalo::start(app, db, client, settings, webhook).await?;
    Ok(Running {
        stop: started.stop,
        task: started.task,
        scheduler: None,
        outbox: started.notices,
        lane: Some((crate::channel::Channel::Zalo, started.marks)),
        listening: started.listening,
    })
}

/// Registers the command menu and starts long polling in the background.
pub async fn spawn_telegram(bot: Bot, app: App, db: Database) -> Running {
    spawn_telegram_with(bot, app, db, None).await
}

/// As [`spawn_telegram`], receiving updates by `webhook` when given.
pub async fn spawn_telegram_with(bot: Bot, app: App, db: Database, webhook: Option<telegram::Webhook>) -> Running {
    telegram::register_commands(&bot, &db).await;
    let (stop, stopped) = watch::channel(false);
    let (lane, laned) = tokio::sync::oneshot::channel();
    let scheduler = tokio::spawn(crate::scheduler::run(app.clone(), db.clone(), laned, stopped.clone()));
    let outbox = tokio::spawn(telegram::run_outbox(bot.clone(), app.clone(), db.clone(), stopped.clone()));
    let task = tokio::spawn(async move {
        let me = bot
            .get_me()
            .await
            .context("cannot reach the Telegram Bot API (getMe failed); check TELOXIDE_TOKEN and the API URL")?;
        let sender =
            telegram::TelegramSender { bot: bot.clone(), me: me.clone(), db: db.clone(), clock: app.clock.clone() };
        app.senders.set(crate::channel::Channel::Telegram, Arc::new(sender));
        let intake = Intake::start(app, db, telegram::Updates { me }).await;
        // What a crash left is sent: the scheduler may start.
        let _ = lane.send((crate::channel::Channel::Telegram, intake.marks()));
        let received = match webhook {
            None => {
                telegram::poll(&bot, &intake, stopped).await;
                Ok(())
            }
            Some(hook) => telegram::serve_webhook(&bot, intake.clone(), hook, stopped).await,
        };
        intake.drain().await;
        received
    });
    Running { stop, task, scheduler: Some(scheduler), outbox, lane: None, listening: None }
}

/// What `todanpho` runs: until Ctrl-C or SIGTERM.
pub async fn run(config: Config, telegram: Option<Secret>) -> anyhow::Result<()> {
    let (app, db) = build_app(&config).await?;
    tracing::info!(ward = %config.ward.name, database = %config.database.path.display(), "todanpho starting");
    let daily_backup = tokio::spawn(crate::backup::run_daily(app.clone(), db.clone(), config.backup.clone()));
    // Every platform this process runs, each started and stopped the same
    // way; the operator's listener first, so that a port taken stops
    // start-up before anything runs.
    let zalo = Secret::from_env("ZALO_BOT_TOKEN").ok();
    let channels: Vec<crate::channel::Channel> = [
        zalo.as_ref().map(|_| crate::channel::Channel::Zalo),
        telegram.as_ref().map(|_| crate::channel::Channel::Telegram),
    ]
    .into_iter()
    .flatten()
    .collect();
    if channels.is_empty() {
        return Err(crate::config::ConfigError::MissingToken.into());
    }
    let (_, ops) = crate::ops::serve(app.clone(), db.clone(), channels).await?;
    let mut platforms = Vec::new();
    if let Some(token) = zalo {
        let client = crate::zalo::Client::new(&config.zalo.api_url, token.expose())?;
        crate::zalo::connect(&client, config.zalo.webhook_url.is_none()).await?;
        tracing::info!("Zalo channel starting");
        let webhook = match &config.zalo.webhook_url {
            None => None,
            Some(url) => Some(crate::zalo::Webhook {
                url: url.clone(),
                listen: config.zalo.webhook_listen.parse().with_context(|| {
                    format!(
                        "[zalo] webhook_listen '{}' is not an address like 0.0.0.0:8444",
                        config.zalo.webhook_listen
                    )
                })?,
                secret: Secret::from_env("ZALO_WEBHOOK_SECRET").map_err(|_| {
                    anyhow::anyhow!(
                        "ZALO_WEBHOOK_SECRET is not set: a Zalo webhook needs a secret token (8–256 characters)"
                    )
                })?,
            }),
        };
        let settings = crate::zalo::Settings::from(&config.zalo);
        platforms.push(spawn_zalo(app.clone(), db.clone(), client, settings, webhook).await?);
    }
    match telegram {
        Some(token) => {
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
            platforms.push(spawn_telegram_with(bot, app.clone(), db.clone(), webhook).await);
        }
        // Zalo only: the scheduler Telegram's start would run.
        None => {
            if let Some(zalo) = platforms.first_mut() {
                let stopped = zalo.stop.subscribe();
                let (lane, laned) = tokio::sync::oneshot::channel();
                if let Some(zalo_lane) = zalo.lane.take() {
                    let _ = lane.send(zalo_lane);
                }
                zalo.scheduler = Some(tokio::spawn(crate::scheduler::run(app.clone(), db.clone(), laned, stopped)));
            }
        }
    }
    // Until a signal, or until a platform's receiving ends by itself (it
    // could not start, or failed).
    let signal = wait_for_signal();
    tokio::pin!(signal);
    loop {
        tokio::select! {
            _ = &mut signal => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                if platforms.iter().any(Running::ended) {
                    break;
                }
            }
        }
    }
    tracing::info!("stopping: finishing the updates in hand");
    let mut result = Ok(());
    for platform in platforms {
        result = result.and(platform.stop().await);
    }
    daily_backup.abort();
    ops.abort();
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
