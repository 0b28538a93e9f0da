//! Statements sent to the writer as one string, with their values.

/// Statements sent to the writer as one string, with their values in
/// order: each statement is a round trip to the connection's thread, and
/// the writer is held while it is made. Only statements that return ids (or
/// nothing) belong in a batch.
#[derive(Debug, Default)]
pub struct Batch {
    sql: String,
    values: Vec<Value>,
}

/// A value bound to a statement of a [`Batch`].
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    Time(chrono::DateTime<chrono::Utc>),
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<chrono::DateTime<chrono::Utc>> for Value {
    fn from(t: chrono::DateTime<chrono::Utc>) -> Self {
        Value::Time(t)
    }
}

impl Batch {
    /// Appends a statement; its `?` take the values bound next.
    pub fn push(&mut self, statement: &str) -> &mut Self {
        self.sql.push_str(statement);
        self.sql.push_str(";\n");
        self
    }

    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.values.push(value.into());
        self
    }

    pub fn extend(&mut self, other: Batch) {
        self.sql.push_str(&other.sql);
        self.values.extend(other.values);
    }

    /// Runs the batch; returns the ids its statements returned, in order.
    pub async fn fetch_ids(self, conn: &mut sqlx::SqliteConnection) -> sqlx::Result<Vec<i64>> {
        use sqlx::Arguments;
        let mut args = sqlx::sqlite::SqliteArguments::default();
        for value in self.values {
            let added = match value {
                Value::Int(n) => args.add(n),
                Value::Text(s) => args.add(s),
                Value::Time(t) => args.add(t),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        sqlx::query_scalar_with::<_, i64, _>(&self.sql, args).fetch_all(conn).await
    }
}

/// A row deferred to a set-wise statement: `statement` writes the rows of
/// every update ending together, given as one JSON array (its first `?`)
/// and the time (its second). One statement text whatever the number of
/// rows, so SQLite prepares it once.
#[derive(Debug, Clone)]
pub struct SetRow {
    pub statement: &'static str,
    pub values: serde_json::Value,
}

impl SetRow {
    /// Appends the statements writing `rows` (grouped by statement) to
    /// `batch`.
    pub fn write_all(rows: &[SetRow], now: chrono::DateTime<chrono::Utc>, batch: &mut Batch) {
        let mut statements: Vec<&'static str> = rows.iter().map(|r| r.statement).collect();
        statements.sort_unstable();
        statements.dedup();
        for statement in statements {
            let values: Vec<&serde_json::Value> =
                rows.iter().filter(|r| r.statement == statement).map(|r| &r.values).collect();
            batch
                .push(statement)
                .bind(serde_json::Value::from(values.into_iter().cloned().collect::<Vec<_>>()).to_string())
                .bind(now);
        }
    }
}
