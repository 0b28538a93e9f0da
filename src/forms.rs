//! Every dialogue whose answers are saved, listed once: the conversation
//! hands a confirmed dialogue to its form from here, and start-up checks
//! each form against its dialogue file (and that no dialogue lacks a form).

use crate::conversation::Form;
use crate::dialogue::definition::StepKind;
use crate::dialogue::{Book, DefinitionError};
use crate::{campaign, consultation, digital, household, notice, report};

pub const ALL: &[Form] = &[
    household::registration::FORM,
    report::filing::FORM,
    report::handling::DECLINE_FORM,
    campaign::create::FORM,
    campaign::pledge::FORM,
    notice::compose::TEXT_FORM,
    notice::schedule::TIME_FORM,
    digital::visit::FORM,
    digital::own::FORM,
    consultation::compose::FORM,
    consultation::ballot::OTHER_FORM,
];

/// Each form's dialogue has the steps it reads, of the kinds it reads them
/// as; every dialogue is some form's. (Both the Telegram and the Zalo
/// wording: they share their steps.)
pub fn check(book: &Book) -> Result<(), DefinitionError> {
    for form in ALL {
        let file = format!("{}.toml", form.id);
        let def = book.get(form.id).ok_or_else(|| DefinitionError::new(&file, None, "no dialogue with this id"))?;
        for (key, kind) in form.needs {
            let step = def
                .steps
                .iter()
                .find(|s| s.key == *key)
                .ok_or_else(|| DefinitionError::new(&file, Some(key), "this step is required"))?;
            if step.kind.name() != *kind {
                return Err(DefinitionError::new(&file, Some(key), format!("must be of kind '{kind}'")));
            }
        }
        // A maximum that is no step's is a count the flow gives its dialogue.
        for step in &def.steps {
            let StepKind::Number { max_from: Some(from), .. } = &step.kind else { continue };
            if !def.steps.iter().any(|s| s.key == from.name) && !form.counts.contains(&from.name.as_str()) {
                let counts = if form.counts.is_empty() { "none".to_string() } else { form.counts.join(", ") };
                return Err(DefinitionError::new(
                    &file,
                    Some(&step.key),
                    format!(
                        "max_from = '{}' is neither an earlier step nor a count this dialogue is given ({counts})",
                        from.name
                    ),
                ));
            }
        }
    }
    if let Some(orphan) = book.ids().find(|id| !ALL.iter().any(|f| f.id == *id)) {
        return Err(DefinitionError::new(&format!("{orphan}.toml"), None, "no form saves this dialogue"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_dialogues_and_the_forms_match() {
        let book = Book::load(None).expect("the embedded dialogues");
        check(&book).expect("every form finds its steps");
        let mut ids: Vec<&str> = ALL.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "a form is listed once");
    }

    /// The built-in dialogues with `from` replaced by `to` in `file`: still
    /// a valid dialogue on its own.
    fn edited(file: &str, from: &str, to: &str) -> Book {
        let mut sources: Vec<(String, String)> = crate::dialogue::embedded_sources();
        for (name, text) in &mut sources {
            if name == file {
                *text = text.replace(from, to);
            }
        }
        Book::from_sources(&sources).expect("each file is valid alone")
    }

    #[test]
    fn a_dialogue_file_that_breaks_a_form_is_refused() {
        let book = edited("pledge.toml", "kind = \"money\"", "kind = \"text\"");
        let refused = check(&book).expect_err("the pledge form reads a money step");
        assert_eq!(refused.step.as_deref(), Some("amount"), "{refused}");
    }

    /// A count bounded by a name that is neither an earlier step nor a count
    /// the flow gives its dialogue is refused (`todanpho check`, start-up).
    #[test]
    fn a_count_bounded_by_an_unknown_count_of_the_context_is_refused() {
        let book = edited("visit.toml", "max_from = \"vneid_room\"", "max_from = \"vneid_left\"");
        let refused = check(&book).expect_err("the visit gives no vneid_left");
        assert_eq!(refused.step.as_deref(), Some("vneid_added"), "{refused}");
        assert!(refused.to_string().contains("vneid_left") && refused.to_string().contains("vneid_room"), "{refused}");
    }
}
