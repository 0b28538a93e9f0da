//! Whom an action tells of its change, as plain values, and how a door
//! turns them into messages on each person's own platform.
//!
//! A notification names a person (by our user id), a chat or a kept post,
//! its text and its choices. A choice is an action id (the same string a
//! chat button carries back, see `buttons`): Telegram shows it as a button,
//! Zalo as a number to type, the web desk as a link.

use sqlx::SqliteConnection;

use crate::channel::{Button, ChatAddr, Keyboard, MessageRef, Replies};
use crate::roles;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum To {
    /// A person, in private, on the platform they use.
    Person(i64),
    /// A chat, as it is (a group's).
    Chat(ChatAddr),
    /// Every message posted under this tag (a campaign's progress), edited
    /// in place. What it says is for everyone who can see the post.
    Posts(String),
    /// One message the bot sent earlier (a consultation's group post, kept
    /// by the notices' outbox), edited in place. As for [`To::Posts`], what
    /// it says is for everyone who can see it.
    Message(MessageRef),
}

/// One thing a notification offers to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// An action: its label and the action id a press sends back.
    Act { label: String, action: String },
    /// Start something in private with the bot (a pledge from a group's
    /// post): its label and the start payload.
    Private { label: String, payload: String },
}

impl Choice {
    pub fn new(label: impl Into<String>, action: impl Into<String>) -> Self {
        Choice::Act { label: label.into(), action: action.into() }
    }

    pub fn private(label: impl Into<String>, payload: impl Into<String>) -> Self {
        Choice::Private { label: label.into(), payload: payload.into() }
    }

    fn button(&self) -> Button {
        match self {
            Choice::Act { label, action } => Button::callback(label.clone(), action.clone()),
            Choice::Private { label, payload } => Button::start_private(label.clone(), payload.clone()),
        }
    }
}

/// What a message shows besides its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Media {
    /// A photo by its file id; the text is its caption.
    Photo(String),
    /// A pin on a map; the text is not shown.
    Pin { latitude: f64, longitude: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub to: To,
    pub text: String,
    /// Rows of choices.
    pub choices: Vec<Vec<Choice>>,
    /// Keep the message under this tag to edit it later (a campaign's
    /// announcement: see [`To::Posts`]).
    pub keep: Option<String>,
    /// A photo or a pin sent as the message (a report's, to its staff).
    pub media: Option<Media>,
}

impl Notification {
    pub fn person(user: i64, text: impl Into<String>) -> Self {
        Self { to: To::Person(user), text: text.into(), choices: Vec::new(), keep: None, media: None }
    }

    pub fn chat(chat: &ChatAddr, text: impl Into<String>) -> Self {
        Self { to: To::Chat(chat.clone()), text: text.into(), choices: Vec::new(), keep: None, media: None }
    }

    pub fn posts(tag: impl Into<String>, text: impl Into<String>) -> Self {
        Self { to: To::Posts(tag.into()), text: text.into(), choices: Vec::new(), keep: None, media: None }
    }

    pub fn message(message: MessageRef, text: impl Into<String>) -> Self {
        Self { to: To::Message(message), text: text.into(), choices: Vec::new(), keep: None, media: None }
    }

    /// Keeps the message sent to a chat under `tag`, to be edited later.
    pub fn kept_as(mut self, tag: impl Into<String>) -> Self {
        self.keep = Some(tag.into());
        self
    }

    pub fn with_choices(mut self, rows: Vec<Vec<Choice>>) -> Self {
        self.choices = rows;
        self
    }

    /// Sends the photo `file_id`, the text as its caption.
    pub fn with_photo(mut self, file_id: impl Into<String>) -> Self {
        self.media = Some(Media::Photo(file_id.into()));
        self
    }

    /// Sends a pin on a map instead of the text.
    pub fn with_pin(mut self, latitude: f64, longitude: f64) -> Self {
        self.media = Some(Media::Pin { latitude, longitude });
        self
    }

    /// The choices as a chat keyboard (see [`keyboard`]).
    pub fn keyboard(&self) -> Keyboard {
        keyboard(&self.choices)
    }
}

/// Rows of choices as a chat keyboard: each choice a button whose data is
/// its action id.
pub fn keyboard(choices: &[Vec<Choice>]) -> Keyboard {
    Keyboard::rows(choices.iter().map(|row| row.iter().map(Choice::button).collect()).collect())
}

/// Turns notifications into messages on each recipient's platform, in
/// order, added to `out` (which the door queues in the action's
/// transaction). A person the bot cannot find any more is skipped.
pub async fn render(conn: &mut SqliteConnection, told: Vec<Notification>, out: &mut Replies) -> anyhow::Result<()> {
    for note in told {
        let keyboard = note.keyboard();
        match note.to {
            To::Person(user) => {
                if let Some((addr, _)) = roles::user_addr(&mut *conn, user).await? {
                    let chat = addr.private_chat();
                    match note.media {
                        Some(media) => show(out, &chat, media, note.text),
                        None => out.send_with(&chat, note.text, keyboard),
                    }
                }
            }
            To::Chat(chat) => match (note.media, note.keep) {
                (Some(media), _) => show(out, &chat, media, note.text),
                (None, Some(tag)) => out.post(&chat, note.text, keyboard, &tag),
                (None, None) => out.send_with(&chat, note.text, keyboard),
            },
            To::Posts(tag) => {
                for message in crate::posts::find(&mut *conn, &tag).await? {
                    out.edit_public(&message, note.text.clone(), keyboard.clone());
                }
            }
            To::Message(message) => out.edit_public(&message, note.text, keyboard),
        }
    }
    Ok(())
}

fn show(out: &mut Replies, chat: &ChatAddr, media: Media, text: String) {
    match media {
        Media::Photo(file_id) => out.photo(chat, &file_id, Some(text).filter(|t| !t.is_empty())),
        Media::Pin { latitude, longitude } => out.location(chat, latitude, longitude),
    }
}
