//! The dialogues as a Zalo resident reads them. Zalo shows no buttons (a
//! message's options come as a list to answer by number or in words) and a
//! Zalo bot receives no location, so a step whose Telegram wording speaks
//! of either carries its own (`zalo_prompt`, `zalo_error`, an option's
//! `zalo_label`, `[zalo]` in `common.toml`), and a book is refused at
//! start-up when what a Zalo resident would read still does.

use super::definition::{Book, DefinitionError, StepKind};

/// What a prompt on Zalo must not offer: Zalo shows no buttons (options
/// are typed) and its bots receive no location.
const NOT_ON_ZALO: &[&str] = &["bấm", "nút", "vị trí hiện tại"];

impl Book {
    /// The dialogues as worded for a person's private chat on `channel`:
    /// the wording without buttons and locations where it has neither.
    pub fn on(&self, channel: crate::channel::Channel) -> &Book {
        let can = channel.capabilities();
        match &self.zalo {
            Some(zalo) if !can.inline_buttons || !can.locations => zalo,
            _ => self,
        }
    }

    /// A copy with every Zalo wording in place of the Telegram one.
    pub(super) fn worded_for_zalo(&self) -> Book {
        let mut common = self.common.clone();
        let z = &self.common.zalo;
        let put = |to: &mut String, from: &Option<String>| {
            if let Some(text) = from {
                *to = text.clone();
            }
        };
        put(&mut common.pick_edit, &z.pick_edit);
        put(&mut common.summary_hint, &z.summary_hint);
        put(&mut common.photo_received, &z.photo_received);
        put(&mut common.errors.choice, &z.errors.choice);
        put(&mut common.errors.choices, &z.errors.choices);
        put(&mut common.errors.photos, &z.errors.photos);
        put(&mut common.errors.location, &z.errors.location);
        let mut flows = self.flows.clone();
        for def in flows.values_mut() {
            for step in &mut def.steps {
                put(&mut step.prompt, &step.zalo_prompt);
                if step.zalo_error.is_some() {
                    step.error = step.zalo_error.clone();
                }
                if let StepKind::Choice { options } | StepKind::Choices { options, .. } = &mut step.kind {
                    for o in options {
                        put(&mut o.label, &o.zalo_label);
                    }
                }
            }
        }
        Book { common, flows, zalo: None }
    }

    /// Every prompt a Zalo resident may read describes what can be done
    /// there: one that speaks of buttons or of sending a location needs its
    /// Zalo wording (`zalo_prompt`, `zalo_label`, `[zalo]` in common.toml).
    pub(super) fn check_zalo_wording(&self) -> Result<(), DefinitionError> {
        let offends = |text: &str| {
            let lower = text.to_lowercase();
            NOT_ON_ZALO.iter().find(|w| lower.contains(**w)).copied()
        };
        let c = &self.common;
        for (key, text) in [
            ("pick_edit", &c.pick_edit),
            ("summary_hint", &c.summary_hint),
            ("photo_received", &c.photo_received),
            ("errors.choice", &c.errors.choice),
            ("errors.choices", &c.errors.choices),
            ("errors.photos", &c.errors.photos),
            ("errors.location", &c.errors.location),
        ] {
            if let Some(word) = offends(text) {
                return Err(DefinitionError::new(
                    "common.toml",
                    None,
                    format!("'{key}' says «{word}», which Zalo lacks: give it a wording under [zalo]"),
                ));
            }
        }
        for def in self.flows.values() {
            let file = format!("{}.toml", def.id);
            for step in &def.steps {
                let texts = std::iter::once(step.prompt.as_str())
                    .chain(step.error.as_deref())
                    .chain(match &step.kind {
                        StepKind::Number { max_from: Some(from), .. } => from.error.as_deref(),
                        _ => None,
                    })
                    .chain(step.kind.options().iter().map(|o| o.label.as_str()));
                for text in texts {
                    if let Some(word) = offends(text) {
                        return Err(DefinitionError::new(
                            &file,
                            Some(&step.key),
                            format!("«{word}» is not something a Zalo resident can do: give the step a zalo_prompt (or zalo_error, or the option a zalo_label)"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_one(text: &str) -> Result<Book, DefinitionError> {
        let common = include_str!("../../dialogues/common.toml").to_string();
        Book::from_sources(&[("common.toml".into(), common), ("x.toml".into(), text.into())])
    }

    #[test]
    fn a_prompt_that_speaks_of_buttons_needs_its_zalo_wording() {
        let step = |extra: &str| {
            format!("id = \"x\"\ntitle = \"X\"\nintro = \"i\"\nsummary = \"s\"\n[[steps]]\nkey = \"c\"\nlabel = \"C\"\nkind = \"choice\"\nprompt = \"Xin bấm chọn.\"\noptions = [{{ value = \"a\", label = \"A\" }}]\n{extra}")
        };
        let err = load_one(&step("")).expect_err("no Zalo wording");
        assert!(err.to_string().contains("x.toml") && err.to_string().contains("zalo_prompt"), "{err}");
        let book = load_one(&step("zalo_prompt = \"Xin gõ số thứ tự.\"")).expect("worded for Zalo");
        let zalo = book.on(crate::channel::Channel::Zalo).get("x").unwrap();
        assert_eq!(zalo.steps[0].prompt, "Xin gõ số thứ tự.");
        assert_eq!(book.get("x").unwrap().steps[0].prompt, "Xin bấm chọn.");
        let err = load_one(&step("zalo_prompt = \"Xin bấm nút.\"")).expect_err("the Zalo wording too");
        assert!(err.to_string().contains("bấm"), "{err}");
    }
}
