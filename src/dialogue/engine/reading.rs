//! Reading an answer: what a typed or pressed reply means for the kind of
//! step asked, or why it cannot be taken.

use super::*;

impl Engine<'_> {
    pub(super) fn parse_text(&self, state: &mut DialogueState, step: &Step, text: &str) -> Result<Answer, String> {
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
            StepKind::Number { min, max, .. } => {
                // Bounded by the dialogue (the household's members), a
                // larger count is refused here, saying the bound.
                let limit = self.limit(state, step);
                match parse_count(text, *min, limit.unwrap_or(*max)) {
                    Ok(n) => Ok(Answer::Number(n)),
                    Err(CountError::TooLarge(_)) => match limit {
                        Some(limit) => Err(self.above_limit(state, step, limit)),
                        None => Err(err()),
                    },
                    Err(_) => match (limit, &step.error) {
                        (Some(limit), None) => Err(self
                            .common
                            .errors
                            .number
                            .replace("{min}", &min.to_string())
                            .replace("{max}", &limit.to_string())),
                        _ => Err(err()),
                    },
                }
            }
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

    pub(super) fn is_skip(&self, step: &Step, folded: &str) -> bool {
        let label = step.skip_label.as_deref().map(fold);
        label.as_deref() == Some(folded)
            || folded == fold(&self.common.skip)
            || matches!(folded, "khong" | "khong co" | "bo qua")
    }

    pub(super) fn error_for(&self, step: &Step) -> String {
        if let Some(e) = &step.error {
            return e.clone();
        }
        let e = &self.common.errors;
        match &step.kind {
            StepKind::Text { max_len } => e.text.replace("{max_len}", &max_len.to_string()),
            StepKind::Name => e.name.clone(),
            StepKind::Phone => e.phone.clone(),
            StepKind::Number { min, max, .. } => {
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
}

/// The option `text` names when it is exactly one option of a
/// multi-choice step (its number or its label); not the "none" answer.
pub(super) fn typed_toggle(step: &Step, text: &str) -> Option<String> {
    let StepKind::Choices { options, none_label } = &step.kind else { return None };
    let folded = fold(text);
    if folded == fold(none_label) || folded.contains([',', ';', '+']) || folded.contains(" va ") {
        return None;
    }
    match_option(options, &folded).map(|i| options[i].value.clone())
}

/// Matches a typed answer against options: its number ("2"), its label with
/// or without diacritics, or its value.
pub(super) fn match_option(options: &[crate::dialogue::definition::Choice], folded: &str) -> Option<usize> {
    if let Ok(n) = folded.trim_end_matches('.').parse::<usize>() {
        return n.checked_sub(1).filter(|i| *i < options.len());
    }
    options
        .iter()
        .position(|o| fold(&o.label) == folded || o.value == folded || o.aliases.iter().any(|a| fold(a) == folded))
}

/// Keeps multi-select answers in the order the options are listed.
pub(super) fn ordered(options: &[crate::dialogue::definition::Choice], picked: &[String]) -> Vec<String> {
    options.iter().filter(|o| picked.contains(&o.value)).map(|o| o.value.clone()).collect()
}
