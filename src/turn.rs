//! One update's turn, as a value: who is calling, what they sent, the
//! update's transaction and the replies it builds. Every handler takes one
//! `&mut Turn` and can touch nothing else: it cannot reach the pool, begin a
//! transaction of its own or commit (see [`crate::intake::process`], which
//! begins the turn and ends it).

use crate::action::{Actor, Notification};
use crate::app::App;
use crate::channel::{ChatAddr, Event, Incoming, Replies, UserAddr};
use crate::db::{Database, Reading, SetRow, UpdateTx, Written};
use crate::dialogue::store::{self, Loaded};
use crate::dialogue::DialogueState;
use crate::refusal::Refusal;
use crate::roles::{self, Caller};

pub struct Turn {
    /// The shared handles: settings, dialogue book, clock.
    pub app: App,
    pub caller: Caller,
    pub msg: Incoming,
    pub db: TurnDb,
    pub out: Replies,
}

impl Turn {
    /// Finds who sent `msg` (creating them on their first update) and
    /// begins the turn. Nearly every update comes from someone known under
    /// the same name: a read, so that the update only takes the writer if
    /// it changes something; the same read fetches their dialogue in
    /// private chat, the next thing most updates look at.
    /// The update's time is read from the bot's clock here, once (see
    /// [`TurnDb::now`]).
    pub async fn begin(app: &App, database: &Database, msg: Incoming) -> anyhow::Result<Turn> {
        let now = app.clock.now();
        let (known, dialogue) = roles::known(&app.lookups, &msg.from).await?;
        let mut db = TurnDb { tx: database.update(now), dialogue: Some(dialogue) };
        let caller = match known {
            Some(caller) => caller,
            // A user row, not a dialogue: the dialogue read stays good.
            None => roles::caller(db.tx.write().await?, &msg.from, now).await?,
        };
        Ok(Turn { app: app.clone(), caller, msg, db, out: Replies::default() })
    }

    /// Shows a refusal where the person is looking: as the note of the
    /// button they pressed (in private when the press was answered
    /// already), else in the chat they typed in.
    pub fn refuse(&mut self, refusal: Refusal) {
        let text = refusal.to_string();
        self.out.refused = Some(refusal.kind());
        match &self.msg.event {
            Event::Button { callback_id, .. } if !self.out.answered(callback_id) => {
                self.out.answer(callback_id, Some(text))
            }
            Event::Button { .. } => self.out.send(&self.caller.addr.private_chat(), text),
            _ => self.out.send(&self.msg.chat, text),
        }
    }

    /// The caller as an action's actor: through their platform, at the
    /// update's time.
    pub fn actor(&self) -> Actor {
        Actor::new(self.caller.id, self.caller.addr.channel, self.db.now())
    }

    /// Tells what an action's notifications say, in the update's
    /// transaction (the replies are committed with it).
    pub async fn tell(&mut self, told: Vec<Notification>) -> anyhow::Result<()> {
        if told.is_empty() {
            return Ok(());
        }
        crate::action::told::render(&mut *self.db.write().await?, told, &mut self.out).await
    }

    /// The replies (with the kind of refusal shown, if any) and what the
    /// update wrote, for the caller to commit together.
    pub fn finish(self) -> (Replies, Option<Written>) {
        (self.out, self.db.tx.finish())
    }
}

/// The update's transaction, with the caller's dialogue as read when the
/// turn began.
pub struct TurnDb {
    tx: UpdateTx,
    /// The caller's private dialogue row, read with the caller (see
    /// [`roles::known`]); taken by the first look at it, and dropped by any
    /// write that could change it.
    dialogue: Option<store::Prefetched>,
}

impl TurnDb {
    /// When the update began, on the bot's clock (the test clock in tests):
    /// the time of everything the update writes and decides (a dialogue's
    /// expiry, flood control), the same for all of it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.tx.now()
    }

    /// The update's transaction (see [`UpdateTx::write`]).
    pub async fn write(&mut self) -> sqlx::Result<&mut sqlx::SqliteConnection> {
        self.dialogue = None;
        self.tx.write().await
    }

    /// A connection to read with (see [`UpdateTx::read`]).
    pub async fn read(&mut self) -> sqlx::Result<Reading<'_>> {
        self.tx.read().await
    }

    /// A row written with the update's last statements (see
    /// [`UpdateTx::defer`]).
    pub async fn defer(&mut self, row: SetRow) -> sqlx::Result<()> {
        self.tx.defer(row).await
    }

    /// `user`'s dialogue in `chat`: from the row read with the caller when
    /// it is theirs (no round trip), else from the database. An expired
    /// one is not removed here (see [`TurnDb::forget_dialogue`]).
    pub async fn dialogue(&mut self, chat: &ChatAddr, user: &UserAddr) -> anyhow::Result<Loaded> {
        let now = self.now();
        if let Some(prefetched) = self.dialogue.take() {
            if let Some(loaded) = prefetched.of(chat, user, now) {
                return Ok(loaded);
            }
        }
        store::peek(&mut *self.read().await?, chat, user, now).await
    }

    /// Saves the dialogue's state with the update's last statements.
    pub async fn save_dialogue(
        &mut self,
        chat: &ChatAddr,
        user: &UserAddr,
        state: &DialogueState,
    ) -> anyhow::Result<()> {
        self.dialogue = None;
        Ok(self.tx.defer(store::saving_row(chat, user, state)?).await?)
    }

    /// Ends the dialogue (true if there was one).
    pub async fn forget_dialogue(&mut self, chat: &ChatAddr, user: &UserAddr) -> anyhow::Result<bool> {
        store::delete(self.write().await?, chat, user).await
    }
}
