//! The dialogue engine: one question at a time, a summary with Sửa /
//! Xác nhận, answers validated by their kind. Pure functions over
//! [`DialogueState`]; the caller persists the state and sends the prompts.
//!
//! - this file: the state, and the transitions between questions;
//! - `reading`: what a typed or pressed answer means for a step's kind;
//! - `prompts`: the questions, the summary and how answers are shown.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::definition::{Book, CommonTexts, Definition, Step, StepKind};
use crate::domain::{parse_count, CountError, Money, PersonName, PhoneNumber};
use crate::text::fold;

mod bounds;
mod prompts;
mod reading;

use prompts::interpolate;
use reading::{ordered, typed_toggle};

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
                Some(Press::Confirm) => self.confirm(state),
                Some(Press::OpenEdit) => self.open_edit(state, true),
                _ => self.stale(state),
            },
            (Position::Summary, Input::Text(text)) => match fold(&text).as_str() {
                "xac nhan" | "ok" | "dong y" | "co" | "gui" => self.confirm(state),
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
                    // asked (a bank account once transfers are allowed), or
                    // left a count above its bound (fewer members).
                    (0..self.def.steps.len())
                        .find(|i| self.visible(state, *i) && !state.answers.contains_key(&self.def.steps[*i].key))
                        .or_else(|| self.first_over_limit(state))
                } else {
                    (index + 1..self.def.steps.len()).find(|i| self.visible(state, *i))
                };
                send.push(match next {
                    Some(i) => {
                        state.at = Position::Step { index: i, editing };
                        self.ask(state, i)
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
}
