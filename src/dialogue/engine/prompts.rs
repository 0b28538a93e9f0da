//! What the person reads: each question with its buttons, the summary with
//! Sửa / Xác nhận, and each answer as shown back.

use super::*;

impl Engine<'_> {
    /// Whether a step is asked, given its `only_if` and what is known.
    pub fn visible(&self, state: &DialogueState, index: usize) -> bool {
        let Some(step) = self.def.steps.get(index) else { return false };
        let Some(cond) = &step.only_if else { return true };
        match state.answers.get(&cond.key) {
            Some(Answer::Choice(v)) | Some(Answer::Text(v)) => cond.values.contains(v),
            // Several chosen: asked when any of them is one of the values.
            Some(Answer::Choices(chosen)) => chosen.iter().any(|v| cond.values.contains(v)),
            Some(_) => false,
            None => state.context.get(&cond.key).is_some_and(|v| cond.values.contains(v)),
        }
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

    pub(super) fn prompt_text(&self, state: &DialogueState, step: &Step) -> String {
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

    pub(super) fn pick_edit(&self, state: &DialogueState) -> Prompt {
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

    pub(super) fn open_edit(&self, state: &mut DialogueState, from_button: bool) -> Turn {
        state.at = Position::PickEdit;
        let replace = from_button.then(|| {
            let mut s = self.summary(state);
            s.buttons.clear();
            s
        });
        Turn::Continue { replace, send: vec![self.pick_edit(state)] }
    }

    pub(super) fn go_edit(&self, state: &mut DialogueState, index: usize, from_button: bool) -> Turn {
        state.at = Position::Step { index, editing: true };
        state.draft = match state.answers.get(&self.def.steps[index].key) {
            Some(Answer::Choices(values)) => values.clone(),
            _ => Vec::new(),
        };
        let replace =
            from_button.then(|| Prompt::plain(format!("{}\n➜ {}", self.common.pick_edit, self.def.steps[index].label)));
        Turn::Continue { replace, send: vec![self.question(state, index)] }
    }

    pub(super) fn stale(&self, state: &DialogueState) -> Turn {
        let mut current = self.current(state);
        current.text = format!("{}\n\n{}", self.common.stale_button, current.text);
        Turn::Continue { replace: None, send: vec![current] }
    }

    pub(super) fn remind(&self, state: &DialogueState, hint: &str) -> Turn {
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

pub(super) fn interpolate(template: &str, context: &BTreeMap<String, String>) -> String {
    context.iter().fold(template.to_string(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v))
}
