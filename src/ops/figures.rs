//! What `/metrics` reads from the database at each scrape: the reply
//! outbox, notice deliveries, dialogues, each table's rows and the file's
//! size. Read-only, on a pooled connection; the heartbeat is the one write.

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

    let dialogues: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dialogues").fetch_one(&mut *conn).await?;
    metrics::gauge!("todanpho_dialogues").set(dialogues as f64);

    for table in TABLES {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut *conn).await?;
        metrics::gauge!("todanpho_table_rows", "table" => *table).set(rows as f64);
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
}
