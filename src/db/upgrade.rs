//! Bringing a database up to this version's schema at start-up: a copy is
//! made next to it first (`<database>.before-<first new migration>`), the
//! new migrations are applied one by one (each in its own transaction), and
//! if one fails the copy is put back, so the database is as it was. A
//! database a newer version has upgraded is refused in plain words.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// The migrations this version knows.
pub static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

/// The newest migration this version knows.
pub fn latest() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Applies what `migrator` has and the database lacks. With `backup`, an
/// existing database is copied first; the copy is left beside it.
pub async fn upgrade(
    file: &Path,
    options: &SqliteConnectOptions,
    migrator: &Migrator,
    backup: bool,
) -> anyhow::Result<Option<PathBuf>> {
    let mut conn = options.connect().await.with_context(|| format!("opening the database {}", file.display()))?;
    let applied = applied(&mut conn).await?;
    let known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    if let Some(newer) = applied.iter().copied().filter(|v| !known.contains(v)).max() {
        anyhow::bail!(
            "this database was upgraded by a newer version of todanpho (it has migration {newer:04}; this version \
             knows migrations up to {:04}). Run the newer version, or restore a backup made before that upgrade \
             (todanpho restore FILE).",
            known.iter().max().copied().unwrap_or(0)
        );
    }
    let Some(first_new) = migrator.iter().find(|m| !applied.contains(&m.version)) else { return Ok(None) };
    let copy = match (backup, applied.is_empty()) {
        (true, false) => Some(copy_before(&mut conn, file, first_new.version).await?),
        _ => None,
    };
    let failed = match migrator.run(&mut conn).await {
        Ok(()) => return Ok(copy),
        Err(e) => e,
    };
    let _ = conn.close().await;
    let which = match &failed {
        MigrateError::ExecuteMigration(_, version) => migrator
            .iter()
            .find(|m| m.version == *version)
            .map(|m| format!("migration {:04} ({})", m.version, m.description))
            .unwrap_or_else(|| format!("migration {version:04}")),
        _ => "a migration".to_string(),
    };
    match &copy {
        Some(copy) => {
            restore(copy, file).with_context(|| {
                format!("the upgrade failed at {which}, and putting back the copy {} failed too", copy.display())
            })?;
            anyhow::bail!(
                "the upgrade failed at {which}: {failed}. The database is as it was before the upgrade (put back \
                 from {}). Report this with the log; the previous version still runs on it.",
                copy.display()
            )
        }
        None => anyhow::bail!("the upgrade failed at {which}: {failed}."),
    }
}

/// The migrations the database has.
async fn applied(conn: &mut sqlx::SqliteConnection) -> anyhow::Result<Vec<i64>> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(&mut *conn)
        .await?)
}

/// `<database>.before-<version>`, a checked-in-one-go copy (`VACUUM INTO`).
async fn copy_before(conn: &mut sqlx::SqliteConnection, file: &Path, version: i64) -> anyhow::Result<PathBuf> {
    let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let copy = file.with_file_name(format!("{name}.before-{version:04}"));
    // One from an earlier attempt at the same upgrade is of the same
    // database, and older: the new one replaces it.
    let _ = std::fs::remove_file(&copy);
    let target = copy.to_str().with_context(|| format!("{} is not a UTF-8 path", copy.display()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut *conn)
        .await
        .with_context(|| format!("copying the database to {} before the upgrade", copy.display()))?;
    tracing::info!(copy = %copy.display(), "database copied before the upgrade");
    Ok(copy)
}

/// Puts the copy back in place of the database (its journal goes with the
/// failed attempt).
fn restore(copy: &Path, file: &Path) -> std::io::Result<()> {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    std::fs::copy(copy, file).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::str::FromStr;

    fn options(file: &Path) -> SqliteConnectOptions {
        SqliteConnectOptions::from_str("sqlite://").unwrap().filename(file).create_if_missing(true)
    }

    /// A migrator of the first `n` real migrations, then `extra`.
    fn migrator(n: usize, extra: Vec<sqlx::migrate::Migration>) -> Migrator {
        let mut migrations: Vec<_> = MIGRATIONS.iter().take(n).cloned().collect();
        migrations.extend(extra);
        Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
    }

    fn broken(version: i64) -> sqlx::migrate::Migration {
        sqlx::migrate::Migration::new(
            version,
            Cow::Borrowed("broken"),
            sqlx::migrate::MigrationType::Simple,
            Cow::Borrowed("CREATE TABLE half_way (n INTEGER); INSERT INTO no_such_table VALUES (1);"),
            false,
        )
    }

    async fn users(file: &Path) -> i64 {
        let mut conn = options(file).connect().await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&mut conn).await.unwrap()
    }

    #[tokio::test]
    async fn a_failed_upgrade_puts_the_database_back_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        upgrade(&file, &options(&file), &migrator(3, vec![]), true).await.unwrap();
        let mut conn = options(&file).connect().await.unwrap();
        sqlx::query("INSERT INTO users (channel, external_id, created_at) VALUES ('telegram', '1', '2026-01-01')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();

        // Two good migrations, then one that fails half-way.
        let failed = upgrade(&file, &options(&file), &migrator(5, vec![broken(9_999)]), true).await.unwrap_err();
        let said = format!("{failed:#}");
        assert!(said.contains("migration 9999 (broken)") && said.contains("as it was"), "{said}");
        let copy = dir.path().join("t.db.before-0004");
        assert!(copy.exists(), "the copy is left beside the database");
        let mut conn = options(&file).connect().await.unwrap();
        assert_eq!(applied(&mut conn).await.unwrap(), vec![1, 2, 3], "not even the good ones stay");
        conn.close().await.unwrap();
        assert_eq!(users(&file).await, 1);
    }

    #[tokio::test]
    async fn a_database_a_newer_version_upgraded_is_refused_in_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        upgrade(&file, &options(&file), &MIGRATIONS, true).await.unwrap();
        let newer = migrator(
            MIGRATIONS.iter().count(),
            vec![sqlx::migrate::Migration::new(
                latest() + 1,
                Cow::Borrowed("later"),
                sqlx::migrate::MigrationType::Simple,
                Cow::Borrowed("CREATE TABLE later (n INTEGER);"),
                false,
            )],
        );
        upgrade(&file, &options(&file), &newer, true).await.unwrap();
        let refused = upgrade(&file, &options(&file), &MIGRATIONS, true).await.unwrap_err();
        let said = format!("{refused:#}");
        assert!(said.contains("upgraded by a newer version of todanpho"), "{said}");
        assert!(said.contains(&format!("{:04}", latest() + 1)), "{said}");
    }
}
