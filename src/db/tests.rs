//! The writer and the update scope, against a real SQLite file.

use super::*;

async fn pool() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = connect(&dir.path().join("t.db"), Durability::Normal).await.unwrap();
    let mut tx = db.write().await.unwrap();
    sqlx::query("CREATE TABLE t (n INTEGER PRIMARY KEY)").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    (dir, db)
}

async fn rows(db: &Database) -> Vec<i64> {
    sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(&mut *db.read().await.unwrap()).await.unwrap()
}

async fn insert(conn: &mut sqlx::SqliteConnection, n: i64) {
    sqlx::query("INSERT INTO t (n) VALUES (?)").bind(n).execute(conn).await.unwrap();
}

/// A pool, its gate, and a first writer holding the turn with row 1
/// written: writers started now queue behind it, into one transaction.
async fn first_writer() -> (tempfile::TempDir, Database, Tx) {
    let (dir, db) = pool().await;
    let mut first = db.write().await.unwrap();
    insert(&mut first, 1).await;
    (dir, db, first)
}

#[tokio::test]
async fn concurrent_writers_share_commits_and_each_sees_its_rows_committed() {
    let (_dir, db) = pool().await;
    let writers: Vec<_> = (0..100)
        .map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut tx = db.write().await.unwrap();
                insert(&mut tx, n).await;
                tx.commit().await.unwrap();
                // Done means committed: another connection sees it.
                let seen: Option<i64> = sqlx::query_scalar("SELECT n FROM t WHERE n = ?")
                    .bind(n)
                    .fetch_optional(&mut *db.read().await.unwrap())
                    .await
                    .unwrap();
                assert_eq!(seen, Some(n));
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(rows(&db).await, (0..100).collect::<Vec<_>>());
    assert!(db.writes.commits() < 50, "{} commits for 100 queued writers", db.writes.commits());
}

#[tokio::test]
async fn a_writer_that_fails_loses_only_its_own_writes() {
    let (_dir, db, first) = first_writer().await;
    // Queued behind the first, so all three share one transaction.
    let failing = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = db.write().await.unwrap();
            insert(&mut tx, 2).await;
            // Dropped without commit: a handler that failed.
        }
    });
    let third = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = db.write().await.unwrap();
            insert(&mut tx, 3).await;
            tx.commit().await
        }
    });
    tokio::task::yield_now().await;
    first.commit().await.unwrap();
    failing.await.unwrap();
    third.await.unwrap().unwrap();
    assert_eq!(rows(&db).await, vec![1, 3]);
}

#[tokio::test]
async fn a_rollback_of_the_whole_transaction_fails_everyone_in_it() {
    let (_dir, db, first) = first_writer().await;
    let breaking = tokio::spawn({
        let db = db.clone();
        async move {
            let mut tx = db.write().await.unwrap();
            insert(&mut tx, 2).await;
            // What SQLite does by itself on a full disk or an I/O error.
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
            tx.commit().await
        }
    });
    tokio::task::yield_now().await;
    let first = first.commit().await;
    assert!(first.is_err(), "the first writer was told its rolled-back rows are committed");
    assert!(breaking.await.unwrap().is_err());
    assert_eq!(rows(&db).await, Vec::<i64>::new());
    // The next writer starts afresh.
    let mut next = db.write().await.unwrap();
    insert(&mut next, 4).await;
    next.commit().await.unwrap();
    assert_eq!(rows(&db).await, vec![4]);
}
fn inserting(n: i64) -> Batch {
    let mut batch = Batch::default();
    batch.push("INSERT INTO t (n) VALUES (?)").bind(n);
    batch
}

/// A row of a set-wise insert into `t`.
fn row(n: i64) -> SetRow {
    SetRow {
        statement:
            "WITH r AS (SELECT value FROM json_each(?)) INSERT INTO t (n) SELECT value FROM r WHERE ? IS NOT NULL",
        values: serde_json::json!(n),
    }
}

#[tokio::test]
async fn deferred_rows_go_with_the_last_statements_and_later_reads_see_them() {
    let (_dir, db) = pool().await;
    let mut update = db.update(chrono::Utc::now());
    update.defer(row(1)).await.unwrap();
    // Not written yet: nothing began a turn.
    assert_eq!(rows(&db).await, Vec::<i64>::new());
    update.defer(row(2)).await.unwrap();
    let Some(Written::Rows(deferred)) = update.finish() else { panic!("the rows were not deferred") };
    // As the update's ending writes them (see `intake::marks::end_turn`).
    let mut batch = Batch::default();
    SetRow::write_all(&deferred, chrono::Utc::now(), &mut batch);
    batch.extend(inserting(3));
    batch.push(END_TURN);
    let (tx, _) = db.write_with(batch).await.unwrap();
    tx.commit_released().await.unwrap();
    assert_eq!(rows(&db).await, vec![1, 2, 3]);

    // A read later in the update sends the deferred row first and
    // reads it in the update's transaction.
    let mut update = db.update(chrono::Utc::now());
    update.defer(row(4)).await.unwrap();
    let seen: Vec<i64> =
        sqlx::query_scalar("SELECT n FROM t ORDER BY n").fetch_all(&mut *update.read().await.unwrap()).await.unwrap();
    assert_eq!(seen, vec![1, 2, 3, 4]);
    let Some(Written::Open(tx)) = update.finish() else { panic!("the read did not begin the turn") };
    tx.commit().await.unwrap();
    assert_eq!(rows(&db).await, vec![1, 2, 3, 4]);
}

#[tokio::test]
async fn a_pooled_connection_cannot_write() {
    let (_dir, db) = pool().await;
    let escaped = sqlx::query("INSERT INTO t (n) VALUES (9)").execute(&mut *db.read().await.unwrap()).await;
    assert!(escaped.is_err(), "a write escaped the writer");
    let mut update = db.update(chrono::Utc::now());
    let escaped = sqlx::query("INSERT INTO t (n) VALUES (9)").execute(&mut *update.read().await.unwrap()).await;
    assert!(escaped.is_err(), "an update's read wrote");
    assert_eq!(rows(&db).await, Vec::<i64>::new());
}

#[tokio::test]
async fn a_failing_batch_loses_only_its_own_deferred_writes() {
    let (_dir, db, first) = first_writer().await;
    let failing = tokio::spawn({
        let db = db.clone();
        async move {
            let mut batch = inserting(2);
            // The same key again: the batch fails half-way.
            batch.extend(inserting(1));
            batch.push(END_TURN);
            db.write_with(batch).await.map(|_| ())
        }
    });
    tokio::task::yield_now().await;
    first.commit().await.unwrap();
    assert!(failing.await.unwrap().is_err());
    let (next, _) = db.write_with(inserting(3)).await.unwrap();
    next.commit().await.unwrap();
    assert_eq!(rows(&db).await, vec![1, 3]);
}
