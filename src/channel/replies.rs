//! The actions one update produces, and the rules every update's actions
//! keep (applied once, in `intake::process`).

use super::{Action, ChatAddr, Keyboard, MessageRef, Reach, Shown};

impl Replies {
    /// Holds every personal edit to the presser's private chat: a button's
    /// data can be attached to a message in a group (Telegram's clients do
    /// not do it, a forged request can), and the pressed message is then
    /// the group's. Such an edit goes to the presser in private as a new
    /// message instead. Applied once, to every update's actions.
    pub fn confine_edits(&mut self, presser: &ChatAddr) {
        for action in &mut self.actions {
            if let Action::Edit { message, text, keyboard, reach: Reach::Personal } = action {
                if message.chat != *presser {
                    tracing::info!("a personal edit of a message outside the presser's private chat sent in private");
                    *action = Action::Send {
                        to: presser.clone(),
                        text: std::mem::take(text),
                        keyboard: std::mem::take(keyboard),
                    };
                }
            }
        }
    }

    /// Drops an edit that would leave the pressed message as it is ("Chọn
    /// tất cả" when all are chosen): the platform refuses it. Applied once,
    /// to every update's actions.
    pub fn drop_unchanged_edits(&mut self, pressed: Option<(&MessageRef, &Shown)>) {
        let Some((pressed, shown)) = pressed else { return };
        self.actions.retain(|action| {
            !matches!(action, Action::Edit { message, text, keyboard, .. }
                if message == pressed && text.trim() == shown.text.trim() && keyboard.rows == shown.keyboard.rows)
        });
    }

    /// The answer to the person who wrote comes first; messages to others
    /// (leaders told of a new report, the group feed) follow. Order within
    /// each chat is kept.
    pub fn person_first(&mut self, origin: &ChatAddr) {
        let (mine, others): (Vec<Action>, Vec<Action>) =
            std::mem::take(&mut self.actions).into_iter().partition(|a| a.chat().is_none_or(|c| c == origin));
        self.actions = mine;
        self.actions.extend(others);
    }
}

/// Collects the actions one update produces.
#[derive(Debug, Default)]
pub struct Replies {
    pub actions: Vec<Action>,
    /// The kind of refusal shown among them, if one was (kept with the
    /// update's handled mark: see `Turn::refuse`).
    pub refused: Option<&'static str>,
}

impl Replies {
    pub fn send(&mut self, to: &ChatAddr, text: impl Into<String>) {
        self.send_with(to, text, Keyboard::none());
    }

    pub fn send_with(&mut self, to: &ChatAddr, text: impl Into<String>, keyboard: Keyboard) {
        self.actions.push(Action::Send { to: to.clone(), text: text.into(), keyboard });
    }

    /// Replaces a message with text that may be the presser's own: allowed
    /// only in the presser's private chat (see [`Replies::confine_edits`]).
    pub fn edit(&mut self, message: &MessageRef, text: impl Into<String>, keyboard: Keyboard) {
        self.actions.push(Action::Edit {
            message: message.clone(),
            text: text.into(),
            keyboard,
            reach: Reach::Personal,
        });
    }

    /// Replaces a message, in any chat, with text that shows nothing
    /// personal.
    pub fn edit_public(&mut self, message: &MessageRef, text: impl Into<String>, keyboard: Keyboard) {
        self.actions.push(Action::Edit { message: message.clone(), text: text.into(), keyboard, reach: Reach::Public });
    }

    pub fn answer(&mut self, callback_id: &str, text: Option<String>) {
        self.actions.push(Action::Answer { callback_id: callback_id.to_string(), text });
    }

    /// Whether the press `callback_id` has been answered (it can be once).
    pub fn answered(&self, callback_id: &str) -> bool {
        self.actions.iter().any(|a| matches!(a, Action::Answer { callback_id: id, .. } if id == callback_id))
    }

    pub fn photo(&mut self, to: &ChatAddr, file_id: &str, caption: Option<String>) {
        self.actions.push(Action::SendPhoto { to: to.clone(), file_id: file_id.to_string(), caption });
    }

    pub fn html(&mut self, to: &ChatAddr, html: String) {
        self.actions.push(Action::SendHtml { to: to.clone(), html });
    }

    pub fn document(&mut self, to: &ChatAddr, bytes: Vec<u8>, file_name: &str, caption: Option<String>) {
        self.actions.push(Action::SendDocument { to: to.clone(), bytes, file_name: file_name.to_string(), caption });
    }

    pub fn image(&mut self, to: &ChatAddr, png: Vec<u8>, file_name: &str, caption: Option<String>) {
        self.actions.push(Action::SendImage { to: to.clone(), png, file_name: file_name.to_string(), caption });
    }

    pub fn post(&mut self, to: &ChatAddr, text: impl Into<String>, keyboard: Keyboard, tag: &str) {
        self.actions.push(Action::Post { to: to.clone(), text: text.into(), keyboard, tag: tag.to_string() });
    }

    /// Drops what the platform keeps of the options offered in `chat`.
    pub fn forget(&mut self, chat: &ChatAddr) {
        self.actions.push(Action::Forget { chat: chat.clone() });
    }

    pub fn location(&mut self, to: &ChatAddr, latitude: f64, longitude: f64) {
        self.actions.push(Action::SendLocation { to: to.clone(), latitude, longitude });
    }
}
