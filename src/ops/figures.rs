//! What `/metrics` reads from the database at each scrape: the reply
//! outbox, notice deliveries, dialogues, each table's rows and the file's
//! size. Read-only, on a pooled connection; the heartbeat is the one write.
//!
//! A scrape costs the same at any size of the ward's record: the tables
//! that only grow ([`WRITTEN`]) are gauged by their highest rowid, read
//! from the end of their b-tree, instead of being counted (issue 34:
//! `COUNT(*)` walked a 1,000,000-row audit log at every scrape). Nothing
//! is counted by a trigger: the tables every update writes
//! (`processed_updates`, `reply_outbox`, `dialogues`) stay as cheap to
//! write as they were, and are counted here; they hold only what is in
//! flight or a few days of it.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::db::Database;

/// Every table whose rows are counted (`todanpho_table_rows`): the names
/// are ours, never user data, and are put into the query as such.
const TABLES: &[&str] = &[
    "audit_log",
    "ballot_box",
    "campaign_groups",
    "campaigns",
    "consultation_answered",
    "consultation_groups",
    "consultation_votes",
    "consultations",
    "dialogues",
    "digital_team_groups",
    "digital_team_members",
    "digital_teams",
    "group_chats",
    "group_circumstance_totals",
    "group_digital_totals",
    "group_household_totals",
    "group_members",
    "group_waiting",
    "groups",
    "household_baselines",
    "household_circumstances",
    "household_digital",
    "household_invites",
    "household_join_requests",
    "household_members",
    "household_updates",
    "households",
    "indicator_events",
    "leaders",
    "link_codes",
    "notice_acks",
    "notice_deliveries",
    "notice_optouts",
    "notice_targets",
    "notices",
    "officials",
    "pledges",
    "posted_messages",
    "private_chats",
    "processed_updates",
    "reply_outbox",
    "report_events",
    "report_photos",
    "reports",
    "scheduled_runs",
    "user_aliases",
    "users",
    "visits",
    "zalo_media",
    "zalo_menus",
];

/// Tables the bot only ever adds rows to: nothing in `src/` or in a
/// migration deletes or replaces one of their rows, and their rowid is
/// given in order (no `INTEGER PRIMARY KEY` set to another table's id). Their
/// `todanpho_table_rows` is the highest rowid: the rows ever written, which
/// are the rows now unless an operator deleted old ones by hand (README,
/// «What grows»). Checked by `written_tables_are_only_added_to`.
const WRITTEN: &[&str] = &[
    "audit_log",
    "campaigns",
    "consultation_answered",
    "consultation_votes",
    "consultations",
    "household_updates",
    "households",
    "indicator_events",
    "notice_acks",
    "notice_deliveries",
    "notices",
    "pledges",
    "report_events",
    "report_photos",
    "reports",
    "users",
    "visits",
    "zalo_media",
];

/// One statement for every table's rows: (table, rows), one round trip.
static TABLE_ROWS: LazyLock<String> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|t| {
            let rows = if WRITTEN.contains(t) { "COALESCE(MAX(rowid), 0)" } else { "COUNT(*)" };
            format!("SELECT '{t}', (SELECT {rows} FROM {t})")
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
});

/// Notice delivery states shown even when none is in them.
const DELIVERY_STATES: &[&str] = &["pending", "sending", "sent", "failed"];

/// Writes the heartbeat row: the database takes writes.
pub(super) async fn heartbeat(db: &Database, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut tx = db.write().await?;
    sqlx::query("INSERT INTO ops_heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the gauges read from the database.
pub(super) async fn read(db: &Database, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut conn = db.read().await?;
    let (depth, oldest): (i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM reply_outbox").fetch_one(&mut *conn).await?;
    metrics::gauge!("todanpho_reply_outbox_depth").set(depth as f64);
    let age = oldest.map_or(0.0, |at| (now - at).num_milliseconds().max(0) as f64 / 1000.0);
    metrics::gauge!("todanpho_reply_outbox_oldest_age_seconds").set(age);

    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM notice_deliveries GROUP BY status").fetch_all(&mut *conn).await?;
    for state in DELIVERY_STATES {
        let n = states.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        metrics::gauge!("todanpho_notice_deliveries", "status" => *state).set(n as f64);
    }

    let rows: Vec<(String, i64)> = sqlx::query_as(TABLE_ROWS.as_str()).fetch_all(&mut *conn).await?;
    for (table, n) in rows {
        if table == "dialogues" {
            metrics::gauge!("todanpho_dialogues").set(n as f64);
        }
        metrics::gauge!("todanpho_table_rows", "table" => table).set(n as f64);
    }

    if let Some(file) = db.file() {
        let size = |path: &std::path::Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let wal = file.with_file_name(format!("{}-wal", file.file_name().unwrap_or_default().to_string_lossy()));
        metrics::gauge!("todanpho_database_bytes").set((size(&file) + size(&wal)) as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table the migrations make is counted, so a new one cannot be
    /// forgotten.
    #[tokio::test]
    async fn every_table_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), Default::default()).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name NOT IN ('_sqlx_migrations', 'ops_heartbeat') ORDER BY name",
        )
        .fetch_all(&mut *db.read().await.unwrap())
        .await
        .unwrap();
        assert_eq!(tables, TABLES, "add the new table to TABLES");
    }

    /// A table gauged by its highest rowid is one rows are only added to,
    /// so the gauge is its rows: no code outside tests and no migration
    /// deletes from it or replaces a row, and its rowid is its own (an
    /// `id INTEGER PRIMARY KEY`, or none declared).
    #[tokio::test]
    async fn written_tables_are_only_added_to() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), Default::default()).await.unwrap();
        let mut conn = db.read().await.unwrap();
        for table in WRITTEN {
            assert!(TABLES.contains(table), "{table} is not a table");
            let keys: Vec<(String, String)> =
                sqlx::query_as("SELECT name, type FROM pragma_table_info(?) WHERE pk > 0")
                    .bind(table)
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
            let own_rowid = match keys.as_slice() {
                [(name, kind)] if kind.eq_ignore_ascii_case("INTEGER") => name == "id",
                _ => true,
            };
            assert!(own_rowid, "{table}: its rowid is another's id ({keys:?}), so its highest is no count");
            let without_rowid: bool =
                sqlx::query_scalar("SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = ?")
                    .bind(table)
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
            assert!(!without_rowid, "{table} has no rowid");
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        let mut dirs = vec![root.join("src"), root.join("migrations")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.file_name().is_some_and(|n| n != "tests.rs")
                    && path.extension().is_some_and(|e| e == "rs" || e == "sql")
                {
                    let text = std::fs::read_to_string(&path).unwrap();
                    // Test code deletes to test; the bot's never does.
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default().to_lowercase();
                    sources.push((path, code));
                }
            }
        }
        assert!(sources.len() > 50, "src/ and migrations/ were not found");
        for table in WRITTEN {
            for (path, code) in &sources {
                for write in [
                    format!("delete from {table} "),
                    format!("delete from {table}\n"),
                    format!("replace into {table} "),
                ] {
                    assert!(
                        !code.contains(&write),
                        "{}: «{write}»: {table} is not only added to; take it out of WRITTEN",
                        path.display()
                    );
                }
            }
        }
    }

    /// The gauges a scrape sets: a table only added to by its highest
    /// rowid, the others counted.
    #[tokio::test]
    async fn each_table_is_gauged() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::connect(&dir.path().join("t.db"), Default::default()).await.unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as(TABLE_ROWS.as_str()).fetch_all(&mut *db.read().await.unwrap()).await.unwrap();
        assert_eq!(rows.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), TABLES);
        assert!(rows.iter().all(|(_, n)| *n == 0), "{rows:?}");
        let mut tx = db.write().await.unwrap();
        let at = chrono::DateTime::<Utc>::UNIX_EPOCH;
        sqlx::query(
            "INSERT INTO users (channel, external_id, display_name, created_at) VALUES ('telegram', '1', 'A', ?)",
        )
        .bind(at)
        .execute(&mut *tx)
        .await
        .unwrap();
        for action in ["a", "b", "c"] {
            crate::audit::record(
                &mut tx,
                &crate::action::Actor::new(1, crate::action::Door::Telegram, at),
                action,
                "x",
                None,
            )
            .await
            .unwrap();
        }
        sqlx::query("INSERT INTO dialogues (channel, chat_id, user_id, flow, state, updated_at) VALUES ('telegram', '1', '1', 'f', '{}', ?)")
            .bind(at)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows: Vec<(String, i64)> =
            sqlx::query_as(TABLE_ROWS.as_str()).fetch_all(&mut *db.read().await.unwrap()).await.unwrap();
        let rows_of = |t: &str| rows.iter().find(|(name, _)| name == t).map(|(_, n)| *n);
        assert_eq!((rows_of("audit_log"), rows_of("dialogues"), rows_of("users")), (Some(3), Some(1), Some(1)));
    }
}
