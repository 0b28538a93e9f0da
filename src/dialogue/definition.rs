//! Dialogue definitions, read from the TOML files in `dialogues/`.
//!
//! The files hold the wording and shape of each flow (steps, kinds of answer,
//! choices); Rust holds what happens when it completes. They are embedded, and
//! a directory named in config overrides them (reworded without a rebuild).
//!
//! Longer than the guide on purpose: the file's shapes and the checks that
//! refuse a broken file at start-up read best side by side.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

pub use super::max_from::MaxFrom;

/// The files the bot knows, embedded at build time.
const EMBEDDED: &[(&str, &str)] = &[
    ("common.toml", include_str!("../../dialogues/common.toml")),
    ("household.toml", include_str!("../../dialogues/household.toml")),
    ("report.toml", include_str!("../../dialogues/report.toml")),
    ("report_decline.toml", include_str!("../../dialogues/report_decline.toml")),
    ("campaign.toml", include_str!("../../dialogues/campaign.toml")),
    ("pledge.toml", include_str!("../../dialogues/pledge.toml")),
    ("notice.toml", include_str!("../../dialogues/notice.toml")),
    ("notice_time.toml", include_str!("../../dialogues/notice_time.toml")),
    ("visit.toml", include_str!("../../dialogues/visit.toml")),
    ("digital_self.toml", include_str!("../../dialogues/digital_self.toml")),
    ("consultation.toml", include_str!("../../dialogues/consultation.toml")),
    ("consultation_other.toml", include_str!("../../dialogues/consultation_other.toml")),
];

#[derive(Debug, thiserror::Error)]
#[error("dialogue file {file}{}: {problem}", step.as_ref().map(|s| format!(", step '{s}'")).unwrap_or_default())]
pub struct DefinitionError {
    pub file: String,
    pub step: Option<String>,
    pub problem: String,
}

impl DefinitionError {
    pub fn new(file: &str, step: Option<&str>, problem: impl Into<String>) -> Self {
        Self { file: file.to_string(), step: step.map(str::to_string), problem: problem.into() }
    }
}

/// Wording shared by every dialogue: the summary buttons, generic errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommonTexts {
    pub confirm: String,
    pub edit: String,
    pub done: String,
    pub skip: String,
    pub back: String,
    pub pick_edit: String,
    pub stale_button: String,
    pub summary_hint: String,
    pub current_value: String,
    pub none_selected: String,
    pub photo_received: String,
    pub photos_count: String,
    pub location_sent: String,
    pub send_location: String,
    pub skipped: String,
    pub errors: KindErrors,
    /// The wording on Zalo where it differs: Zalo has no buttons (options
    /// are typed, by number or in words) and its bots receive no location.
    #[serde(default)]
    pub zalo: ZaloTexts,
}

/// Shared wording replaced on Zalo; what is not given stays as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZaloTexts {
    pub pick_edit: Option<String>,
    pub summary_hint: Option<String>,
    pub photo_received: Option<String>,
    #[serde(default)]
    pub errors: ZaloErrors,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZaloErrors {
    pub choice: Option<String>,
    pub choices: Option<String>,
    pub photos: Option<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindErrors {
    pub text: String,
    pub name: String,
    pub phone: String,
    pub number: String,
    pub money: String,
    pub choice: String,
    pub choices: String,
    pub photos: String,
    pub location: String,
    pub date: String,
    /// A date outside the step's days: `{min}` and `{max}` are dates.
    #[serde(default = "default_date_range")]
    pub date_range: String,
    pub wrong_input: String,
}

fn default_date_range() -> String {
    "Ngày phải từ {min} đến {max}. Xin nhập lại.".to_string()
}

#[derive(Debug, Clone)]
pub struct Definition {
    pub id: String,
    pub title: String,
    pub intro: String,
    pub summary: String,
    pub steps: Vec<Step>,
}

impl Definition {
    pub fn step_index(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.key == key)
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub key: String,
    pub label: String,
    pub prompt: String,
    /// The prompt on Zalo, where the Telegram one speaks of buttons or of
    /// sending a location.
    pub zalo_prompt: Option<String>,
    pub zalo_error: Option<String>,
    pub kind: StepKind,
    pub optional: bool,
    pub skip_label: Option<String>,
    /// Overrides the kind's generic error message.
    pub error: Option<String>,
    /// Asked only when an earlier answer (or the dialogue's context) has one
    /// of these values.
    pub only_if: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Text {
        max_len: usize,
    },
    Name,
    Phone,
    /// A count from `min` to `max`, and at most what `max_from` names.
    Number {
        min: i64,
        max: i64,
        max_from: Option<MaxFrom>,
    },
    Money {
        min: i64,
        max: i64,
    },
    Choice {
        options: Vec<Choice>,
    },
    Choices {
        options: Vec<Choice>,
        none_label: String,
    },
    Photos {
        max: usize,
    },
    Location,
    /// A calendar date typed as dd/mm/yyyy, from `min` days after the day
    /// it is typed (0: not in the past) to `max` days after (unless the
    /// step says, two years to the day).
    Date {
        min: i64,
        max: Option<i64>,
    },
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Text { .. } => "text",
            StepKind::Name => "name",
            StepKind::Phone => "phone",
            StepKind::Number { .. } => "number",
            StepKind::Money { .. } => "money",
            StepKind::Choice { .. } => "choice",
            StepKind::Choices { .. } => "choices",
            StepKind::Photos { .. } => "photos",
            StepKind::Location => "location",
            StepKind::Date { .. } => "date",
        }
    }

    pub fn options(&self) -> &[Choice] {
        match self {
            StepKind::Choice { options } | StepKind::Choices { options, .. } => options,
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
    /// Other names people type for it ("VCB" for Vietcombank).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The label on Zalo, where it differs (Zalo cannot show a QR code).
    #[serde(default)]
    pub zalo_label: Option<String>,
}

/// Every dialogue the bot runs, plus the shared wording.
#[derive(Debug, Clone)]
pub struct Book {
    pub common: CommonTexts,
    pub(super) flows: HashMap<String, Definition>,
    /// The same dialogues worded for Zalo (None in that copy itself).
    pub(super) zalo: Option<Box<Book>>,
}

/// The dialogue files built into the binary, as (file name, text).
pub fn embedded_sources() -> Vec<(String, String)> {
    EMBEDDED.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect()
}

impl Book {
    /// The embedded definitions, overridden file by file from `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Self, DefinitionError> {
        let mut sources: Vec<(String, String)> = Vec::new();
        for (name, embedded) in EMBEDDED {
            let text = match dir.map(|d| d.join(name)).filter(|p| p.exists()) {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| DefinitionError::new(&path.display().to_string(), None, e.to_string()))?,
                None => (*embedded).to_string(),
            };
            sources.push((name.to_string(), text));
        }
        Self::from_sources(&sources)
    }

    pub fn from_sources(sources: &[(String, String)]) -> Result<Self, DefinitionError> {
        let mut common = None;
        let mut flows = HashMap::new();
        for (file, text) in sources {
            if file == "common.toml" {
                common = Some(
                    toml::from_str::<CommonTexts>(text)
                        .map_err(|e| DefinitionError::new(file, None, e.message().to_string()))?,
                );
                continue;
            }
            let raw: RawDefinition =
                toml::from_str(text).map_err(|e| DefinitionError::new(file, None, e.message().to_string()))?;
            let def = raw.validate(file)?;
            if flows.insert(def.id.clone(), def).is_some() {
                return Err(DefinitionError::new(file, None, "another file already defines this id"));
            }
        }
        let common = common.ok_or_else(|| DefinitionError::new("common.toml", None, "missing"))?;
        let mut book = Self { common, flows, zalo: None };
        let zalo = book.worded_for_zalo();
        zalo.check_zalo_wording()?;
        book.zalo = Some(Box::new(zalo));
        Ok(book)
    }

    pub fn get(&self, id: &str) -> Option<&Definition> {
        self.flows.get(id)
    }

    /// The ids of the dialogues in the book.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }

    /// Replaces the options of a choice step with a list from config (the
    /// ward's report categories). Fails if the step is not a choice.
    pub fn set_options(&mut self, flow: &str, key: &str, options: Vec<Choice>) -> Result<(), DefinitionError> {
        let file = format!("{flow}.toml");
        let fail = |problem: &str| DefinitionError::new(&file, Some(key), problem);
        let def = self.flows.get_mut(flow).ok_or_else(|| fail("no such dialogue"))?;
        let step = def.steps.iter_mut().find(|s| s.key == key).ok_or_else(|| fail("no such step"))?;
        if options.is_empty() {
            return Err(fail("the list from config is empty"));
        }
        match &mut step.kind {
            StepKind::Choice { options: o } => *o = options.clone(),
            _ => return Err(fail("only a choice step takes options from config")),
        }
        match &mut self.zalo {
            Some(zalo) => zalo.set_options(flow, key, options),
            None => Ok(()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    id: String,
    title: String,
    intro: String,
    summary: String,
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    key: String,
    label: String,
    prompt: String,
    zalo_prompt: Option<String>,
    zalo_error: Option<String>,
    kind: String,
    #[serde(default)]
    optional: bool,
    skip_label: Option<String>,
    error: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    max_from: Option<String>,
    max_error: Option<String>,
    max_len: Option<usize>,
    #[serde(default)]
    options: Vec<Choice>,
    none_label: Option<String>,
    only_if: Option<Condition>,
}

impl RawDefinition {
    fn validate(self, file: &str) -> Result<Definition, DefinitionError> {
        let fail = |step: Option<&str>, problem: &str| DefinitionError::new(file, step, problem);
        if self.id.trim().is_empty() || self.title.trim().is_empty() {
            return Err(fail(None, "id and title must not be empty"));
        }
        if self.steps.is_empty() {
            return Err(fail(None, "a dialogue needs at least one step"));
        }
        let mut keys = HashSet::new();
        let mut steps = Vec::with_capacity(self.steps.len());
        for raw in self.steps {
            let key = raw.key.clone();
            let at = Some(key.as_str());
            if key.trim().is_empty() {
                return Err(fail(None, "a step has an empty key"));
            }
            if !keys.insert(key.clone()) {
                return Err(fail(at, "the key is used twice"));
            }
            if raw.prompt.trim().is_empty() || raw.label.trim().is_empty() {
                return Err(fail(at, "prompt and label must not be empty"));
            }
            let bounds = |default_min: i64, default_max: i64| -> Result<(i64, i64), DefinitionError> {
                let (min, max) = (raw.min.unwrap_or(default_min), raw.max.unwrap_or(default_max));
                if min > max {
                    return Err(fail(at, "min is greater than max"));
                }
                Ok((min, max))
            };
            let check_options = |options: &[Choice]| -> Result<(), DefinitionError> {
                if options.is_empty() {
                    return Err(fail(at, "a choice step needs options"));
                }
                let mut seen = HashSet::new();
                for o in options {
                    if o.value.trim().is_empty() || o.label.trim().is_empty() {
                        return Err(fail(at, "an option has an empty value or label"));
                    }
                    if !seen.insert(crate::text::fold(&o.label))
                        || options.iter().filter(|p| p.value == o.value).count() > 1
                    {
                        return Err(fail(at, "two options share a value or a label"));
                    }
                }
                Ok(())
            };
            let from = MaxFrom::read(&raw.kind, raw.max_from, raw.max_error).map_err(|p| fail(at, p))?;
            let kind = match raw.kind.as_str() {
                "text" => StepKind::Text { max_len: raw.max_len.unwrap_or(200) },
                "name" => StepKind::Name,
                "phone" => StepKind::Phone,
                "number" => {
                    let (min, max) = bounds(0, 1_000)?;
                    StepKind::Number { min, max, max_from: from }
                }
                "money" => {
                    let (min, max) = bounds(1, 1_000_000_000_000)?;
                    if min < 1 {
                        return Err(fail(at, "money steps need min of at least 1"));
                    }
                    StepKind::Money { min, max }
                }
                "choice" => {
                    check_options(&raw.options)?;
                    StepKind::Choice { options: raw.options }
                }
                "choices" => {
                    check_options(&raw.options)?;
                    let none_label = raw.none_label.ok_or_else(|| fail(at, "a choices step needs none_label"))?;
                    StepKind::Choices { options: raw.options, none_label }
                }
                "photos" => {
                    let max = raw.max.unwrap_or(3);
                    if !(1..=10).contains(&max) {
                        return Err(fail(at, "photos max must be between 1 and 10"));
                    }
                    StepKind::Photos { max: max as usize }
                }
                "location" => StepKind::Location,
                "date" => {
                    let (min, _) = bounds(0, i64::MAX)?;
                    if raw.max.is_some_and(|max| max < min) {
                        return Err(fail(at, "min is greater than max"));
                    }
                    StepKind::Date { min, max: raw.max }
                }
                other => return Err(fail(
                    at,
                    &format!(
                        "unknown kind '{other}' (text, name, phone, number, money, choice, choices, photos, location, date)"
                    ),
                )),
            };
            if let Some(cond) = &raw.only_if {
                if cond.values.is_empty() {
                    return Err(fail(at, "only_if needs values"));
                }
            }
            steps.push(Step {
                only_if: raw.only_if,
                key,
                label: raw.label,
                prompt: raw.prompt,
                zalo_prompt: raw.zalo_prompt,
                zalo_error: raw.zalo_error,
                kind,
                optional: raw.optional,
                skip_label: raw.skip_label,
                error: raw.error,
            });
        }
        // A condition names an earlier step, or else a key of the context.
        for (i, step) in steps.iter().enumerate() {
            if let Some(cond) = &step.only_if {
                if let Some(j) = steps.iter().position(|p| p.key == cond.key) {
                    if j >= i {
                        return Err(fail(Some(step.key.as_str()), "only_if must name an earlier step"));
                    }
                }
            }
        }
        let counts = steps.iter().map(|s| match &s.kind {
            StepKind::Number { max_from, .. } => (s.key.as_str(), true, max_from.as_ref()),
            _ => (s.key.as_str(), false, None),
        });
        MaxFrom::check_steps(counts).map_err(|(key, problem)| fail(Some(key), problem))?;
        Ok(Definition { id: self.id, title: self.title, intro: self.intro, summary: self.summary, steps })
    }
}
