//! A count bounded by the dialogue (`max_from`, see
//! [`crate::dialogue::max_from`]): refused above its bound when it is typed,
//! asked again when an edit or a record brought to the summary leaves it
//! above, and never completed above it.

use super::*;

impl Engine<'_> {
    /// The most a number step takes in this dialogue: what its `max_from`
    /// names (an earlier answer, else the context), within the file's
    /// `max`. None when the step has no such bound, when the value is
    /// unknown (a dialogue stored before the flow gave it), or when it is
    /// below the step's `min`: a step nobody could answer is left to the
    /// flow's own check when it saves.
    pub(super) fn limit(&self, state: &DialogueState, step: &Step) -> Option<i64> {
        let StepKind::Number { min, max, max_from: Some(from) } = &step.kind else { return None };
        let value = match state.answers.get(&from.name) {
            Some(Answer::Number(n)) => Some(*n),
            _ => state.context.get(&from.name).and_then(|v| v.trim().parse::<i64>().ok()),
        };
        value.filter(|v| v >= min).map(|v| v.min(*max))
    }

    /// The refusal of a count above its step's bound `limit`.
    pub(super) fn above_limit(&self, state: &DialogueState, step: &Step, limit: i64) -> String {
        let StepKind::Number { min, max_from, .. } = &step.kind else { return self.error_for(step) };
        let template = max_from.as_ref().and_then(|f| f.error.as_deref()).unwrap_or(&self.common.errors.number);
        let text = template.replace("{min}", &min.to_string()).replace("{max}", &limit.to_string());
        interpolate(&text, &state.context)
    }

    /// Whether step `index` is asked and holds a count above its bound.
    fn over_limit(&self, state: &DialogueState, index: usize) -> Option<i64> {
        let step = self.def.steps.get(index)?;
        let limit = self.limit(state, step)?;
        match state.answers.get(&step.key) {
            Some(Answer::Number(n)) if *n > limit && self.visible(state, index) => Some(limit),
            _ => None,
        }
    }

    /// The first step asked whose count is above its bound (an edit of
    /// the household's members left fewer than the smartphone users).
    pub(super) fn first_over_limit(&self, state: &DialogueState) -> Option<usize> {
        (0..self.def.steps.len()).find(|i| self.over_limit(state, *i).is_some())
    }

    /// The question for step `index`, after its bound's refusal when its
    /// answer is above it.
    pub(super) fn ask(&self, state: &DialogueState, index: usize) -> Prompt {
        let mut q = self.question(state, index);
        if let (Some(limit), Some(step)) = (self.over_limit(state, index), self.def.steps.get(index)) {
            q.text = format!("⚠️ {}\n\n{}", self.above_limit(state, step, limit), q.text);
        }
        q
    }

    /// The summary confirmed: completed, unless a count is above its bound;
    /// then that step is asked again.
    pub(super) fn confirm(&self, state: &mut DialogueState) -> Turn {
        let Some(index) = self.first_over_limit(state) else { return Turn::Completed };
        state.at = Position::Step { index, editing: true };
        state.draft.clear();
        // The summary's buttons go: it is no longer what is answered.
        let mut summary = self.summary(state);
        summary.buttons.clear();
        Turn::Continue { replace: Some(summary), send: vec![self.ask(state, index)] }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use crate::dialogue::definition::Book;
    use crate::dialogue::{Answer, Engine, Input, Position, Turn};

    const COUNTS: &str = r#"
id = "counts"
title = "Đếm"
intro = "Hộ #{household}."
summary = "Kiểm tra:"

[[steps]]
key = "members"
label = "Số nhân khẩu"
kind = "number"
min = 1
max = 50
prompt = "Hộ có mấy người?"

[[steps]]
key = "phones"
label = "Dùng điện thoại"
kind = "number"
max = 50
max_from = "members"
max_error = "Hộ có {max} người, xin nhập một số từ {min} đến {max}."
prompt = "Mấy người dùng điện thoại?"

[[steps]]
key = "added"
label = "Thêm"
kind = "number"
min = 1
max = 50
max_from = "room"
prompt = "Thêm mấy người?"
"#;

    fn book() -> Book {
        let common = include_str!("../../../dialogues/common.toml").to_string();
        Book::from_sources(&[("common.toml".into(), common), ("counts.toml".into(), COUNTS.into())]).unwrap()
    }

    fn said(turn: &Turn) -> String {
        match turn {
            Turn::Continue { send, .. } => send.iter().map(|p| p.text.clone()).collect::<Vec<_>>().join("\n"),
            Turn::Completed => "<completed>".into(),
        }
    }

    fn text(s: &str) -> Input {
        Input::Text(s.into())
    }

    fn room(n: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("room".to_string(), n.to_string())])
    }

    /// Issue 31.2: «9» for a household of 3 is refused at its own
    /// question, saying the bound, and the question is asked again.
    #[test]
    fn a_count_above_an_earlier_answer_is_refused_at_its_own_step() {
        let book = book();
        let engine = Engine::new(&book, book.get("counts").unwrap());
        let (mut state, _) = engine.start(room("2"));
        engine.handle(&mut state, text("3"));
        let at = state.at;
        let refused = said(&engine.handle(&mut state, text("9")));
        assert_eq!(refused, "⚠️ Hộ có 3 người, xin nhập một số từ 0 đến 3.\n\nMấy người dùng điện thoại?");
        assert_eq!(state.at, at, "still at the question");
        assert!(!state.answers.contains_key("phones"));
        let garbage = said(&engine.handle(&mut state, text("nhiều")));
        assert!(garbage.starts_with("⚠️ Xin nhập một số từ 0 đến 3."), "the bound, not the file's 50: {garbage}");
        engine.handle(&mut state, text("3"));
        assert_eq!(state.answers["phones"], Answer::Number(3));
    }

    #[test]
    fn a_count_above_a_count_of_the_context_is_refused_and_a_missing_one_does_not_bound() {
        let book = book();
        let engine = Engine::new(&book, book.get("counts").unwrap());
        let (mut state, _) = engine.start(room("2"));
        engine.handle(&mut state, text("4"));
        engine.handle(&mut state, text("1"));
        let refused = said(&engine.handle(&mut state, text("3 người")));
        assert!(refused.starts_with("⚠️ Xin nhập một số từ 1 đến 2."), "{refused}");
        assert!(!state.answers.contains_key("added"));
        engine.handle(&mut state, text("hai"));
        assert_eq!((state.answers["added"].clone(), state.at), (Answer::Number(2), Position::Summary));

        // A dialogue stored before its flow gave the count, or a count that
        // leaves no answer: only the file's bounds; the flow checks on saving.
        for context in [BTreeMap::new(), room("0"), room("không rõ")] {
            let (mut state, _) = engine.start(context.clone());
            for answer in ["4", "1", "30"] {
                engine.handle(&mut state, text(answer));
            }
            assert_eq!(state.answers["added"], Answer::Number(30), "{context:?}");
        }
    }

    /// Fewer members after an edit: the count above them is asked again,
    /// and the summary is never confirmed with a count above its bound.
    #[test]
    fn an_edit_or_a_record_that_leaves_a_count_above_its_bound_asks_it_again() {
        let book = book();
        let engine = Engine::new(&book, book.get("counts").unwrap());
        let (mut state, _) = engine.start(room("5"));
        for answer in ["4", "4", "1", "sửa", "1"] {
            engine.handle(&mut state, text(answer));
        }
        let asked = said(&engine.handle(&mut state, text("2")));
        assert_eq!(state.at, Position::Step { index: 1, editing: true });
        assert!(
            asked.starts_with("⚠️ Hộ có 2 người, xin nhập một số từ 0 đến 2.") && asked.contains("Hiện tại: 4"),
            "{asked}"
        );
        engine.handle(&mut state, text("2"));
        assert_eq!(state.at, Position::Summary);
        assert_eq!(engine.handle(&mut state, text("xác nhận")), Turn::Completed);

        let answers = BTreeMap::from([
            ("members".to_string(), Answer::Number(2)),
            ("phones".to_string(), Answer::Number(5)),
            ("added".to_string(), Answer::Number(1)),
        ]);
        let (mut state, _) = engine.start_at_summary(room("5"), answers);
        let turn = engine.handle(&mut state, Input::Button("dg:ok".into()));
        assert!(said(&turn).starts_with("⚠️ Hộ có 2 người"), "{}", said(&turn));
        assert_eq!(state.at, Position::Step { index: 1, editing: true });
    }

    proptest! {
        /// Whatever is typed, in whatever order, no count is kept above its
        /// bound when it is answered, and none is completed above it.
        #[test]
        fn no_count_above_its_bound_is_ever_accepted(
            bound in -2i64..60,
            inputs in prop::collection::vec(
                prop_oneof![
                    (0i64..80).prop_map(|n| n.to_string()),
                    Just("sửa".to_string()),
                    Just("xác nhận".to_string()),
                    prop_oneof![Just("1"), Just("2"), Just("3"), Just("chín"), Just("9 người")].prop_map(String::from),
                    "\\PC{0,8}",
                ],
                0..40,
            ),
        ) {
            let book = book();
            let def = book.get("counts").unwrap();
            let engine = Engine::new(&book, def);
            let (mut state, _) = engine.start(room(&bound.to_string()));
            for input in inputs {
                let (at, before) = (state.at, state.answers.clone());
                let turn = engine.handle(&mut state, Input::Text(input));
                // The step answered (an answer kept while it is asked again
                // is the old one), or every step when completed.
                let checked: Vec<usize> = match (turn, at) {
                    (Turn::Completed, _) => (0..def.steps.len()).collect(),
                    (_, Position::Step { index, .. }) if before != state.answers => vec![index],
                    _ => Vec::new(),
                };
                for i in checked {
                    let step = &def.steps[i];
                    if let (Some(limit), Some(Answer::Number(n))) = (engine.limit(&state, step), state.answers.get(&step.key)) {
                        prop_assert!(*n <= limit, "{} = {n} above {limit}", step.key);
                    }
                }
                if state.at == Position::Summary && state.answers.contains_key("added") && (1..=50).contains(&bound) {
                    prop_assert!(matches!(state.answers["added"], Answer::Number(n) if n <= bound));
                }
            }
        }
    }
}
