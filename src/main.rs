//! The `todanpho` binary: parse arguments, load config, start.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use todanpho::config::{Config, Secret};

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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot (the default).
    Run,
    /// Check the config and the dialogue files, apply migrations, and exit.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todanpho: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(&cli.config)?;
    if let Some(db) = cli.database {
        config.database.path = db;
    }
    match cli.command.unwrap_or(Command::Run) {
        Command::Check => {
            todanpho::startup::build_app(&config).await?;
            println!("config, dialogues and database are fine");
            Ok(())
        }
        Command::Run => {
            let token = Secret::from_env("TELOXIDE_TOKEN")?;
            todanpho::startup::run(config, token).await
        }
    }
}
