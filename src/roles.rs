//! Who may do what. Roles come from the bot's own records, never from a
//! platform's group-admin flag: residents, leaders of groups, ward officials.

use chrono::{DateTime, Utc};

use crate::dialogue::store;
use sqlx::SqliteConnection;

use tokio::sync::{mpsc, oneshot};

use crate::channel::{Channel, ChatAddr, Sender, UserAddr};

/// The person behind an update, resolved to our own user id.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i64,
    pub addr: UserAddr,
    pub name: String,
    /// The bot can write to them in private: they have written there.
    pub private_open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Resident,
    /// A member of a community digital team (thành viên tổ công nghệ số),
    /// for the groups their teams cover (see [`crate::digital::team`]).
    Member,
    Leader,
    Official,
}

/// Finds or creates the user (created at `now`), refreshing the display
/// name.
pub async fn caller(conn: &mut SqliteConnection, sender: &Sender, now: DateTime<Utc>) -> anyhow::Result<Caller> {
    let id = ensure_user(conn, &sender.addr, Some(&sender.display_name), now).await?;
    let private_open = private_chat_open(&mut *conn, &sender.addr).await?;
    Ok(Caller { id, addr: sender.addr.clone(), name: sender.display_name.clone(), private_open })
}

/// Whether the person has written to the bot in private (on Telegram a
/// bot may write first to no one else).
pub async fn private_chat_open(conn: &mut SqliteConnection, addr: &UserAddr) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM private_chats WHERE channel = ? AND chat_id = ?)")
        .bind(addr.channel.as_str())
        .bind(&addr.id)
        .fetch_one(conn)
        .await?)
}

/// Records that the caller has written to the bot in private, with the
/// update's other rows (once per person: see [`Caller::private_open`]).
pub fn private_chat_opened(caller: &Caller) -> crate::db::SetRow {
    crate::db::SetRow {
        statement: "INSERT INTO private_chats (channel, chat_id, opened_at)
                    SELECT j.value ->> 0, j.value ->> 1, t.at FROM json_each(?) j, (SELECT ? AS at) t
                    WHERE true ON CONFLICT DO NOTHING",
        values: serde_json::json!([caller.addr.channel.as_str(), caller.addr.id]),
    }
}

/// The caller if already known: a Zalo account linked to a person by a
/// code (see [`crate::identity`]) is that person; anyone else counts as
/// known under the same display name. The same read fetches the sender's
/// dialogue in private chat, the next thing most updates look at (see
/// [`crate::turn::TurnDb::dialogue`]). It comes with every update, so the
/// lookups of updates arriving together share one read (see [`Lookups`]).
pub async fn known(lookups: &Lookups, sender: &Sender) -> anyhow::Result<(Option<Caller>, store::Prefetched)> {
    let private = sender.addr.private_chat();
    let found = lookups.find(&sender.addr, &private).await?;
    let dialogue = store::Prefetched { chat: private, user: sender.addr.clone(), row: found.dialogue };
    let id = match (found.linked, found.id, found.name) {
        (Some(linked), _, _) => Some(linked),
        (None, Some(id), Some(stored)) if sender.display_name.is_empty() || stored == sender.display_name => Some(id),
        _ => None,
    };
    let private_open = found.private_open;
    let caller = id.map(|id| Caller { id, addr: sender.addr.clone(), name: sender.display_name.clone(), private_open });
    Ok((caller, dialogue))
}

/// What is stored about a sender: the person a Zalo account is linked to,
/// their own user row, and their dialogue in private chat.
#[derive(Debug, Default)]
struct Found {
    linked: Option<i64>,
    id: Option<i64>,
    name: Option<String>,
    dialogue: Option<store::Row>,
    private_open: bool,
}

/// Looks senders up for the updates being handled: lookups that arrive
/// while a read is under way go together in the next one. A read is a round
/// trip to a connection's thread, which under load costs more than the
/// query.
#[derive(Clone)]
pub struct Lookups(mpsc::UnboundedSender<Lookup>);

struct Lookup {
    key: (Channel, String, String),
    found: oneshot::Sender<Result<Found, String>>,
}

/// The most senders in one read.
const MAX_LOOKUPS: usize = 256;

impl Lookups {
    pub fn start(db: crate::db::Database) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve_lookups(db, rx));
        Self(tx)
    }

    async fn find(&self, user: &UserAddr, private: &ChatAddr) -> anyhow::Result<Found> {
        let (found, answer) = oneshot::channel();
        let key = (user.channel, user.id.clone(), private.id.clone());
        self.0.send(Lookup { key, found }).map_err(|_| anyhow::anyhow!("the sender lookup has stopped"))?;
        match answer.await {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(e)) => anyhow::bail!("looking up the sender: {e}"),
            Err(_) => anyhow::bail!("the sender lookup has stopped"),
        }
    }
}

async fn serve_lookups(db: crate::db::Database, mut rx: mpsc::UnboundedReceiver<Lookup>) {
    while let Some(batch) = crate::gather::next_group(&mut rx, MAX_LOOKUPS).await {
        let keys: Vec<(&str, &str, &str)> =
            batch.iter().map(|l| (l.key.0.as_str(), l.key.1.as_str(), l.key.2.as_str())).collect();
        match read_senders(&db, &keys).await {
            Ok(mut found) => {
                for (i, lookup) in batch.into_iter().enumerate() {
                    let _ = lookup.found.send(Ok(found.remove(&(i as i64)).unwrap_or_default()));
                }
            }
            Err(e) => {
                for lookup in batch {
                    let _ = lookup.found.send(Err(format!("{e:#}")));
                }
            }
        }
    }
}

/// One statement whatever the number of senders (they go as one JSON
/// array), so SQLite prepares it once.
async fn read_senders(
    db: &crate::db::Database,
    keys: &[(&str, &str, &str)],
) -> anyhow::Result<std::collections::HashMap<i64, Found>> {
    type Row = (i64, Option<i64>, Option<i64>, Option<String>, Option<String>, Option<DateTime<Utc>>, bool);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT k.key, a.user_id, u.id, u.display_name, d.state, d.updated_at,
                EXISTS (SELECT 1 FROM private_chats p WHERE p.channel = k.value ->> 0 AND p.chat_id = k.value ->> 1)
         FROM json_each(?) k
         LEFT JOIN user_aliases a ON a.channel = k.value ->> 0 AND a.external_id = k.value ->> 1
         LEFT JOIN users u ON u.channel = k.value ->> 0 AND u.external_id = k.value ->> 1
         LEFT JOIN dialogues d ON d.channel = k.value ->> 0 AND d.chat_id = k.value ->> 2 AND d.user_id = k.value ->> 1",
    )
    .bind(serde_json::to_string(keys)?)
    .fetch_all(&mut *db.read().await?)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(i, linked, id, name, state, updated_at, private_open)| {
            (i, Found { linked, id, name, dialogue: state.zip(updated_at), private_open })
        })
        .collect())
}

/// The user's id; a new user is created at `now`.
pub async fn ensure_user(
    conn: &mut SqliteConnection,
    addr: &UserAddr,
    name: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let name = name.filter(|n| !n.is_empty());
    // Nearly every message comes from someone known under the same name: a
    // read then, not a write that would queue behind every other writer.
    let known: Option<(i64, String)> =
        sqlx::query_as("SELECT id, display_name FROM users WHERE channel = ? AND external_id = ?")
            .bind(addr.channel.as_str())
            .bind(&addr.id)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some((id, stored)) = known {
        if name.is_none_or(|n| n == stored) {
            return Ok(id);
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (channel, external_id, display_name, created_at) VALUES (?, ?, COALESCE(?, ''), ?)
         ON CONFLICT (channel, external_id) DO UPDATE SET display_name = COALESCE(excluded.display_name, users.display_name)
         RETURNING id",
    )
    .bind(addr.channel.as_str())
    .bind(&addr.id)
    .bind(name)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// How a person (`users u`) is named to others: the head of their approved
/// household as registered, else the name their platform gave.
macro_rules! person_name {
    () => {
        "COALESCE((SELECT h.head_name FROM households h
                   WHERE h.owner_user_id = u.id AND h.status = 'approved' ORDER BY h.id LIMIT 1),
                  u.display_name)"
    };
}
pub(crate) use person_name;

/// Where to reach a person, and the name to show for them: the head of
/// household's registered name where they have an approved household (the
/// name they gave, in its Vietnamese order), else their platform name.
pub async fn user_addr(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Option<(UserAddr, String)>> {
    let row: Option<(String, String, String)> =
        sqlx::query_as(concat!("SELECT u.channel, u.external_id, ", person_name!(), " FROM users u WHERE u.id = ?"))
            .bind(user_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.and_then(|(channel, id, name)| Some((UserAddr { channel: Channel::parse(&channel)?, id }, name))))
}

pub async fn is_official(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT user_id FROM officials WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

pub async fn is_leader_of(conn: &mut SqliteConnection, user_id: i64, group_id: i64) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT user_id FROM leaders WHERE user_id = ? AND group_id = ?")
        .bind(user_id)
        .bind(group_id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The names of each group's leaders, by group id, in the order they were
/// appointed.
pub async fn leader_names(conn: &mut SqliteConnection) -> anyhow::Result<std::collections::HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(concat!(
        "SELECT l.group_id, ",
        person_name!(),
        " FROM leaders l JOIN users u ON u.id = l.user_id ORDER BY l.group_id, l.appointed_at, l.user_id"
    ))
    .fetch_all(conn)
    .await?;
    let mut names: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (group, name) in rows {
        names.entry(group).or_default().push(name);
    }
    Ok(names)
}

/// Leaders of the group and every official may act on the group's records.
pub async fn can_manage_group(conn: &mut SqliteConnection, user_id: i64, group_id: i64) -> anyhow::Result<bool> {
    Ok(is_official(&mut *conn, user_id).await? || is_leader_of(conn, user_id, group_id).await?)
}

pub async fn role_of(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<Role> {
    if is_official(&mut *conn, user_id).await? {
        return Ok(Role::Official);
    }
    let leads: Option<i64> = sqlx::query_scalar("SELECT group_id FROM leaders WHERE user_id = ? LIMIT 1")
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?;
    if leads.is_some() {
        return Ok(Role::Leader);
    }
    let member: Option<i64> = sqlx::query_scalar("SELECT team_id FROM digital_team_members WHERE user_id = ? LIMIT 1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(if member.is_some() { Role::Member } else { Role::Resident })
}

pub async fn leaders_of(conn: &mut SqliteConnection, group_id: i64) -> anyhow::Result<Vec<(i64, UserAddr)>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT u.id, u.channel, u.external_id FROM leaders l JOIN users u ON u.id = l.user_id WHERE l.group_id = ? ORDER BY l.appointed_at",
    )
    .bind(group_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, channel, ext)| Some((id, UserAddr { channel: Channel::parse(&channel)?, id: ext })))
        .collect())
}

/// Returns false if the user already held the role.
pub async fn appoint_official(
    conn: &mut SqliteConnection,
    user_id: i64,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO officials (user_id, appointed_by, appointed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(user_id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_official(conn: &mut SqliteConnection, user_id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM officials WHERE user_id = ?").bind(user_id).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_officials(conn: &mut SqliteConnection) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM officials").fetch_one(conn).await?)
}

pub async fn appoint_leader(
    conn: &mut SqliteConnection,
    user_id: i64,
    group_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO leaders (group_id, user_id, appointed_by, appointed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn revoke_leader(conn: &mut SqliteConnection, user_id: i64, group_id: i64) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM leaders WHERE user_id = ? AND group_id = ?")
        .bind(user_id)
        .bind(group_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Makes the officials named in config officials (at `now`); never
/// removes anyone. The configuration names them by Telegram id, so this
/// names the platform.
pub async fn seed_officials(
    conn: &mut SqliteConnection,
    telegram_ids: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for id in telegram_ids {
        let addr = UserAddr { channel: Channel::Telegram, id: id.to_string() };
        let user = ensure_user(&mut *conn, &addr, None, now).await?;
        appoint_official(&mut *conn, user, None, now).await?;
    }
    Ok(())
}

/// Telegram ids of every official, for their command menu.
pub async fn official_telegram_ids(conn: &mut SqliteConnection) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.external_id FROM officials o JOIN users u ON u.id = o.user_id WHERE u.channel = 'telegram'",
    )
    .fetch_all(conn)
    .await?)
}

pub async fn officials(conn: &mut SqliteConnection) -> anyhow::Result<Vec<(i64, UserAddr)>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT u.id, u.channel, u.external_id FROM officials o JOIN users u ON u.id = o.user_id ORDER BY o.appointed_at",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, channel, ext)| Some((id, UserAddr { channel: Channel::parse(&channel)?, id: ext })))
        .collect())
}
