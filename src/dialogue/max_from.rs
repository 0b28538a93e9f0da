//! A count's maximum that comes from the dialogue rather than the file
//! (`max_from` on a number step): an earlier number step's answer (people
//! using a smartphone, at most the household's members answered before), or
//! a count the flow puts in the dialogue's context when it starts (the
//! household's members, the room left for VNeID), named in its form's
//! `counts` (`conversation::Form`). The engine refuses a larger answer at its
//! own step, as it refuses a date outside its days; the flow still checks
//! the figure again when it saves, against the record as it is then.
//!
//! The context is kept with the dialogue's state: a dialogue stored before
//! its flow gave the count has none, and its step is bounded by the file's
//! `max` alone.

/// Where a number step's maximum comes from, and what the person reads
/// when they go above it.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxFrom {
    /// An earlier number step's key, or else a count of the context.
    pub name: String,
    /// The refusal of an answer above it: `{min}`, `{max}` and the
    /// context's keys are replaced. Unless given, the common number error.
    pub error: Option<String>,
}

impl MaxFrom {
    /// Reads a step's `max_from` and `max_error`; the problem, if the
    /// step cannot have them.
    pub fn read(kind: &str, name: Option<String>, error: Option<String>) -> Result<Option<Self>, &'static str> {
        match (name, error) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err("max_error needs max_from"),
            (Some(_), _) if kind != "number" => Err("only a number step takes max_from"),
            (Some(name), _) if name.trim().is_empty() => Err("max_from is empty"),
            (Some(name), error) => Ok(Some(Self { name, error })),
        }
    }

    /// Where `max_from` names a step of the same dialogue, that step comes
    /// earlier and is a number. `steps` is each step's key, whether it is a
    /// number, and its `max_from`; the error names the step at fault. A name
    /// that is no step's is a count of the context: the forms check those.
    pub fn check_steps<'a>(
        steps: impl Iterator<Item = (&'a str, bool, Option<&'a MaxFrom>)> + Clone,
    ) -> Result<(), (&'a str, &'static str)> {
        for (i, (key, _, from)) in steps.clone().enumerate() {
            let Some(from) = from else { continue };
            match steps.clone().enumerate().find(|(_, (k, _, _))| *k == from.name) {
                Some((j, (_, number, _))) if j < i && number => {}
                Some(_) => return Err((key, "max_from must name an earlier number step (or a count of the context)")),
                None => {}
            }
        }
        Ok(())
    }
}
