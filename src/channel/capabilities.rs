//! What a chat can do. Features ask these questions (can I show buttons?
//! can I edit? how long may a text be?), never which platform a chat is
//! on, so that a new kind of chat (a Zalo group, a web desk) is one more
//! row here rather than a branch in every feature. The values are what the
//! platform modules carry out: `src/telegram/outbound.rs` and
//! `src/zalo/outbound.rs` are their proof.

use super::{Channel, ChatAddr, ChatKind};

/// Which of a group's messages reach the bot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hearing {
    /// Every message (a private chat).
    All,
    /// Commands and replies to the bot's messages: a Telegram group, where
    /// the bot runs in privacy mode.
    CommandsAndReplies,
    /// Only messages that mention the bot or quote one of its messages: a
    /// Zalo group (issue 39's sources).
    MentionsOnly,
}

/// What one chat can show and hear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// Buttons under a message, pressed. Without them the options are
    /// listed under the text and typed back (see [`super::menus`]).
    pub inline_buttons: bool,
    /// A message sent can be replaced later; without, the new text comes
    /// as a new message.
    pub edits: bool,
    /// A link that opens a private chat with the bot and starts it with a
    /// payload (Telegram's `t.me/<bot>?start=…`). Without, the person is
    /// told what to type to the bot in private.
    pub deep_links: bool,
    /// A photo a person sent can be sent on by the id the platform gave it
    /// (Zalo takes photos only by URL).
    pub photos_by_id: bool,
    /// A file the bot made (an Excel workbook) can be uploaded.
    pub documents: bool,
    /// An image the bot made (a VietQR code) can be uploaded.
    pub images: bool,
    /// A person can send a point on the map.
    pub locations: bool,
    /// What of the chat's messages reach the bot.
    pub hears: Hearing,
    /// The longest text in one message, in UTF-16 units (see `fit`).
    pub max_text: usize,
    /// The longest caption of a photo or a document.
    pub max_caption: usize,
    /// The bot may write to a person in private only once they opened the
    /// private chat themselves (Telegram). On Zalo the bot knows a person
    /// only from their own private messages, so it may always answer.
    pub private_needs_start: bool,
}

/// Telegram's private chat: everything; the Bot API's limits (text 1–4096,
/// caption 0–1024 characters).
const TELEGRAM: Capabilities = Capabilities {
    inline_buttons: true,
    edits: true,
    deep_links: true,
    photos_by_id: true,
    documents: true,
    images: true,
    locations: true,
    hears: Hearing::All,
    max_text: 4096,
    max_caption: 1024,
    private_needs_start: true,
};

/// Zalo's private chat: text (2,000 characters) and photos by URL, no
/// buttons, no edits, no uploads, no locations received.
const ZALO: Capabilities = Capabilities {
    inline_buttons: false,
    edits: false,
    deep_links: false,
    photos_by_id: false,
    documents: false,
    images: false,
    locations: false,
    hears: Hearing::All,
    max_text: 2000,
    max_caption: 2000,
    private_needs_start: false,
};

impl Channel {
    /// What a person's private chat with the bot can do on this platform.
    pub const fn capabilities(self) -> Capabilities {
        self.chat(ChatKind::Private)
    }

    /// What a chat of this kind can do on this platform.
    pub const fn chat(self, kind: ChatKind) -> Capabilities {
        let private = match self {
            Channel::Telegram => TELEGRAM,
            Channel::Zalo => ZALO,
        };
        match (self, kind) {
            (_, ChatKind::Private) => private,
            (Channel::Telegram, ChatKind::Group) => Capabilities { hears: Hearing::CommandsAndReplies, ..private },
            (Channel::Zalo, ChatKind::Group) => Capabilities { hears: Hearing::MentionsOnly, ..private },
        }
    }
}

impl ChatAddr {
    /// Whether this is a group, from the shape of its id: Telegram's groups
    /// have negative ids, Zalo's start with `zgr-` (issue 39's sources);
    /// anything else is a person's private chat, whose id is theirs.
    pub fn kind(&self) -> ChatKind {
        let group = match self.channel {
            Channel::Telegram => self.id.starts_with('-'),
            Channel::Zalo => self.id.starts_with("zgr-"),
        };
        if group {
            ChatKind::Group
        } else {
            ChatKind::Private
        }
    }

    /// What this chat can do.
    pub fn capabilities(&self) -> Capabilities {
        self.channel.chat(self.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(channel: Channel, id: &str) -> ChatAddr {
        ChatAddr { channel, id: id.into() }
    }

    #[test]
    fn telegram_shows_buttons_and_edits_and_zalo_lists_options_as_new_messages() {
        let telegram = Channel::Telegram.capabilities();
        assert!(telegram.inline_buttons && telegram.edits && telegram.deep_links && telegram.photos_by_id);
        assert!(telegram.documents && telegram.images && telegram.locations && telegram.private_needs_start);
        assert_eq!((telegram.max_text, telegram.max_caption), (4096, 1024));
        let zalo = Channel::Zalo.capabilities();
        assert!(!zalo.inline_buttons && !zalo.edits && !zalo.deep_links && !zalo.photos_by_id);
        assert!(!zalo.documents && !zalo.images && !zalo.locations && !zalo.private_needs_start);
        assert_eq!(zalo.max_text, 2000);
    }

    #[test]
    fn a_zalo_group_hears_only_mentions_and_a_private_chat_hears_everything() {
        assert_eq!(chat(Channel::Zalo, "zgr-8f2a").kind(), ChatKind::Group);
        assert_eq!(chat(Channel::Zalo, "zgr-8f2a").capabilities().hears, Hearing::MentionsOnly);
        assert_eq!(chat(Channel::Zalo, "6ede9afa66b88fe6d6a9").kind(), ChatKind::Private);
        assert_eq!(chat(Channel::Zalo, "6ede9afa66b88fe6d6a9").capabilities().hears, Hearing::All);
        assert_eq!(chat(Channel::Telegram, "-1001").capabilities().hears, Hearing::CommandsAndReplies);
        assert_eq!(chat(Channel::Telegram, "300003").capabilities(), Channel::Telegram.capabilities());
    }

    #[test]
    fn a_group_can_do_what_its_platform_can_apart_from_hearing() {
        for channel in Channel::ALL {
            let private = channel.capabilities();
            let group = channel.chat(ChatKind::Group);
            assert_eq!(Capabilities { hears: private.hears, ..group }, private);
        }
    }

    /// The files that may name a platform outside the platform modules
    /// (`src/telegram`, `src/zalo`, `src/channel`), each for its reason.
    /// Everything else asks a chat's capabilities: a new `Channel::Zalo`
    /// in a feature fails here.
    const MAY_NAME_A_PLATFORM: &[(&str, &str)] = &[
        ("src/delivery.rs", "which platform's sender carries an action out"),
        ("src/startup.rs", "wiring each platform's intake and sender"),
        ("src/action/mod.rs", "an actor's door is the platform the update came through"),
        ("src/identity.rs", "the link between a Zalo and a Telegram account"),
        ("src/roles.rs", "the officials named in the configuration are Telegram accounts"),
        ("src/outbox.rs", "a reply queued outside the process that names no chat needs some lane"),
        ("src/testing.rs", "tests only: the test ward's people are on Telegram"),
        ("src/intake/tests.rs", "tests only: the inbox and outbox of each platform"),
    ];

    #[test]
    fn features_ask_capabilities_not_platforms() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut offences = Vec::new();
        for path in files {
            let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            let platform = ["src/telegram/", "src/zalo/", "src/channel/"].iter().any(|m| name.starts_with(m));
            if platform || MAY_NAME_A_PLATFORM.iter().any(|(f, _)| *f == name) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules build their chats on a platform of their choice.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            for (n, line) in code.lines().enumerate() {
                if ["Channel::Telegram", "Channel::Zalo", "Channel::{"].iter().any(|p| line.contains(p)) {
                    offences.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(
            offences.is_empty(),
            "a feature names a platform; ask the chat's capabilities (`channel::Capabilities`) instead, \
             or add the file to MAY_NAME_A_PLATFORM with its reason:\n{}",
            offences.join("\n")
        );
    }
}
