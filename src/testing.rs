//! A ward on a temporary database, to call ward actions directly, without a
//! chat: two groups with a Telegram chat each, and one person in each role
//! (an official, a leader of each group, a resident, a member of a digital
//! team is left to the tests that need one). Tests only.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use crate::action::{Actor, Door};
use crate::app::App;
use crate::channel::{Channel, ChatAddr, UserAddr};
use crate::clock::ManualClock;
use crate::db::{Database, Tx};

/// The refusal an action (or a check) answered with; a test fails when it
/// was not refused.
pub fn refused<T: std::fmt::Debug>(acted: &Result<T, crate::refusal::Stop>) -> &crate::refusal::Refusal {
    match acted {
        Err(crate::refusal::Stop::Refused(r)) => r,
        other => panic!("not refused: {other:?}"),
    }
}

pub struct Ward {
    _dir: tempfile::TempDir,
    pub app: App,
    pub db: Database,
    pub clock: Arc<ManualClock>,
    pub official: i64,
    /// Leader of `group`.
    pub leader: i64,
    /// Leader of `other_group`.
    pub other_leader: i64,
    pub resident: i64,
    pub group: i64,
    pub other_group: i64,
}

/// Monday 7 December 2026, 09:00 in Hà Nội.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).single().expect("a time")
}

impl Ward {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let text = format!(
            "[ward]\nname = \"Phường Thử\"\n[database]\npath = \"{}\"\n[telegram]\nofficials = []\n",
            dir.path().join("ward.db").display()
        );
        let config = crate::config::Config::parse(&text).expect("a config");
        let clock = Arc::new(ManualClock::new(start()));
        let (app, db) = crate::startup::build_app_with_clock(&config, clock.clone()).await.expect("the app");
        let mut ward = Ward {
            _dir: dir,
            app,
            db,
            clock,
            official: 0,
            leader: 0,
            other_leader: 0,
            resident: 0,
            group: 0,
            other_group: 0,
        };
        ward.group = ward.add_group("Tổ 1", "-1001").await;
        ward.other_group = ward.add_group("Tổ 2", "-1002").await;
        ward.official = ward.person("100", "Cán Bộ Phường").await;
        ward.leader = ward.person("200", "Trần Tổ Trưởng").await;
        ward.other_leader = ward.person("300", "Lê Tổ Hai").await;
        ward.resident = ward.person("400", "Nguyễn Cư Dân").await;
        let now = ward.now();
        let mut tx = ward.tx().await;
        crate::roles::appoint_official(&mut tx, ward.official, None, now).await.expect("an official");
        crate::roles::appoint_leader(&mut tx, ward.leader, ward.group, ward.official, now).await.expect("a leader");
        crate::roles::appoint_leader(&mut tx, ward.other_leader, ward.other_group, ward.official, now)
            .await
            .expect("a leader");
        tx.commit().await.expect("committed");
        ward
    }

    pub fn now(&self) -> DateTime<Utc> {
        use crate::clock::Clock;
        self.clock.now()
    }

    pub async fn tx(&self) -> Tx {
        self.db.write().await.expect("the writer")
    }

    /// A person on Telegram, by their Telegram id.
    pub async fn person(&self, telegram_id: &str, name: &str) -> i64 {
        let mut tx = self.tx().await;
        let addr = UserAddr { channel: Channel::Telegram, id: telegram_id.into() };
        let id = crate::roles::ensure_user(&mut tx, &addr, Some(name), self.now()).await.expect("a user");
        tx.commit().await.expect("committed");
        id
    }

    /// A group with one Telegram chat.
    pub async fn add_group(&self, name: &str, chat: &str) -> i64 {
        let mut tx = self.tx().await;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO groups (name, name_folded, created_at) VALUES (?, ?, ?) RETURNING id")
                .bind(name)
                .bind(crate::text::fold(name))
                .bind(self.now())
                .fetch_one(&mut *tx)
                .await
                .expect("a group");
        sqlx::query("INSERT INTO group_chats (channel, chat_id, group_id, linked_at) VALUES ('telegram', ?, ?, ?)")
            .bind(chat)
            .bind(id)
            .bind(self.now())
            .execute(&mut *tx)
            .await
            .expect("a chat");
        tx.commit().await.expect("committed");
        id
    }

    /// An approved household of `group`, its head `owner`, at number
    /// `house` on Xuân La: `members` people, `vneid` of them with VNeID
    /// level 2, one smartphone user, no payment account.
    pub async fn household(&self, owner: i64, group: i64, house: &str, members: i64, vneid: i64) -> i64 {
        let mut tx = self.tx().await;
        let id = sqlx::query_scalar(
            "INSERT INTO households (group_id, owner_user_id, head_name, head_name_folded, house_number, street, phone,
                members, smartphone_users, has_epayment, vneid_level2, status, created_at, updated_at)
             VALUES (?, ?, 'Nguyễn Văn Chủ', 'nguyen van chu', ?, 'Xuân La', '0912345678', ?, 1, 0, ?, 'approved', ?, ?)
             RETURNING id",
        )
        .bind(group)
        .bind(owner)
        .bind(house)
        .bind(members)
        .bind(vneid)
        .bind(self.now())
        .bind(self.now())
        .fetch_one(&mut *tx)
        .await
        .expect("a household");
        tx.commit().await.expect("committed");
        id
    }

    pub fn chat(&self, id: &str) -> ChatAddr {
        ChatAddr { channel: Channel::Telegram, id: id.into() }
    }

    /// `user` acting through Telegram, now.
    pub fn actor(&self, user: i64) -> Actor {
        Actor::new(user, Door::Telegram, self.now())
    }

    /// `user` acting through `door`, now.
    pub fn actor_at(&self, user: i64, door: Door) -> Actor {
        Actor::new(user, door, self.now())
    }

    /// Every audit row: actor, action, subject, detail, door.
    pub async fn audit(&self) -> Vec<(Option<i64>, String, String, Option<String>, Option<String>)> {
        sqlx::query_as("SELECT actor_user_id, action, subject, detail, door FROM audit_log ORDER BY id")
            .fetch_all(&mut *self.db.read().await.expect("a reader"))
            .await
            .expect("the audit log")
    }

    /// Each role's person, named, for tests that try an action as everyone.
    pub fn everyone(&self) -> [(&'static str, i64); 4] {
        [
            ("official", self.official),
            ("leader", self.leader),
            ("other leader", self.other_leader),
            ("resident", self.resident),
        ]
    }
}
