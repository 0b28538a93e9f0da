//! Engine tests on a small definition that uses every kind of step.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::definition::Book;
use super::engine::{Answer, Engine, Input, Position, Turn};

const SAMPLE: &str = r#"
id = "sample"
title = "Mẫu"
intro = "Bắt đầu với {group}."
summary = "Kiểm tra:"

[[steps]]
key = "category"
label = "Loại"
kind = "choice"
prompt = "Loại gì?"
options = [
  { value = "light", label = "Chiếu sáng" },
  { value = "trash", label = "Rác thải" },
]

[[steps]]
key = "amount"
label = "Số tiền"
kind = "money"
min = 10000
max = 100000000
prompt = "Bao nhiêu?"

[[steps]]
key = "photos"
label = "Ảnh"
kind = "photos"
max = 2
optional = true
prompt = "Gửi ảnh"

[[steps]]
key = "place"
label = "Vị trí"
kind = "location"
prompt = "Ở đâu?"

[[steps]]
key = "note"
label = "Ghi chú"
kind = "text"
optional = true
max_len = 10
prompt = "Ghi chú?"
"#;

fn book() -> Book {
    let common = include_str!("../../dialogues/common.toml").to_string();
    Book::from_sources(&[("common.toml".into(), common), ("sample.toml".into(), SAMPLE.into())]).unwrap()
}

fn text(s: &str) -> Input {
    Input::Text(s.into())
}

fn sent_text(turn: &Turn) -> String {
    match turn {
        Turn::Continue { send, .. } => send.iter().map(|p| p.text.clone()).collect::<Vec<_>>().join("\n"),
        Turn::Completed => "<completed>".into(),
    }
}

#[test]
fn runs_every_kind_to_completion() {
    let book = book();
    let engine = Engine::new(&book, book.get("sample").unwrap());
    let mut context = BTreeMap::new();
    context.insert("group".to_string(), "Tổ 5".to_string());
    let (mut state, prompts) = engine.start(context);
    assert_eq!(prompts[0].text, "Bắt đầu với Tổ 5.");
    assert_eq!(prompts[1].buttons.len(), 2);

    // A choice by its label without diacritics.
    engine.handle(&mut state, text("chieu sang"));
    assert_eq!(state.answers["category"], Answer::Choice("light".into()));

    // Money: too little, then a shorthand.
    assert!(sent_text(&engine.handle(&mut state, text("5k"))).contains("Số tiền chưa đúng"));
    engine.handle(&mut state, text("1tr5"));
    assert_eq!(state.answers["amount"].clone(), Answer::Money(crate::domain::Money::parse("1500000").unwrap()));

    // Photos: text is refused, then two photos finish the step by themselves.
    assert!(
        sent_text(&engine.handle(&mut state, Input::Location { latitude: 1.0, longitude: 2.0 })).contains("gửi ảnh")
    );
    assert!(sent_text(&engine.handle(&mut state, Input::Photo("p1".into()))).contains("1/2"));
    engine.handle(&mut state, Input::Photo("p2".into()));
    assert_eq!(state.answers["photos"], Answer::Photos(vec!["p1".into(), "p2".into()]));

    // Location: a pin.
    engine.handle(&mut state, Input::Location { latitude: 21.05, longitude: 105.8 });
    assert!(matches!(state.answers["place"], Answer::Location { .. }));

    // Optional text: too long, then skipped by typing.
    assert!(sent_text(&engine.handle(&mut state, text("quá dài so với giới hạn"))).contains("tối đa 10"));
    let turn = engine.handle(&mut state, text("bỏ qua"));
    assert_eq!(state.at, Position::Summary);
    assert!(sent_text(&turn).contains("Ghi chú: (không có)"));
    assert_eq!(engine.handle(&mut state, text("xác nhận")), Turn::Completed);
}

#[test]
fn photos_can_be_skipped_and_a_typed_address_is_a_place() {
    let book = book();
    let engine = Engine::new(&book, book.get("sample").unwrap());
    let (mut state, _) = engine.start(BTreeMap::new());
    engine.handle(&mut state, text("2"));
    engine.handle(&mut state, text("50.000đ"));
    engine.handle(&mut state, Input::Button("dg:f:2".into()));
    assert_eq!(state.answers["photos"], Answer::Skipped);
    engine.handle(&mut state, text("Ngõ 41 Xuân La"));
    assert_eq!(state.answers["place"], Answer::Address("Ngõ 41 Xuân La".into()));
}

#[test]
fn stale_and_forged_buttons_change_nothing() {
    let book = book();
    let engine = Engine::new(&book, book.get("sample").unwrap());
    let (mut state, _) = engine.start(BTreeMap::new());
    engine.handle(&mut state, Input::Button("dg:c:0:1".into()));
    let before = state.clone();
    for data in ["dg:c:0:0", "dg:c:1:0", "dg:c:0:99", "dg:ok", "dg:e:1", "dg:zz", "dg:c:x:y", "dg:s:1"] {
        let turn = engine.handle(&mut state, Input::Button(data.into()));
        assert_eq!(state, before, "{data}");
        assert!(sent_text(&turn).contains("Câu hỏi đó đã qua"), "{data}");
    }
}

#[test]
fn editing_returns_to_the_summary_and_shows_the_current_value() {
    let book = book();
    let engine = Engine::new(&book, book.get("sample").unwrap());
    let (mut state, _) = engine.start(BTreeMap::new());
    for input in [text("1"), text("100k"), text("xong"), text("Đình làng"), text("không")] {
        engine.handle(&mut state, input);
    }
    assert_eq!(state.at, Position::Summary);
    engine.handle(&mut state, text("sửa"));
    assert_eq!(state.at, Position::PickEdit);
    let turn = engine.handle(&mut state, text("2"));
    assert!(sent_text(&turn).contains("Hiện tại: 100.000 đ"));
    engine.handle(&mut state, text("200k"));
    assert_eq!(state.at, Position::Summary);
    assert_eq!(state.answers["amount"], Answer::Money(crate::domain::Money::parse("200k").unwrap()));
}

#[test]
fn state_survives_serialisation() {
    let book = book();
    let engine = Engine::new(&book, book.get("sample").unwrap());
    let (mut state, _) = engine.start(BTreeMap::new());
    engine.handle(&mut state, text("1"));
    engine.handle(&mut state, text("1tr"));
    engine.handle(&mut state, Input::Photo("p1".into()));
    let json = serde_json::to_string(&state).unwrap();
    let back: super::DialogueState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        "\\PC{0,20}".prop_map(Input::Text),
        "[a-z0-9]{1,6}".prop_map(Input::Photo),
        (-90.0f64..90.0, -180.0f64..180.0).prop_map(|(a, b)| Input::Location { latitude: a, longitude: b }),
        prop_oneof![
            Just("dg:ok".to_string()),
            Just("dg:ed".to_string()),
            Just("dg:bk".to_string()),
            (0usize..7, 0usize..4).prop_map(|(s, o)| format!("dg:c:{s}:{o}")),
            (0usize..7).prop_map(|s| format!("dg:f:{s}")),
            (0usize..7).prop_map(|s| format!("dg:s:{s}")),
            (0usize..7).prop_map(|s| format!("dg:e:{s}")),
            "\\PC{0,12}",
        ]
        .prop_map(Input::Button),
    ]
}

proptest! {
    /// Whatever a person sends, the engine never panics, never points past
    /// its steps, and only completes from the summary.
    #[test]
    fn any_sequence_of_inputs_is_safe(inputs in prop::collection::vec(any_input(), 0..40)) {
        let book = book();
        let def = book.get("sample").unwrap();
        let engine = Engine::new(&book, def);
        let (mut state, _) = engine.start(BTreeMap::new());
        for input in inputs {
            let was = state.at;
            let turn = engine.handle(&mut state, input);
            if turn == Turn::Completed {
                prop_assert_eq!(was, Position::Summary);
                prop_assert!(def.steps.iter().filter(|s| !s.optional).all(|s| state.answers.contains_key(&s.key)));
                break;
            }
            if let Position::Step { index, .. } = state.at {
                prop_assert!(index < def.steps.len());
            }
            prop_assert!(state.draft.len() <= 2);
        }
    }
}

/// Issue 20.3: one number typed at a multi-choice question toggles that
/// option and asks again, as its button does; a list, or «Xong», answers.
#[test]
fn a_single_number_toggles_a_multi_choice_and_a_list_or_xong_answers_it() {
    let book = Book::load(None).unwrap();
    let engine = Engine::new(&book, book.get("household").unwrap());
    let (mut state, _) = engine.start(BTreeMap::new());
    for answer in ["nguyễn văn an", "12", "ngõ 41", "Xuân La", "0912345678", "4"] {
        engine.handle(&mut state, text(answer));
    }
    let at = state.at;
    let again = sent_text(&engine.handle(&mut state, text("2")));
    assert_eq!(state.at, at, "a stray 2 does not end the question");
    assert!(!state.answers.contains_key("circumstances") && state.draft == ["near_poor"], "{again}");
    engine.handle(&mut state, text("3"));
    engine.handle(&mut state, text("2"));
    assert_eq!(state.draft, ["policy"], "typed again, it is taken back");
    engine.handle(&mut state, text("xong"));
    assert_eq!(state.answers["circumstances"], Answer::Choices(vec!["policy".into()]));

    let (mut state, _) = engine.start(BTreeMap::new());
    for answer in ["nguyễn văn an", "12", "ngõ 41", "Xuân La", "0912345678", "4", "1, 5"] {
        engine.handle(&mut state, text(answer));
    }
    assert_eq!(state.answers["circumstances"], Answer::Choices(vec!["poor".into(), "disability".into()]));
}

/// Issue 20.4: a date is checked when it is typed, against its step's
/// bounds (a campaign's deadline: from today to two years ahead), and the
/// question is asked again.
#[test]
fn a_date_outside_its_steps_days_is_refused_when_typed() {
    let book = Book::load(None).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let engine = Engine::new(&book, book.get("campaign").unwrap()).on_day(today);
    let (mut state, _) = engine.start(BTreeMap::new());
    for answer in ["Quỹ Vì người nghèo", "Giúp các hộ nghèo", "50tr"] {
        engine.handle(&mut state, text(answer));
    }
    for typed in ["01/01/2020", "1/1/26", "31/12/9999", "24/11/2028"] {
        let said = sent_text(&engine.handle(&mut state, text(typed)));
        assert!(
            said.contains("Ngày phải từ 23/11/2026 đến 23/11/2028") && said.contains("đến hết ngày nào"),
            "{typed}: {said}"
        );
        assert!(!state.answers.contains_key("deadline"), "{typed}");
    }
    engine.handle(&mut state, text("23/11/2026"));
    assert_eq!(state.answers["deadline"], Answer::Date(today));
}

/// Loading dialogue files: what is refused, and how it is named.
mod definitions {
    use crate::dialogue::definition::{embedded_sources, Book, DefinitionError};

    #[test]
    fn embedded_definitions_load() {
        let book = Book::load(None).expect("embedded dialogues are valid");
        assert!(book.get("household").is_some());
    }

    fn load_one(text: &str) -> Result<Book, DefinitionError> {
        let common = embedded_sources().into_iter().find(|(f, _)| f == "common.toml").map(|(_, t)| t).unwrap();
        Book::from_sources(&[("common.toml".into(), common), ("x.toml".into(), text.into())])
    }

    #[test]
    fn malformed_definition_names_file_and_step() {
        let err = load_one(
            r#"id = "x"
title = "X"
intro = "i"
summary = "s"
[[steps]]
key = "age"
label = "Tuổi"
prompt = "Bao nhiêu tuổi?"
kind = "numbr"
"#,
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("x.toml") && message.contains("'age'") && message.contains("numbr"), "{message}");
    }

    #[test]
    fn choice_without_options_is_refused() {
        let err = load_one(
            "id = \"x\"\ntitle = \"X\"\nintro = \"i\"\nsummary = \"s\"\n[[steps]]\nkey = \"c\"\nlabel = \"C\"\nprompt = \"?\"\nkind = \"choice\"\n",
        )
        .unwrap_err();
        assert_eq!(err.step.as_deref(), Some("c"));
    }

    /// A count's `max_from` names an earlier number step (a name that is no
    /// step's is a count of the context, which the forms check); only a
    /// number step takes it, and `max_error` goes with it.
    #[test]
    fn a_count_bounded_by_a_later_or_not_a_number_step_is_refused() {
        let two = |first: &str, second: &str| {
            format!(
                "id = \"x\"\ntitle = \"X\"\nintro = \"i\"\nsummary = \"s\"\n[[steps]]\nkey = \"a\"\nlabel = \"A\"\nprompt = \"?\"\n{first}\n[[steps]]\nkey = \"b\"\nlabel = \"B\"\nprompt = \"?\"\n{second}\n"
            )
        };
        let number = "kind = \"number\"";
        load_one(&two(number, "kind = \"number\"\nmax_from = \"a\"")).expect("an earlier number");
        load_one(&two(number, "kind = \"number\"\nmax_from = \"room\"")).expect("a count of the context");
        for (first, second, at, problem) in [
            ("kind = \"number\"\nmax_from = \"b\"", number, "a", "earlier number step"),
            ("kind = \"text\"", "kind = \"number\"\nmax_from = \"a\"", "b", "earlier number step"),
            (number, "kind = \"number\"\nmax_from = \"b\"", "b", "earlier number step"),
            (number, "kind = \"money\"\nmax_from = \"a\"", "b", "only a number step"),
            (number, "kind = \"number\"\nmax_error = \"Quá nhiều.\"", "b", "needs max_from"),
            (number, "kind = \"number\"\nmax_from = \" \"", "b", "empty"),
        ] {
            let err = load_one(&two(first, second)).expect_err(second);
            assert_eq!(err.step.as_deref(), Some(at), "{err}");
            assert!(err.problem.contains(problem), "{err}");
        }
    }

    #[test]
    fn syntax_error_names_file() {
        let err = load_one("id = ").unwrap_err();
        assert_eq!(err.file, "x.toml");
    }
}
