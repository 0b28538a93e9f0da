//! The buttons a message carries: inline ones that come back as presses or
//! open the private chat, and the keyboard under the typing field. Long
//! lists of choices are paged here, so every platform's limit on buttons
//! holds.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Keyboard {
    pub rows: Vec<Vec<Button>>,
    /// The keyboard under the typing field, where a platform has one.
    pub reply: Option<ReplyKeyboard>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReplyKeyboard {
    /// A button that sends the person's location, and buttons that send
    /// their label as text.
    AskLocation { label: String, others: Vec<String> },
    /// Take away a keyboard shown earlier.
    Remove,
}

impl Keyboard {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn single(button: Button) -> Self {
        Self { rows: vec![vec![button]], reply: None }
    }

    pub fn rows(rows: Vec<Vec<Button>>) -> Self {
        Self { rows, reply: None }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.reply.is_none()
    }

    /// One page of a long list of choices, a button a row, with the way to
    /// the pages before and after (`page_data` gives a page's callback
    /// data): a keyboard stays far under Telegram's 100 buttons however
    /// long the list. `page` past the end shows the last page.
    pub fn page_of(
        choices: Vec<Button>,
        page: usize,
        per_page: usize,
        page_data: impl Fn(usize) -> String,
    ) -> Vec<Vec<Button>> {
        let pages = choices.len().div_ceil(per_page).max(1);
        let page = page.min(pages - 1);
        let mut rows: Vec<Vec<Button>> =
            choices.into_iter().skip(page * per_page).take(per_page).map(|b| vec![b]).collect();
        let mut paging = Vec::new();
        if page > 0 {
            paging.push(Button::callback(format!("◀ Trang {page}/{pages}"), page_data(page - 1)));
        }
        if page + 1 < pages {
            paging.push(Button::callback(format!("Trang {}/{pages} ▶", page + 2), page_data(page + 1)));
        }
        if !paging.is_empty() {
            rows.push(paging);
        }
        rows
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub kind: ButtonKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ButtonKind {
    /// Comes back as [`Event::Button`](super::Event::Button) with this data.
    Callback(String),
    /// Opens the private chat with the bot and starts it with this payload.
    StartPrivate(String),
}

impl Button {
    pub fn callback(label: impl Into<String>, data: impl Into<String>) -> Self {
        Self { label: label.into(), kind: ButtonKind::Callback(data.into()) }
    }

    pub fn start_private(label: impl Into<String>, payload: impl Into<String>) -> Self {
        Self { label: label.into(), kind: ButtonKind::StartPrivate(payload.into()) }
    }
}
