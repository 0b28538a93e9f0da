//! The dialogue engine: one question at a time, a summary with Sửa /
//! Xác nhận, answers validated by their kind. Pure functions over
//! [`DialogueState`]; the caller persists the state and sends the prompts.
//!
//! Over 500 lines on purpose for now: one state machine whose transitions
//! read best side by side; issue 21 ("two words at most", files under 500)
//! is where it is split by step kind.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::definition::{Book, CommonTexts, Definition, Step, StepKind};
use crate::domain::{parse_count, Money, PersonName, PhoneNumber};
use crate::text::fold;

/// Everything collected so far; serialised to the database after each turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    pub flow: String,
    /// Facts fixed when the dialogue started (which group, which household).
    pub context: BTreeMap<String, String>,
    pub answers: BTreeMap<String, Answer>,
    pub at: Position,
    /// Selections or photos gathered for the current step, not yet final.
    #[serde(default)]
    pub draft: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Position {
    Step { index: usize, editing: bool },
    Summary,
    PickEdit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Answer {
    Text(String),
    Name(PersonName),
    Phone(PhoneNumber),
    Number(i64),
    Money(Money),
    Choice(String),
    Choices(Vec<String>),
    Photos(Vec<String>),
    Location { latitude: f64, longitude: f64 },
    Address(String),
    Date(chrono::NaiveDate),
    Skipped,
}

/// What the person sent, stripped of the platform.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Text(String),
    Photo(String),
    Location { latitude: f64, longitude: f64 },
    Button(String),
}

/// A message for the person: text and buttons (label, callback data).
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub text: String,
    pub buttons: Vec<Vec<(String, String)>>,
    pub special: Special,
}

/// Keyboards that are not buttons under a message.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Special {
    #[default]
    None,
    /// Offer a button that sends the person's location (and one that skips).
    AskLocation { label: String, skip: Option<String> },
    /// Take the location keyboard away again.
    ClearKeyboard,
}

impl Prompt {
    fn plain(text: impl Into<String>) -> Self {
        Self { text: text.into(), buttons: Vec::new(), special: Special::None }
    }

    fn with_buttons(text: impl Into<String>, buttons: Vec<Vec<(String, String)>>) -> Self {
        Self { text: text.into(), buttons, special: Special::None }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Turn {
    /// Keep going. `replace` is new content for the message whose button was
    /// pressed (so old buttons disappear), `send` are new messages.
    Continue { replace: Option<Prompt>, send: Vec<Prompt> },
    /// The person confirmed the summary; the answers are in the state.
    Completed,
}

/// Callback data of the engine's buttons: `dg:<op>[:step[:option]]`.
pub const BUTTON_PREFIX: &str = "dg:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Press {
    Choose(usize, usize),
    Toggle(usize, usize),
    Finish(usize),
    Skip(usize),
    Confirm,
    OpenEdit,
    Edit(usize),
    Back,
}

impl Press {
    fn parse(data: &str) -> Option<Self> {
        let mut parts = data.strip_prefix(BUTTON_PREFIX)?.split(':');
        let op = parts.next()?;
        let mut num = || parts.next().and_then(|p| p.parse::<usize>().ok());
        Some(match op {
            "c" => Press::Choose(num()?, num()?),
            "t" => Press::Toggle(num()?, num()?),
            "f" => Press::Finish(num()?),
            "s" => Press::Skip(num()?),
            "ok" => Press::Confirm,
            "ed" => Press::OpenEdit,
            "e" => Press::Edit(num()?),
            "bk" => Press::Back,
            _ => return None,
        })
    }
}

/// Runs dialogues defined in a [`Book`].
pub struct Engine<'a> {
    pub def: &'a Definition,
    pub common: &'a CommonTexts,
    /// The day answers are typed, in the ward's zone: what a date step's
    /// bounds count from. Unknown, dates are not bounded.
    today: Option<chrono::NaiveDate>,
}

impl<'a> Engine<'a> {
    pub fn new(book: &'a Book, def: &'a Definition) -> Self {
        Self { def, common: &book.common, today: None }
    }

    /// The engine on `today`, so that a date is checked against its step's
    /// bounds when it is typed.
    pub fn on_day(mut self, today: chrono::NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// A fresh dialogue: the intro and the first question.
    pub fn start(&self, context: BTreeMap<String, String>) -> (DialogueState, Vec<Prompt>) {
        let mut state = DialogueState {
            flow: self.def.id.clone(),
            context,
            answers: BTreeMap::new(),
            at: Position::Summary,
            draft: Vec::new(),
        };
        let intro = Prompt::plain(interpolate(&self.def.intro, &state.context));
        let first = match (0..self.def.steps.len()).find(|i| self.visible(&state, *i)) {
            Some(i) => {
                state.at = Position::Step { index: i, editing: false };
                self.question(&state, i)
            }
            None => self.summary(&state),
        };
        (state, vec![intro, first])
    }

    /// A dialogue that starts from known answers, at the summary (updating a
    /// record the person already has).
    pub fn start_at_summary(
        &self,
        context: BTreeMap<String, String>,
        answers: BTreeMap<String, Answer>,
    ) -> (DialogueState, Vec<Prompt>) {
        let state =
            DialogueState { flow: self.def.id.clone(), context, answers, at: Position::Summary, draft: Vec::new() };
        let summary = self.summary(&state);
        (state, vec![summary])
    }

    /// Sends the person back to one step with a message, used when the
    /// completed form fails a rule that spans several answers.
    pub fn reask(&self, state: &mut DialogueState, key: &str, message: &str) -> Vec<Prompt> {
        let index = self.def.step_index(key).unwrap_or(0);
        state.at = Position::Step { index, editing: true };
        state.draft.clear();
        let mut q = self.question(state, index);
        q.text = format!("⚠️ {message}\n\n{}", q.text);
        vec![q]
    }

    /// What the person sees now (after a restart, or when they are lost).
    pub fn current(&self, state: &DialogueState) -> Prompt {
        match state.at {
            Position::Step { index, .. } => self.question(state, index),
            Position::Summary => self.summary(state),
            Position::PickEdit => self.pick_edit(state),
        }
    }

    pub fn handle(&self, state: &mut DialogueState, input: Input) -> Turn {
        match (state.at, input) {
            (Position::Step { index, editing }, input) => self.on_step(state, index, editing, input),
            (Position::Summary, Input::Button(data)) => match Press::parse(&data) {
                Some(Press::Confirm) => Turn::Completed,
                Some(Press::OpenEdit) => self.open_edit(state, true),
                _ => self.stale(state),
            },
            (Position::Summary, Input::Text(text)) => match fold(&text).as_str() {
                "xac nhan" | "ok" | "dong y" | "co" | "gui" => Turn::Completed,
                "sua" => self.open_edit(state, false),
                _ => self.remind(state, &self.common.summary_hint),
            },
            (Position::Summary, _) => self.remind(state, &self.common.summary_hint),
            (Position::PickEdit, Input::Button(data)) => match Press::parse(&data) {
                Some(Press::Edit(i)) if i < self.def.steps.len() && self.visible(state, i) => {
                    self.go_edit(state, i, true)
                }
                Some(Press::Back) => {
                    state.at = Position::Summary;
                    Turn::Continue {
                        replace: Some(Prompt::plain(self.common.pick_edit.clone())),
                        send: vec![self.summary(state)],
                    }
                }
                _ => self.stale(state),
            },
            (Position::PickEdit, Input::Text(text)) => {
                let folded = fold(&text);
                let by_number = folded.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
                let by_label = self.def.steps.iter().position(|s| fold(&s.label) == folded);
                match by_number.filter(|i| *i < self.def.steps.len()).or(by_label).filter(|i| self.visible(state, *i)) {
                    Some(i) => self.go_edit(state, i, false),
                    None => self.remind(state, &self.common.pick_edit),
                }
            }
            (Position::PickEdit, _) => self.remind(state, &self.common.pick_edit),
        }
    }

    fn on_step(&self, state: &mut DialogueState, index: usize, editing: bool, input: Input) -> Turn {
        let Some(step) = self.def.steps.get(index) else {
            // A definition shrank under a stored dialogue: show the summary.
            state.at = Position::Summary;
            return Turn::Continue { replace: None, send: vec![self.summary(state)] };
        };
        let from_button = matches!(input, Input::Button(_));
        let result: Result<Answer, String> = match input {
            Input::Button(data) => match Press::parse(&data) {
                Some(Press::Choose(i, o)) if i == index => match step.kind.options().get(o) {
                    Some(opt) if matches!(step.kind, StepKind::Choice { .. }) => Ok(Answer::Choice(opt.value.clone())),
                    _ => return self.stale(state),
                },
                Some(Press::Toggle(i, o)) if i == index => {
                    let Some(opt) = step.kind.options().get(o) else { return self.stale(state) };
                    if let Some(pos) = state.draft.iter().position(|v| *v == opt.value) {
                        state.draft.remove(pos);
                    } else {
                        state.draft.push(opt.value.clone());
                    }
                    return Turn::Continue { replace: Some(self.question(state, index)), send: Vec::new() };
                }
                Some(Press::Finish(i)) if i == index => match &step.kind {
                    StepKind::Choices { options, .. } => Ok(Answer::Choices(ordered(options, &state.draft))),
                    StepKind::Photos { .. } if !state.draft.is_empty() => Ok(Answer::Photos(state.draft.clone())),
                    StepKind::Photos { .. } if step.optional => Ok(Answer::Skipped),
                    StepKind::Photos { .. } => Err(self.error_for(step)),
                    _ => return self.stale(state),
                },
                Some(Press::Skip(i)) if i == index && step.optional => Ok(Answer::Skipped),
                _ => return self.stale(state),
            },
            Input::Text(text) => {
                // One option typed at a multi-choice step is a toggle, as its
                // button is: a stray "2" (a second answer to the question
                // before) must not end the question. A list, or «Xong», ends it.
                if let Some(value) = typed_toggle(step, &text) {
                    match state.draft.iter().position(|v| *v == value) {
                        Some(at) => {
                            state.draft.remove(at);
                        }
                        None => state.draft.push(value),
                    }
                    return Turn::Continue { replace: None, send: vec![self.question(state, index)] };
                }
                self.parse_text(state, step, &text)
            }
            Input::Photo(file_id) => match step.kind {
                StepKind::Photos { max } => {
                    state.draft.push(file_id);
                    if state.draft.len() >= max {
                        Ok(Answer::Photos(std::mem::take(&mut state.draft)))
                    } else {
                        let note = self
                            .common
                            .photo_received
                            .replace("{count}", &state.draft.len().to_string())
                            .replace("{max}", &max.to_string());
                        let mut q = self.question(state, index);
                        q.text = note;
                        return Turn::Continue { replace: None, send: vec![q] };
                    }
                }
                _ => Err(self.error_for(step)),
            },
            Input::Location { latitude, longitude } => match step.kind {
                StepKind::Location
                    if latitude.is_finite()
                        && longitude.is_finite()
                        && (-90.0..=90.0).contains(&latitude)
                        && (-180.0..=180.0).contains(&longitude) =>
                {
                    Ok(Answer::Location { latitude, longitude })
                }
                _ => Err(self.error_for(step)),
            },
        };
        match result {
            Ok(answer) => {
                let shown = self.display(step, &answer);
                state.answers.insert(step.key.clone(), answer);
                state.draft.clear();
                let replace =
                    from_button.then(|| Prompt::plain(format!("{}\n➜ {shown}", self.prompt_text(state, step))));
                let mut send = Vec::new();
                if matches!(step.kind, StepKind::Location) {
                    let mut done = Prompt::plain(format!("{}: {shown}", step.label));
                    done.special = Special::ClearKeyboard;
                    send.push(done);
                }
                let next = if editing {
                    // An edit may have made a step visible that was never
                    // asked (a bank account once transfers are allowed).
                    (0..self.def.steps.len())
                        .find(|i| self.visible(state, *i) && !state.answers.contains_key(&self.def.steps[*i].key))
                } else {
                    (index + 1..self.def.steps.len()).find(|i| self.visible(state, *i))
                };
                send.push(match next {
                    Some(i) => {
                        state.at = Position::Step { index: i, editing };
                        self.question(state, i)
                    }
                    None => {
                        state.at = Position::Summary;
                        self.summary(state)
                    }
                });
                Turn::Continue { replace, send }
            }
            Err(message) => {
                let mut q = self.question(state, index);
                q.text = format!("⚠️ {message}\n\n{}", q.text);
                Turn::Continue { replace: None, send: vec![q] }
            }
        }
    }

    fn parse_text(&self, state: &mut DialogueState, step: &Step, text: &str) -> Result<Answer, String> {
        let folded = fold(text);
        if step.optional && self.is_skip(step, &folded) {
            return Ok(Answer::Skipped);
        }
        let err = || self.error_for(step);
        match &step.kind {
            StepKind::Text { max_len } => {
                let clean = crate::text::squash(text);
                // Only emoji, invisible or direction-control characters is
                // not an answer anyone can read back.
                if !clean.chars().any(char::is_alphanumeric) || clean.chars().count() > *max_len {
                    Err(err())
                } else {
                    Ok(Answer::Text(clean))
                }
            }
            StepKind::Name => PersonName::parse(text).map(Answer::Name).map_err(|_| err()),
            StepKind::Phone => PhoneNumber::parse(text).map(Answer::Phone).map_err(|_| err()),
            StepKind::Number { min, max } => parse_count(text, *min, *max).map(Answer::Number).map_err(|_| err()),
            StepKind::Money { min, max } => match Money::parse(text) {
                Ok(m) if (*min..=*max).contains(&m.dong()) => Ok(Answer::Money(m)),
                _ => Err(err()),
            },
            StepKind::Choice { options } => {
                match_option(options, &folded).map(|i| Answer::Choice(options[i].value.clone())).ok_or_else(err)
            }
            StepKind::Choices { options, none_label } => {
                if folded == "xong" {
                    return Ok(Answer::Choices(ordered(options, &state.draft)));
                }
                if folded == fold(none_label) || matches!(folded.as_str(), "khong" | "khong co" | "0") {
                    return Ok(Answer::Choices(Vec::new()));
                }
                let mut picked = Vec::new();
                for part in folded.split([',', ';', '+']).flat_map(|p| p.split(" va ")) {
                    let part = part.trim();
                    if part.is_empty() {
                        continue;
                    }
                    match match_option(options, part) {
                        Some(i) => picked.push(options[i].value.clone()),
                        None => return Err(err()),
                    }
                }
                if picked.is_empty() {
                    return Err(err());
                }
                Ok(Answer::Choices(ordered(options, &picked)))
            }
            StepKind::Photos { .. } => {
                if matches!(folded.as_str(), "xong" | "bo qua" | "khong") {
                    if !state.draft.is_empty() {
                        return Ok(Answer::Photos(std::mem::take(&mut state.draft)));
                    }
                    if step.optional {
                        return Ok(Answer::Skipped);
                    }
                }
                Err(err())
            }
            StepKind::Date { min, max } => {
                let date = crate::domain::parse_date(text).ok_or_else(err)?;
                let Some(today) = self.today else { return Ok(Answer::Date(date)) };
                let first = today + chrono::Duration::days(*min);
                let last = match max {
                    Some(days) => today + chrono::Duration::days(*days),
                    None => today.checked_add_months(chrono::Months::new(24)).unwrap_or(chrono::NaiveDate::MAX),
                };
                if date < first || date > last {
                    return Err(self
                        .common
                        .errors
                        .date_range
                        .replace("{min}", &first.format("%d/%m/%Y").to_string())
                        .replace("{max}", &last.format("%d/%m/%Y").to_string()));
                }
                Ok(Answer::Date(date))
            }
            StepKind::Location => {
                let clean = crate::text::squash(text);
                let readable = clean.chars().filter(|c| c.is_alphanumeric()).count();
                if readable < 2 || clean.chars().count() > 200 {
                    Err(err())
                } else {
                    Ok(Answer::Address(clean))
                }
            }
        }
    }

    /// Whether a step is asked, given its `only_if` and what is known.
    pub fn visible(&self, state: &DialogueState, index: usize) -> bool {
        let Some(step) = self.def.steps.get(index) else { return false };
        let Some(cond) = &step.only_if else { return true };
        let value = match state.answers.get(&cond.key) {
            Some(Answer::Choice(v)) | Some(Answer::Text(v)) => Some(v.clone()),
            Some(_) => None,
            None => state.context.get(&cond.key).cloned(),
        };
        value.is_some_and(|v| cond.values.contains(&v))
    }

    /// The answers of the steps that are asked; hidden ones are left out.
    pub fn visible_answers(&self, state: &DialogueState) -> BTreeMap<String, Answer> {
        self.def
            .steps
            .iter()
            .enumerate()
            .filter(|(i, _)| self.visible(state, *i))
            .filter_map(|(_, s)| state.answers.get(&s.key).map(|a| (s.key.clone(), a.clone())))
            .collect()
    }

    fn is_skip(&self, step: &Step, folded: &str) -> bool {
        let label = step.skip_label.as_deref().map(fold);
        label.as_deref() == Some(folded)
            || folded == fold(&self.common.skip)
            || matches!(folded, "khong" | "khong co" | "bo qua")
    }

    fn error_for(&self, step: &Step) -> String {
        if let Some(e) = &step.error {
            return e.clone();
        }
        let e = &self.common.errors;
        match &step.kind {
            StepKind::Text { max_len } => e.text.replace("{max_len}", &max_len.to_string()),
            StepKind::Name => e.name.clone(),
            StepKind::Phone => e.phone.clone(),
            StepKind::Number { min, max } => {
                e.number.replace("{min}", &min.to_string()).replace("{max}", &max.to_string())
            }
            StepKind::Money { .. } => e.money.clone(),
            StepKind::Choice { .. } => e.choice.clone(),
            StepKind::Choices { .. } => e.choices.clone(),
            StepKind::Photos { .. } => e.photos.clone(),
            StepKind::Location => e.location.clone(),
            StepKind::Date { .. } => e.date.clone(),
        }
    }

    fn prompt_text(&self, state: &DialogueState, step: &Step) -> String {
        interpolate(&step.prompt, &state.context)
    }

    /// The question for a step, with its buttons and, when editing, the
    /// current value.
    pub fn question(&self, state: &DialogueState, index: usize) -> Prompt {
        let Some(step) = self.def.steps.get(index) else { return self.summary(state) };
        let mut text = self.prompt_text(state, step);
        if let (Position::Step { editing: true, .. }, Some(current)) = (state.at, state.answers.get(&step.key)) {
            text.push('\n');
            text.push_str(&self.common.current_value.replace("{value}", &self.display(step, current)));
        }
        let mut buttons: Vec<Vec<(String, String)>> = Vec::new();
        match &step.kind {
            StepKind::Choice { options } => {
                for (o, opt) in options.iter().enumerate() {
                    buttons.push(vec![(opt.label.clone(), format!("{BUTTON_PREFIX}c:{index}:{o}"))]);
                }
            }
            StepKind::Choices { options, .. } => {
                for (o, opt) in options.iter().enumerate() {
                    let mark = if state.draft.contains(&opt.value) { "✅ " } else { "" };
                    buttons.push(vec![(format!("{mark}{}", opt.label), format!("{BUTTON_PREFIX}t:{index}:{o}"))]);
                }
                buttons.push(vec![(self.common.done.clone(), format!("{BUTTON_PREFIX}f:{index}"))]);
            }
            StepKind::Photos { .. } => {
                let label = if state.draft.is_empty() && step.optional { &self.common.skip } else { &self.common.done };
                buttons.push(vec![(label.clone(), format!("{BUTTON_PREFIX}f:{index}"))]);
            }
            _ => {}
        }
        let skip_label = step.skip_label.clone().unwrap_or_else(|| self.common.skip.clone());
        if let StepKind::Location = step.kind {
            // The location button lives under the typing field; so does the
            // skip button, which sends its label as text.
            let special = Special::AskLocation {
                label: self.common.send_location.clone(),
                skip: step.optional.then_some(skip_label),
            };
            return Prompt { text, buttons, special };
        }
        if step.optional && !matches!(step.kind, StepKind::Photos { .. }) {
            buttons.push(vec![(skip_label, format!("{BUTTON_PREFIX}s:{index}"))]);
        }
        Prompt::with_buttons(text, buttons)
    }

    pub fn summary(&self, state: &DialogueState) -> Prompt {
        let mut text = interpolate(&self.def.summary, &state.context);
        for (i, step) in self.def.steps.iter().enumerate().filter(|(i, _)| self.visible(state, *i)) {
            let value = state
                .answers
                .get(&step.key)
                .map(|a| self.display(step, a))
                .unwrap_or_else(|| self.common.skipped.clone());
            text.push_str(&format!("\n{}. {}: {}", i + 1, step.label, value));
        }
        Prompt::with_buttons(
            text,
            vec![vec![
                (self.common.edit.clone(), format!("{BUTTON_PREFIX}ed")),
                (self.common.confirm.clone(), format!("{BUTTON_PREFIX}ok")),
            ]],
        )
    }

    fn pick_edit(&self, state: &DialogueState) -> Prompt {
        let mut buttons: Vec<Vec<(String, String)>> = self
            .def
            .steps
            .iter()
            .enumerate()
            .filter(|(i, _)| self.visible(state, *i))
            .map(|(i, s)| vec![(format!("{}. {}", i + 1, s.label), format!("{BUTTON_PREFIX}e:{i}"))])
            .collect();
        buttons.push(vec![(self.common.back.clone(), format!("{BUTTON_PREFIX}bk"))]);
        Prompt::with_buttons(self.common.pick_edit.clone(), buttons)
    }

    fn open_edit(&self, state: &mut DialogueState, from_button: bool) -> Turn {
        state.at = Position::PickEdit;
        let replace = from_button.then(|| {
            let mut s = self.summary(state);
            s.buttons.clear();
            s
        });
        Turn::Continue { replace, send: vec![self.pick_edit(state)] }
    }

    fn go_edit(&self, state: &mut DialogueState, index: usize, from_button: bool) -> Turn {
        state.at = Position::Step { index, editing: true };
        state.draft = match state.answers.get(&self.def.steps[index].key) {
            Some(Answer::Choices(values)) => values.clone(),
            _ => Vec::new(),
        };
        let replace =
            from_button.then(|| Prompt::plain(format!("{}\n➜ {}", self.common.pick_edit, self.def.steps[index].label)));
        Turn::Continue { replace, send: vec![self.question(state, index)] }
    }

    fn stale(&self, state: &DialogueState) -> Turn {
        let mut current = self.current(state);
        current.text = format!("{}\n\n{}", self.common.stale_button, current.text);
        Turn::Continue { replace: None, send: vec![current] }
    }

    fn remind(&self, state: &DialogueState, hint: &str) -> Turn {
        let mut current = self.current(state);
        current.text = format!("{hint}\n\n{}", current.text);
        Turn::Continue { replace: None, send: vec![current] }
    }

    /// How an answer reads back to the person.
    pub fn display(&self, step: &Step, answer: &Answer) -> String {
        let label_of = |value: &str| {
            step.kind
                .options()
                .iter()
                .find(|o| o.value == value)
                .map(|o| o.label.clone())
                .unwrap_or_else(|| value.to_string())
        };
        match answer {
            Answer::Text(t) | Answer::Address(t) => t.clone(),
            Answer::Name(n) => n.to_string(),
            Answer::Phone(p) => p.to_string(),
            Answer::Number(n) => n.to_string(),
            Answer::Money(m) => m.to_string(),
            Answer::Choice(v) => label_of(v),
            Answer::Choices(vs) if vs.is_empty() => match &step.kind {
                StepKind::Choices { none_label, .. } => none_label.clone(),
                _ => self.common.none_selected.clone(),
            },
            Answer::Choices(vs) => vs.iter().map(|v| label_of(v)).collect::<Vec<_>>().join(", "),
            Answer::Photos(p) => self.common.photos_count.replace("{count}", &p.len().to_string()),
            Answer::Location { .. } => self.common.location_sent.clone(),
            Answer::Date(d) => d.format("%d/%m/%Y").to_string(),
            Answer::Skipped => step.skip_label.clone().unwrap_or_else(|| self.common.skipped.clone()),
        }
    }
}

/// The option `text` names when it is exactly one option of a
/// multi-choice step (its number or its label); not the "none" answer.
fn typed_toggle(step: &Step, text: &str) -> Option<String> {
    let StepKind::Choices { options, none_label } = &step.kind else { return None };
    let folded = fold(text);
    if folded == fold(none_label) || folded.contains([',', ';', '+']) || folded.contains(" va ") {
        return None;
    }
    match_option(options, &folded).map(|i| options[i].value.clone())
}

/// Matches a typed answer against options: its number ("2"), its label with
/// or without diacritics, or its value.
fn match_option(options: &[super::definition::Choice], folded: &str) -> Option<usize> {
    if let Ok(n) = folded.trim_end_matches('.').parse::<usize>() {
        return n.checked_sub(1).filter(|i| *i < options.len());
    }
    options
        .iter()
        .position(|o| fold(&o.label) == folded || o.value == folded || o.aliases.iter().any(|a| fold(a) == folded))
}

/// Keeps multi-select answers in the order the options are listed.
fn ordered(options: &[super::definition::Choice], picked: &[String]) -> Vec<String> {
    options.iter().filter(|o| picked.contains(&o.value)).map(|o| o.value.clone()).collect()
}

fn interpolate(template: &str, context: &BTreeMap<String, String>) -> String {
    context.iter().fold(template.to_string(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}
