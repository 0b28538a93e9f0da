//! What a chat platform looks like to the rest of the bot: who spoke where,
//! what they sent, and what the bot does in return. Telegram (and later
//! Zalo) translate their own updates into these types and render [`Action`]s
//! back; nothing past this module knows which platform it is talking to:
//! features ask a chat's [`Capabilities`], never its platform.

use serde::{Deserialize, Serialize};

mod capabilities;
mod keyboard;
pub mod menus;
mod replies;
pub use capabilities::{Capabilities, Hearing};
pub use keyboard::{Button, ButtonKind, Keyboard, ReplyKeyboard};
pub use replies::Replies;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Zalo,
}

impl Channel {
    /// Every platform, for what is done once per platform (its log of sent
    /// replies, its health).
    pub const ALL: [Channel; 2] = [Channel::Telegram, Channel::Zalo];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Zalo => "zalo",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "telegram" => Some(Channel::Telegram),
            "zalo" => Some(Channel::Zalo),
            _ => None,
        }
    }
}

/// A chat on a platform. Ids are strings because Zalo's are opaque strings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatAddr {
    pub channel: Channel,
    pub id: String,
}

/// A person on a platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UserAddr {
    pub channel: Channel,
    pub id: String,
}

impl UserAddr {
    /// The private chat with this person: on both platforms its id is the
    /// user's own id.
    pub fn private_chat(&self) -> ChatAddr {
        ChatAddr { channel: self.channel, id: self.id.clone() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
}

#[derive(Clone, Debug)]
pub struct Sender {
    pub addr: UserAddr,
    pub display_name: String,
}

#[derive(Clone, Debug)]
pub struct Incoming {
    pub chat: ChatAddr,
    pub chat_kind: ChatKind,
    pub from: Sender,
    pub event: Event,
}

impl Incoming {
    /// The message a command replied to, if any.
    pub fn replied(&self) -> Option<&Replied> {
        match &self.event {
            Event::Command { replied, .. } => replied.as_ref(),
            _ => None,
        }
    }

    /// The update without invisible formatting characters in anything a
    /// person typed (texts, captions, names): the one edge every platform's
    /// updates cross, so nothing stored or shown carries them.
    pub fn without_invisible(mut self) -> Self {
        use crate::text::visible;
        self.from.display_name = visible(&self.from.display_name);
        match &mut self.event {
            Event::Command { args, replied, .. } => {
                *args = visible(args);
                if let Some(r) = replied {
                    r.text = r.text.as_deref().map(visible);
                    if let Some(from) = &mut r.from {
                        from.display_name = visible(&from.display_name);
                    }
                }
            }
            Event::Text(text) => *text = visible(text),
            Event::Photo { caption, .. } => *caption = caption.as_deref().map(visible),
            Event::Location { .. } | Event::Button { .. } | Event::Unsupported(_) => {}
        }
        self
    }
}

#[derive(Clone, Debug)]
pub enum Event {
    /// `/name args`; `replied` is the message the command answered: its
    /// author is how a leader is appointed, its text and photo how a notice
    /// is forwarded.
    Command {
        name: String,
        args: String,
        replied: Option<Replied>,
    },
    Text(String),
    Photo {
        file_id: String,
        caption: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
    },
    /// A press on one of the bot's buttons; `shown` is what the pressed
    /// message shows now, where the platform tells.
    Button {
        callback_id: String,
        data: String,
        message: Option<MessageRef>,
        shown: Option<Shown>,
    },
    /// Something the bot cannot read (a sticker, a voice note, an edit of an
    /// earlier message).
    Unsupported(Unsupported),
}

/// What a message shows: its text and its buttons.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub text: String,
    pub keyboard: Keyboard,
}

#[derive(Clone, Debug)]
pub struct Replied {
    pub from: Option<Sender>,
    pub text: Option<String>,
    pub photo: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    Edited,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    pub chat: ChatAddr,
    pub message_id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    Send {
        to: ChatAddr,
        text: String,
        keyboard: Keyboard,
    },
    /// Replace a message the bot sent earlier; platforms that cannot edit
    /// send the new text instead.
    Edit {
        message: MessageRef,
        text: String,
        keyboard: Keyboard,
        /// Who may see the new text, decided by the flow that built it
        /// (stored replies from before this field are personal).
        #[serde(default)]
        reach: Reach,
    },
    /// Acknowledge a button press, with an optional short toast.
    Answer {
        callback_id: String,
        text: Option<String>,
    },
    /// A photo the platform already has, by its file id.
    SendPhoto {
        to: ChatAddr,
        file_id: String,
        caption: Option<String>,
    },
    /// A point on the map.
    SendLocation {
        to: ChatAddr,
        latitude: f64,
        longitude: f64,
    },
    /// Text with HTML markup (a `<pre>` table); the adapter escapes
    /// nothing, the caller does.
    SendHtml {
        to: ChatAddr,
        html: String,
    },
    /// A file made by the bot (an Excel workbook), uploaded.
    SendDocument {
        to: ChatAddr,
        bytes: Vec<u8>,
        file_name: String,
        caption: Option<String>,
    },
    /// An image made by the bot (a VietQR code), uploaded.
    SendImage {
        to: ChatAddr,
        png: Vec<u8>,
        file_name: String,
        caption: Option<String>,
    },
    /// A message the bot will edit later: the adapter records its id under
    /// `tag` (see `posts`).
    Post {
        to: ChatAddr,
        text: String,
        keyboard: Keyboard,
        tag: String,
    },
    /// The options offered in a chat are no longer in hand: what the
    /// platform keeps of them (Zalo's list of numbers to type) is dropped.
    /// Nothing is sent.
    Forget {
        chat: ChatAddr,
    },
}

/// Who an edit's new text may be shown to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reach {
    /// It may show something of the presser's own (a dialogue's summary, a
    /// household, a pledge, a report card): it may replace only a message
    /// in the presser's private chat (see [`Replies::confine_edits`]).
    #[default]
    Personal,
    /// It shows nothing personal (a campaign's progress, a notice's
    /// count): it may replace a message in any chat.
    Public,
}

impl Action {
    /// The chat this action shows up in; None for a button acknowledgement,
    /// which only the presser sees.
    pub fn chat(&self) -> Option<&ChatAddr> {
        match self {
            Action::Send { to, .. }
            | Action::SendPhoto { to, .. }
            | Action::SendLocation { to, .. }
            | Action::SendHtml { to, .. }
            | Action::SendDocument { to, .. }
            | Action::SendImage { to, .. }
            | Action::Post { to, .. }
            | Action::Forget { chat: to } => Some(to),
            Action::Edit { message, .. } => Some(&message.chat),
            Action::Answer { .. } => None,
        }
    }
}

/// Splits `/name@bot args` into the lower-cased name and the arguments.
/// A command addressed to another bot (`/help@otherbot`) is not ours: None.
pub fn parse_command(text: &str, bot_username: &str) -> Option<(String, String)> {
    let rest = text.strip_prefix('/')?;
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, target) = match head.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (head, None),
    };
    if target.is_some_and(|t| !t.eq_ignore_ascii_case(bot_username)) {
        return None;
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_ascii_lowercase(), args.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_person_who_wrote_is_answered_before_anyone_else() {
        let chat = |id: &str| ChatAddr { channel: Channel::Telegram, id: id.into() };
        let mut out = Replies::default();
        out.send(&chat("leader"), "Phản ánh mới");
        out.send(&chat("resident"), "Đã nhận phản ánh");
        out.answer("cb", None);
        out.send(&chat("group"), "Bảng tin");
        out.send(&chat("resident"), "Cảm ơn bác");
        out.send(&chat("leader"), "Ảnh");
        out.person_first(&chat("resident"));
        let order: Vec<String> =
            out.actions.iter().map(|a| a.chat().map_or("answer".to_string(), |c| c.id.clone())).collect();
        assert_eq!(order, ["resident", "answer", "resident", "leader", "group", "leader"]);
        let Action::Send { text, .. } = &out.actions[3] else { panic!("a send") };
        assert_eq!(text, "Phản ánh mới", "order within a chat is kept");
    }

    #[test]
    fn a_personal_edit_outside_the_pressers_private_chat_becomes_a_private_message() {
        let chat = |id: &str| ChatAddr { channel: Channel::Telegram, id: id.into() };
        let at = |c: &str| MessageRef { chat: chat(c), message_id: "7".into() };
        let mut out = Replies::default();
        out.edit(&at("-100"), "Hồ sơ hộ: 0912345678", Keyboard::none());
        out.edit(&at("300"), "Trang 2", Keyboard::none());
        out.edit_public(&at("-100"), "Đã ủng hộ 1.000.000 đ", Keyboard::none());
        out.confine_edits(&chat("300"));
        assert!(
            matches!(&out.actions[0], Action::Send { to, text, .. } if *to == chat("300") && text.contains("0912"))
        );
        assert!(matches!(&out.actions[1], Action::Edit { message, .. } if message.chat == chat("300")));
        assert!(
            matches!(&out.actions[2], Action::Edit { message, reach: Reach::Public, .. } if message.chat == chat("-100"))
        );
    }

    #[test]
    fn a_stored_edit_without_a_reach_is_personal() {
        let stored = r#"{"Edit":{"message":{"chat":{"channel":"telegram","id":"1"},"message_id":"2"},"text":"x","keyboard":{"rows":[],"reply":null}}}"#;
        let action: Action = serde_json::from_str(stored).unwrap();
        assert!(matches!(action, Action::Edit { reach: Reach::Personal, .. }));
    }

    #[test]
    fn an_edit_that_changes_nothing_is_dropped() {
        let at = MessageRef { chat: ChatAddr { channel: Channel::Telegram, id: "1".into() }, message_id: "7".into() };
        let keyboard = Keyboard::single(Button::callback("Chọn tất cả", "nt:all:1"));
        let shown = Shown { text: "Gửi tới: tất cả".into(), keyboard: keyboard.clone() };
        let mut out = Replies::default();
        out.edit(&at, "Gửi tới: tất cả", keyboard.clone());
        out.edit(&at, "Gửi tới: Tổ 1", keyboard);
        out.drop_unchanged_edits(Some((&at, &shown)));
        assert!(matches!(&out.actions[..], [Action::Edit { text, .. }] if text == "Gửi tới: Tổ 1"));
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command("/dangky", "todanpho_bot"), Some(("dangky".into(), "".into())));
        assert_eq!(
            parse_command("/lienket@TODANPHO_bot  Tổ dân phố số 12 ", "todanpho_bot"),
            Some(("lienket".into(), "Tổ dân phố số 12".into()))
        );
        assert_eq!(parse_command("/start dk-12", "b"), Some(("start".into(), "dk-12".into())));
        assert_eq!(parse_command("/help@otherbot", "todanpho_bot"), None);
        assert_eq!(parse_command("hello", "b"), None);
        assert_eq!(parse_command("/", "b"), None);
        assert_eq!(parse_command("/đăngký", "b"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_command(&s, "bot");
        }
    }
}
