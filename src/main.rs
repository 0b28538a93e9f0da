//! The `todanpho` binary: parse arguments, load config, start.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use todanpho::clock::{Clock, SystemClock};
use todanpho::config::{Config, Secret};

/// glibc's allocator kept the memory freed by the per-chat workers (see
/// `intake`; created and dropped for nearly every update under load): the
/// process grew to twice its working set and spent a tenth of its time in
/// malloc. jemalloc allocates faster and, with the settings below, gives
/// freed memory back within 100 ms from a thread of its own; giving it back
/// at once, inline, cost a tenth of the CPU in TLB flushes (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its settings from this symbol at start-up.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0,narenas:2\0";

/// Chatbot for Vietnamese residential groups (tổ dân phố / thôn).
///
/// Reads config.toml, opens (or creates) the SQLite database and serves
/// Telegram by long polling. The bot token comes from TELOXIDE_TOKEN; the Bot
/// API URL may be overridden with TELOXIDE_API_URL.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// Path to the configuration file.
    #[arg(long, short, default_value = "config.toml", env = "TODANPHO_CONFIG")]
    config: PathBuf,
    /// SQLite database file; overrides [database] path in the config.
    #[arg(long)]
    database: Option<PathBuf>,
    /// `human` or `json` (one object a line); overrides [ops] log_format.
    #[arg(long)]
    log_format: Option<todanpho::config::LogFormat>,
    /// Apply new migrations without first copying the database to
    /// <database>.before-<first new migration>.
    #[arg(long)]
    no_upgrade_backup: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot (the default).
    Run,
    /// Act as a ward official (or leader) from the command line, through the
    /// same ward actions as the chat: approve a household, move a case,
    /// confirm a pledge, grant a role. The people concerned are told on their
    /// platform by the running bot. Exit status 2 when the action is refused
    /// (the reason, in Vietnamese, on stderr); nothing is changed then.
    Admin {
        /// Who acts: our user id (12), or telegram:<id> / zalo:<id>.
        #[arg(long = "as", value_name = "WHO")]
        who: todanpho::admin::Who,
        #[command(subcommand)]
        action: todanpho::admin::Admin,
    },
    /// Write a config file (--config, default config.toml) for a new ward:
    /// asks for what is not given as a flag.
    Init {
        /// The ward's or commune's name, as residents see it.
        #[arg(long)]
        ward: Option<String>,
        /// Its time zone.
        #[arg(long)]
        timezone: Option<String>,
        /// The Telegram user id of the first ward official.
        #[arg(long)]
        official: Option<i64>,
        /// Replace a config file that is already there.
        #[arg(long)]
        force: bool,
    },
    /// Check the config and the dialogue files, apply migrations, and exit.
    Check,
    /// Write one table of the ward (households, reports, pledges, notices,
    /// summary) to standard output.
    Export {
        which: todanpho::stats::export::Which,
        #[arg(long, default_value = "csv")]
        format: TableFormat,
    },
    /// Fill the database with realistic demo data (households, reports,
    /// campaigns, pledges).
    SeedDemo {
        #[arg(long, default_value_t = 20)]
        groups: i64,
        #[arg(long, default_value_t = 1_000)]
        households: i64,
        #[arg(long, default_value_t = 200)]
        reports: i64,
        #[arg(long, default_value_t = 500)]
        pledges: i64,
    },
    /// Copy the live database to FILE (safe while the bot runs) and check
    /// the copy.
    Backup { file: PathBuf },
    /// Replace the database with a backup. Stop the bot first; the current
    /// database is kept beside it as <database>.before-restore-<time>.
    Restore { file: PathBuf },
    /// Write the ward's scene reports to standard output.
    ExportReports {
        /// Output format; `open311` is GeoReport v2 requests.json.
        #[arg(long, default_value = "open311")]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Open311,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TableFormat {
    Csv,
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    // The version says which database it can open.
    let version =
        format!("{} (database migrations up to {:04})", env!("CARGO_PKG_VERSION"), todanpho::db::upgrade::latest());
    let version: &'static str = Box::leak(version.into_boxed_str());
    let matches = Cli::command().version(version).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // The config's format, when it can be read here; a config that cannot
    // is reported by the command itself.
    let format =
        cli.log_format.or_else(|| Config::load(&cli.config).ok().map(|c| c.ops.log_format)).unwrap_or_default();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        todanpho::config::LogFormat::Human => logs.init(),
        todanpho::config::LogFormat::Json => logs.json().init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Refused>() => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("todanpho: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    // `init` writes the config the others read.
    let command = match cli.command.unwrap_or(Command::Run) {
        Command::Init { ward, timezone, official, force } => return init(&cli.config, ward, timezone, official, force),
        other => other,
    };
    let mut config = Config::load(&cli.config)?;
    if let Some(db) = cli.database {
        config.database.path = db;
    }
    config.database.upgrade_backup = !cli.no_upgrade_backup;
    match command {
        Command::Init { .. } => Ok(()),
        Command::Check => {
            todanpho::startup::build_app(&config).await?;
            println!("config, dialogues and database are fine");
            Ok(())
        }
        Command::ExportReports { format: ExportFormat::Open311 } => {
            let (app, db) = todanpho::startup::build_app(&config).await?;
            let requests = todanpho::report::open311::requests(&app, &db).await?;
            println!("{}", serde_json::to_string_pretty(&requests)?);
            Ok(())
        }
        Command::Export { which, format: TableFormat::Csv } => {
            let (app, db) = todanpho::startup::build_app(&config).await?;
            let mut conn = db.read().await?;
            let mut sink = todanpho::stats::export::CsvSink::new(
                std::io::BufWriter::new(std::io::stdout()),
                app.settings.timezone,
            );
            todanpho::stats::export::write(&app, &mut conn, &None, which, &mut sink).await
        }
        Command::SeedDemo { groups, households, reports, pledges } => {
            let (app, db) = todanpho::startup::build_app(&config).await?;
            let sizes = todanpho::demo::Sizes { groups, households, reports, pledges };
            todanpho::demo::seed(&db, app.clock.as_ref(), sizes).await?;
            println!("added {groups} groups, {households} households, {reports} reports, {pledges} pledges");
            Ok(())
        }
        Command::Backup { file } => {
            let db = todanpho::db::connect(&config.database.path, config.database.synchronous).await?;
            let made = todanpho::backup::backup(&db, &file).await?;
            println!(
                "backup written to {} ({} KB, {} households), integrity ok",
                made.path.display(),
                made.bytes / 1024,
                made.households
            );
            Ok(())
        }
        Command::Restore { file } => {
            // No bot runs here: the system's clock names the copy kept.
            let kept = todanpho::backup::restore(&file, &config.database.path, SystemClock.now()).await?;
            println!("restored {} to {}", file.display(), config.database.path.display());
            if let Some(old) = kept {
                println!("the previous database is kept as {}", old.display());
            }
            Ok(())
        }
        Command::Admin { who, action } => {
            let (app, db) = todanpho::startup::build_app_beside(&config).await?;
            match todanpho::admin::run(&app, &db, &who, action).await? {
                todanpho::admin::Ended::Done { text, queued } => {
                    println!("{text}");
                    if queued > 0 {
                        println!("({queued} tin nhắn sẽ được bot gửi đi)");
                    }
                    Ok(())
                }
                todanpho::admin::Ended::Refused(refusal) => Err(Refused(refusal.to_string()).into()),
            }
        }
        Command::Run => {
            // Telegram, Zalo, or both: each is on when its token is set.
            let telegram = Secret::from_env("TELOXIDE_TOKEN").ok();
            if telegram.is_none() && Secret::from_env("ZALO_BOT_TOKEN").is_err() {
                return Err(todanpho::config::ConfigError::MissingToken.into());
            }
            todanpho::startup::run(config, telegram).await
        }
    }
}

/// An action refused: its reason, as a chat would show it.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// SQLite allocates through glibc, not through the Rust allocator above,
/// and glibc gives every thread that allocates (one per SQLite connection)
/// its own arena and hands little back: two arenas are enough and keep the
/// process small (docs/performance.md).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; it is called before
    // any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// `todanpho init`: the answers from the flags, the rest asked for.
fn init(
    path: &std::path::Path,
    ward: Option<String>,
    timezone: Option<String>,
    official: Option<i64>,
    force: bool,
) -> anyhow::Result<()> {
    use todanpho::config::init::{render, Answers};
    anyhow::ensure!(
        force || !path.exists(),
        "{} already exists; pass --force to replace it, or --config for another file",
        path.display()
    );
    let ward = match ward {
        Some(w) => w,
        None => ask("The ward's name, as residents see it (e.g. Phường Xuân La)", None)?,
    };
    let timezone = match timezone {
        Some(t) => t,
        None => ask("Time zone", Some("Asia/Ho_Chi_Minh"))?,
    };
    let official = match official {
        Some(o) => o,
        None => ask("The Telegram user id of the first ward official (a number)", None)?
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("a Telegram user id is a number"))?,
    };
    let text = render(&Answers { ward, timezone, official }).map_err(anyhow::Error::msg)?;
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "wrote {}; next: `todanpho --config {} check`, then start it with TELOXIDE_TOKEN=<token> todanpho",
        path.display(),
        path.display()
    );
    Ok(())
}

/// One question on standard error, its answer from standard input.
fn ask(question: &str, default: Option<&str>) -> anyhow::Result<String> {
    use std::io::Write;
    match default {
        Some(d) => eprint!("{question} [{d}]: "),
        None => eprint!("{question}: "),
    }
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let answer = answer.trim().to_string();
    Ok(if answer.is_empty() { default.unwrap_or_default().to_string() } else { answer })
}
