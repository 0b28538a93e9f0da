//! Fitting what the bot says into a platform's limits. A message built from
//! a list of variable length (the ward's groups, a campaign's honour list)
//! can outgrow what one message may hold; the outgoing path of every
//! platform passes its actions through [`parts`], which splits a new
//! message at line ends (HTML kept balanced in each part, buttons on the
//! last), so that no flow has to count. An edit cannot be split: flows
//! build the messages they edit later to fit, and one that does not is cut
//! short here rather than refused by the platform.
//!
//! Lengths are counted in UTF-16 code units, as Telegram counts them (an
//! emoji is two): stricter than counting characters, so safe for Zalo too.

use crate::channel::{Action, Capabilities, Keyboard};

/// What one platform accepts in one message.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Characters of a text message.
    pub text: usize,
    /// Characters of a photo's or a document's caption.
    pub caption: usize,
}

impl Limits {
    /// What a chat that can do `can` accepts (the platforms' figures are in
    /// `channel::Capabilities`).
    pub const fn of(can: Capabilities) -> Self {
        Limits { text: can.max_text, caption: can.max_caption }
    }
}

/// Telegram's limits on an inline keyboard: buttons in all, and bytes of one
/// button's callback data.
pub const MAX_BUTTONS: usize = 100;
pub const MAX_BUTTON_DATA: usize = 64;

/// Length as the platforms count it.
pub fn length(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The requests an action becomes within `limits`, in order.
pub fn parts(action: Action, limits: &Limits) -> Vec<Action> {
    let action = match action {
        Action::Send { to, text, keyboard } => Action::Send { to, text, keyboard: fit_keyboard(keyboard) },
        Action::Post { to, text, keyboard, tag } => Action::Post { to, text, keyboard: fit_keyboard(keyboard), tag },
        Action::Edit { message, text, keyboard, reach } => {
            Action::Edit { message, text, keyboard: fit_keyboard(keyboard), reach }
        }
        other => other,
    };
    match action {
        Action::Send { to, text, keyboard } => {
            with_keyboard_last(split_text(&text, limits.text), keyboard, |text, keyboard| Action::Send {
                to: to.clone(),
                text,
                keyboard,
            })
        }
        Action::Post { to, text, keyboard, tag } => {
            let texts = split_text(&text, limits.text);
            if texts.len() > 1 {
                // Edited later as one message: the flow should have built it
                // to fit. The last part is the one edited.
                tracing::error!(parts = texts.len(), "a message to edit later was too long and was split");
            }
            let last = texts.len() - 1;
            texts
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    if i == last {
                        Action::Post { to: to.clone(), text, keyboard: keyboard.clone(), tag: tag.clone() }
                    } else {
                        Action::Send { to: to.clone(), text, keyboard: Keyboard::none() }
                    }
                })
                .collect()
        }
        Action::SendHtml { to, html } => {
            split_html(&html, limits.text).into_iter().map(|html| Action::SendHtml { to: to.clone(), html }).collect()
        }
        Action::Edit { message, text, keyboard, reach } => {
            let text = if length(&text) > limits.text {
                tracing::error!("an edit was too long for one message and was cut short");
                let mut first = split_text(&text, limits.text - 2).swap_remove(0);
                first.push_str(" …");
                first
            } else {
                text
            };
            vec![Action::Edit { message, text, keyboard, reach }]
        }
        Action::SendPhoto { to, file_id, caption } => {
            let (caption, rest) = fit_caption(caption, limits);
            let mut out = vec![Action::SendPhoto { to: to.clone(), file_id, caption }];
            out.extend(rest.into_iter().map(|text| Action::Send { to: to.clone(), text, keyboard: Keyboard::none() }));
            out
        }
        Action::SendImage { to, png, file_name, caption } => {
            let (caption, rest) = fit_caption(caption, limits);
            let mut out = vec![Action::SendImage { to: to.clone(), png, file_name, caption }];
            out.extend(rest.into_iter().map(|text| Action::Send { to: to.clone(), text, keyboard: Keyboard::none() }));
            out
        }
        Action::SendDocument { to, bytes, file_name, caption } => {
            let (caption, rest) = fit_caption(caption, limits);
            let mut out = vec![Action::SendDocument { to: to.clone(), bytes, file_name, caption }];
            out.extend(rest.into_iter().map(|text| Action::Send { to: to.clone(), text, keyboard: Keyboard::none() }));
            out
        }
        other @ (Action::Answer { .. } | Action::SendLocation { .. } | Action::Forget { .. }) => vec![other],
    }
}

/// A keyboard Telegram accepts. Flows page long lists themselves (see
/// `Keyboard::page_of`); this is the last guard, so that a message is not
/// refused whole for one button: a button whose data is too long is left
/// out, and buttons past the hundredth.
fn fit_keyboard(mut keyboard: Keyboard) -> Keyboard {
    use crate::channel::ButtonKind;
    let before: usize = keyboard.rows.iter().map(Vec::len).sum();
    for row in &mut keyboard.rows {
        row.retain(
            |b| !matches!(&b.kind, ButtonKind::Callback(data) if data.is_empty() || data.len() > MAX_BUTTON_DATA),
        );
    }
    let mut left = MAX_BUTTONS;
    for row in &mut keyboard.rows {
        row.truncate(left);
        left -= row.len();
    }
    keyboard.rows.retain(|row| !row.is_empty());
    let after: usize = keyboard.rows.iter().map(Vec::len).sum();
    if after < before {
        tracing::error!(dropped = before - after, "buttons over Telegram's limits were left out");
    }
    keyboard
}

fn with_keyboard_last(
    texts: Vec<String>,
    keyboard: Keyboard,
    build: impl Fn(String, Keyboard) -> Action,
) -> Vec<Action> {
    let last = texts.len() - 1;
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| build(text, if i == last { keyboard.clone() } else { Keyboard::none() }))
        .collect()
}

/// A caption that fits, and what follows it as text messages.
fn fit_caption(caption: Option<String>, limits: &Limits) -> (Option<String>, Vec<String>) {
    match caption {
        Some(c) if length(&c) > limits.caption => {
            let mut head = split_text(&c, limits.caption);
            let first = head.remove(0);
            let rest = split_text(&head.join("\n"), limits.text);
            (Some(first), rest.into_iter().filter(|t| !t.is_empty()).collect())
        }
        other => (other, Vec::new()),
    }
}

/// Plain text in parts of at most `max`, cut at a line end where one is in
/// the second half of the part, else between words, else anywhere.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    // Nearly every message fits: no work beyond counting.
    if length(text.trim()) <= max {
        return vec![text.trim().to_string()];
    }
    let units: Vec<Unit> = text.trim().chars().map(|c| Unit::Text(c.to_string())).collect();
    split_units(&units, max)
}

/// Telegram HTML in parts of at most `max`, each with its tags balanced: a
/// tag open at a cut is closed at the end of the part and opened again at
/// the start of the next. Tags and entities are never cut.
pub fn split_html(html: &str, max: usize) -> Vec<String> {
    if length(html.trim()) <= max {
        return vec![html.trim().to_string()];
    }
    split_units(&tokenize(html.trim()), max)
}

#[derive(Debug, Clone, PartialEq)]
enum Unit {
    /// An opening tag as written, and its name.
    Open(String, String),
    /// A closing tag's name.
    Close(String),
    /// A character, or an entity such as `&amp;`.
    Text(String),
}

impl Unit {
    fn as_str(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Unit::Open(tag, _) => tag.into(),
            Unit::Close(name) => format!("</{name}>").into(),
            Unit::Text(t) => t.into(),
        }
    }

    fn is(&self, c: &str) -> bool {
        matches!(self, Unit::Text(t) if t == c)
    }
}

fn tokenize(html: &str) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let taken = match c {
            '<' => rest.find('>').map(|end| {
                let tag = &rest[..=end];
                let inner = tag[1..tag.len() - 1].trim();
                let unit = match inner.strip_prefix('/') {
                    Some(name) => Unit::Close(name.trim().to_ascii_lowercase()),
                    None => {
                        let name = inner.split(|c: char| c.is_whitespace()).next().unwrap_or("").to_ascii_lowercase();
                        Unit::Open(tag.to_string(), name)
                    }
                };
                (unit, end + 1)
            }),
            '&' => rest
                .find(';')
                .filter(|end| *end <= 10 && rest[1..*end].chars().all(|c| c.is_ascii_alphanumeric() || c == '#'))
                .map(|end| (Unit::Text(rest[..=end].to_string()), end + 1)),
            _ => None,
        };
        let (unit, len) = taken.unwrap_or_else(|| (Unit::Text(c.to_string()), c.len_utf8()));
        units.push(unit);
        rest = &rest[len..];
    }
    units
}

/// Tags open after `units`, outermost first (each with its opening as
/// written).
fn apply(stack: &mut Vec<(String, String)>, unit: &Unit) {
    match unit {
        Unit::Open(tag, name) => stack.push((tag.clone(), name.clone())),
        Unit::Close(name) => {
            if let Some(at) = stack.iter().rposition(|(_, n)| n == name) {
                stack.truncate(at);
            }
        }
        Unit::Text(_) => {}
    }
}

fn closers(stack: &[(String, String)]) -> String {
    stack.iter().rev().map(|(_, name)| format!("</{name}>")).collect()
}

fn openers(stack: &[(String, String)]) -> String {
    stack.iter().map(|(tag, _)| tag.as_str()).collect()
}

fn split_units(units: &[Unit], max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prefix: Vec<(String, String)> = Vec::new();
    while start < units.len() {
        let opening = openers(&prefix);
        let mut stack = prefix.clone();
        let mut len = length(&opening);
        // Where the part may end: after a line, after a word, anywhere;
        // each with the tags open there.
        let (mut line_end, mut word_end) = (None, None);
        let mut end = start;
        for (i, unit) in units.iter().enumerate().skip(start) {
            let mut next = stack.clone();
            apply(&mut next, unit);
            let grown = len + length(&unit.as_str());
            if grown + length(&closers(&next)) > max && end > start {
                break;
            }
            len = grown;
            stack = next;
            end = i + 1;
            if unit.is("\n") {
                line_end = Some((i, stack.clone()));
            } else if unit.is(" ") {
                word_end = Some((i, stack.clone()));
            }
        }
        if end == units.len() {
            parts.push(format!("{opening}{}", render(&units[start..])));
            break;
        }
        let half = start + (end - start) / 2;
        let (cut, resume, open) = match (line_end, word_end) {
            (Some((i, s)), _) if i > half => (i, i + 1, s),
            (_, Some((i, s))) if i > half => (i, i + 1, s),
            _ => (end, end, stack),
        };
        let body = render(&units[start..cut]);
        parts.push(format!("{opening}{}{}", body.trim_end(), closers(&open)));
        // A part does not begin with the empty lines that followed the cut
        // (spaces are kept: they may line up a table).
        start = resume;
        while start < units.len() && units[start].is("\n") {
            start += 1;
        }
        prefix = open;
    }
    if parts.is_empty() {
        parts.push(String::new());
    }
    parts
}

fn render(units: &[Unit]) -> String {
    units.iter().map(|u| u.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{Button, Channel, ChatAddr};

    fn telegram() -> Limits {
        Limits::of(Channel::Telegram.capabilities())
    }
    use proptest::prelude::*;

    fn chat() -> ChatAddr {
        ChatAddr { channel: Channel::Telegram, id: "1".into() }
    }

    #[test]
    fn a_long_list_splits_at_line_ends_with_the_buttons_on_the_last_part() {
        let text: String = (1..=300).map(|i| format!("{i}. Nguyễn Văn Hộ số {i} — 500.000 đ\n")).collect();
        let keyboard = Keyboard::single(Button::callback("Ủng hộ", "ug:1"));
        let sent = parts(Action::Send { to: chat(), text: text.clone(), keyboard: keyboard.clone() }, &telegram());
        assert!(sent.len() > 1);
        let texts: Vec<&str> = sent
            .iter()
            .map(|a| match a {
                Action::Send { text, .. } => text.as_str(),
                _ => panic!("sends"),
            })
            .collect();
        assert!(texts.iter().all(|t| length(t) <= 4096 && t.ends_with('đ')), "cut at line ends");
        assert_eq!(texts.join("\n"), text.trim());
        let boards: Vec<bool> =
            sent.iter().map(|a| matches!(a, Action::Send { keyboard, .. } if !keyboard.is_empty())).collect();
        assert_eq!(boards.last(), Some(&true));
        assert_eq!(boards.iter().filter(|b| **b).count(), 1);
    }

    #[test]
    fn html_stays_balanced_in_every_part() {
        let rows: String = (0..400).map(|i| format!("Tổ {i:>3} │ 120 │ 45,5%\n")).collect();
        let html = format!("<b>Thống kê</b>\n<pre>{rows}</pre>\nA &amp; B");
        let parts = split_html(&html, 1000);
        assert!(parts.len() > 3);
        for p in &parts {
            assert!(length(p) <= 1000);
            assert_eq!(p.matches("<pre>").count(), p.matches("</pre>").count(), "{p}");
        }
        assert!(parts[1].starts_with("<pre>") && parts[0].ends_with("</pre>"));
        assert!(parts.last().unwrap().ends_with("A &amp; B"));
    }

    #[test]
    fn a_long_caption_keeps_what_fits_and_the_rest_follows_as_text() {
        let caption = "Mã QR chuyển khoản.\n".repeat(100);
        let sent = parts(Action::SendPhoto { to: chat(), file_id: "f".into(), caption: Some(caption) }, &telegram());
        assert!(matches!(&sent[0], Action::SendPhoto { caption: Some(c), .. } if length(c) <= 1024));
        assert!(sent[1..].iter().all(|a| matches!(a, Action::Send { .. })));
    }

    #[test]
    fn a_keyboard_keeps_within_telegram_s_limits() {
        let many: Vec<Vec<Button>> =
            (0..120).map(|i| vec![Button::callback(format!("{i}"), format!("x:{i}"))]).collect();
        let mut rows = many;
        rows[0].push(Button::callback("quá dài", "d".repeat(65)));
        let sent = parts(Action::Send { to: chat(), text: "t".into(), keyboard: Keyboard::rows(rows) }, &telegram());
        let Action::Send { keyboard, .. } = &sent[0] else { panic!("a send") };
        let buttons: Vec<&Button> = keyboard.rows.iter().flatten().collect();
        assert_eq!(buttons.len(), 100);
        assert!(buttons.iter().all(|b| b.label != "quá dài"));
    }

    #[test]
    fn an_edit_is_never_split() {
        let edit = Action::Edit {
            message: crate::channel::MessageRef { chat: chat(), message_id: "5".into() },
            text: "x ".repeat(3000),
            keyboard: Keyboard::none(),
            reach: crate::channel::Reach::Personal,
        };
        let out = parts(edit, &telegram());
        assert!(matches!(&out[..], [Action::Edit { text, .. }] if length(text) <= 4096));
    }

    proptest! {
        #[test]
        fn text_parts_fit_and_keep_every_word(words in prop::collection::vec("[a-zăâđêôơư😀]{1,12}[.\n ]?", 0..600), max in 60usize..300) {
            let text = words.join(" ");
            let parts = split_text(&text, max);
            for p in &parts {
                prop_assert!(length(p) <= max, "{} > {max}", length(p));
            }
            let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(squash(&parts.join(" ")), squash(&text));
        }

        #[test]
        fn html_parts_fit_and_balance(lines in prop::collection::vec("[a-z &;<>]{0,40}", 0..200), bold in any::<bool>()) {
            let body: String = lines.iter().map(|l| format!("{}\n", l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"))).collect();
            let html = if bold { format!("<b>Đầu</b>\n<pre>{body}</pre>") } else { format!("<pre><code>{body}</code></pre>") };
            for p in split_html(&html, 120) {
                prop_assert!(length(&p) <= 120);
                let mut stack = Vec::new();
                for unit in tokenize(&p) {
                    match unit {
                        Unit::Open(_, name) => stack.push(name),
                        Unit::Close(name) => prop_assert_eq!(stack.pop(), Some(name)),
                        Unit::Text(t) => prop_assert!(t != "<" && t != ">"),
                    }
                }
                prop_assert!(stack.is_empty(), "unclosed in {}", p);
            }
        }
    }
}
