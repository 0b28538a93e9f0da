//! Every parser of user text, fed random and mutated input: none panics,
//! and where a format exists, what the bot prints parses back to the same
//! value. `TODANPHO_FUZZ_CASES` sets the cases per target (2,000 by
//! default; the closing note of issue 7 used 100,000).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use todanpho::campaign::{CampaignCode, PledgeCode};
use todanpho::channel::parse_command;
use todanpho::dialogue::Book;
use todanpho::domain::{parse_count, parse_date, Money, PersonName, PhoneNumber};
use todanpho::household::review::ReviewButton;
use todanpho::notice::compose::NoticeButton;
use todanpho::notice::NoticeCode;
use todanpho::report::handling::ReportButton;
use todanpho::report::{ReportCode, Status};

fn cases() -> u32 {
    std::env::var("TODANPHO_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000)
}

/// Runs `test` on `cases()` inputs from `strategy` and prints how many ran.
fn fuzz<S: Strategy>(target: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let runs = AtomicU64::new(0);
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&strategy, |input| {
        runs.fetch_add(1, Ordering::Relaxed);
        test(input)
    });
    if let Err(e) = result {
        panic!("{target}: {e}");
    }
    eprintln!("fuzz {target}: {} executions", runs.load(Ordering::Relaxed));
}

/// Text as people and their phones produce it: any printable character,
/// with a bias to the ones our parsers look at.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["\\PC{0,40}", "[0-9 .,:/+\\-kKtrđdhHpPuUbBaA]{0,24}", "[\u{200b}\u{200e}\u{202e}\u{feff}a-z0-9 ]{0,16}",]
}

fn callback() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "(nt|rp|pl|hh|hu|pk|rs|hm|ug|d):[a-z0-9:\\-]{0,20}",
        "[a-z]{2}:(ok|no|st|rt|sh):[0-9a-zA-Z:\\-]{0,16}",
    ]
}

#[test]
fn money_phone_name_count_and_dates() {
    fuzz("Money::parse", text(), |s| {
        if let Ok(m) = Money::parse(&s) {
            prop_assert_eq!(Money::parse(&m.to_string()).ok(), Some(m), "{} round trips", m);
        }
        Ok(())
    });
    fuzz("PhoneNumber::parse", text(), |s| {
        if let Ok(p) = PhoneNumber::parse(&s) {
            prop_assert_eq!(PhoneNumber::parse(&p.to_string()).ok(), Some(p.clone()), "{} round trips", p);
        }
        Ok(())
    });
    fuzz("PersonName::parse", "\\PC{0,80}", |s| {
        if let Ok(n) = PersonName::parse(&s) {
            let again = PersonName::parse(n.as_str()).ok().map(|n| n.as_str().to_string());
            prop_assert_eq!(again.as_deref(), Some(n.as_str()));
        }
        Ok(())
    });
    fuzz("parse_count", text(), |s| {
        if let Ok(n) = parse_count(&s, 1, 50) {
            prop_assert!((1..=50).contains(&n));
        }
        Ok(())
    });
    fuzz("parse_date", text(), |s| {
        if let Some(d) = parse_date(&s) {
            prop_assert_eq!(parse_date(&d.format("%d/%m/%Y").to_string()), Some(d));
        }
        Ok(())
    });
    fuzz("notice::schedule::parse_local", text(), |s| {
        let _ = todanpho::notice::schedule::parse_local(&s);
        Ok(())
    });
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).single().expect("a valid instant");
    fuzz("stats::Period::parse", prop::collection::vec(text(), 0..4), move |words| {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        if let Some(p) = todanpho::stats::Period::parse(&words, now, chrono_tz::Asia::Ho_Chi_Minh) {
            prop_assert!(p.since <= p.until);
        }
        Ok(())
    });
}

#[test]
fn codes_round_trip() {
    fuzz("codes", (text(), 1i64..999_999), |(s, n)| {
        let _ = (ReportCode::parse(&s), CampaignCode::parse(&s), PledgeCode::parse(&s), NoticeCode::parse(&s));
        prop_assert_eq!(ReportCode::parse(&ReportCode::new(n).to_string()), Some(ReportCode::new(n)));
        prop_assert_eq!(CampaignCode::parse(&CampaignCode::new(n).to_string()), Some(CampaignCode::new(n)));
        prop_assert_eq!(PledgeCode::parse(&PledgeCode::new(n).to_string()), Some(PledgeCode::new(n)));
        prop_assert_eq!(NoticeCode::parse(&NoticeCode::new(n).to_string()), Some(NoticeCode::new(n)));
        Ok(())
    });
}

#[test]
fn callback_data_never_panics_and_round_trips() {
    fuzz("callback data", callback(), |data| {
        if let Some(b) = NoticeButton::parse(&data) {
            prop_assert_eq!(NoticeButton::parse(&b.data()), Some(b));
        }
        if let Some(b) = ReportButton::parse(&data) {
            prop_assert_eq!(ReportButton::parse(&b.data()), Some(b));
        }
        if let Some(b) = ReviewButton::parse(&data) {
            prop_assert_eq!(ReviewButton::parse(&b.data()), Some(b));
        }
        let _ = todanpho::campaign::confirm::parse_button(&data);
        Ok(())
    });
    fuzz("report buttons", (1i64..999_999, 0usize..5), |(n, s)| {
        let to = Status::ALL[s];
        let b = ReportButton::Move { code: ReportCode::new(n), to };
        prop_assert_eq!(ReportButton::parse(&b.data()), Some(b));
        prop_assert!(b.data().len() <= 64, "Telegram's limit on callback data");
        Ok(())
    });
}

#[test]
fn commands_and_deep_links() {
    fuzz("parse_command", ("\\PC{0,60}", "[a-z_]{1,12}"), |(s, bot)| {
        if let Some((name, args)) = parse_command(&s, &bot) {
            prop_assert!(s.starts_with('/'));
            prop_assert_eq!(name.clone(), name.to_lowercase());
            prop_assert_eq!(args.trim(), args.as_str());
        }
        Ok(())
    });
}

const SOURCES: &[(&str, &str)] = &[
    ("common.toml", include_str!("../dialogues/common.toml")),
    ("household.toml", include_str!("../dialogues/household.toml")),
    ("report.toml", include_str!("../dialogues/report.toml")),
    ("report_decline.toml", include_str!("../dialogues/report_decline.toml")),
    ("campaign.toml", include_str!("../dialogues/campaign.toml")),
    ("pledge.toml", include_str!("../dialogues/pledge.toml")),
    ("notice.toml", include_str!("../dialogues/notice.toml")),
    ("notice_time.toml", include_str!("../dialogues/notice_time.toml")),
];

#[test]
fn dialogue_files_mutated_are_refused_or_loaded_never_a_panic() {
    // One file at a time gets a few random edits: a line dropped, a word
    // replaced, bytes inserted.
    let edits = (0..SOURCES.len(), prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, "\\PC{0,12}"), 1..4));
    fuzz("dialogue definitions", edits, |(file, edits)| {
        let mut sources: Vec<(String, String)> = SOURCES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let text = &mut sources[file].1;
        for (at, kind, insert) in edits {
            let lines: Vec<&str> = text.lines().collect();
            let line = at.index(lines.len().max(1));
            let mut lines: Vec<String> = lines.into_iter().map(str::to_string).collect();
            match kind {
                0 if !lines.is_empty() => {
                    lines.remove(line.min(lines.len() - 1));
                }
                1 if !lines.is_empty() => {
                    let l = line.min(lines.len() - 1);
                    let word = lines[l].split_whitespace().next().unwrap_or("").to_string();
                    lines[l] = lines[l].replacen(&word, &insert, 1);
                }
                _ => lines.insert(line.min(lines.len()), insert),
            }
            *text = lines.join("\n");
        }
        match Book::from_sources(&sources) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.to_string().contains(".toml"), "the error names the file: {}", e),
        }
        Ok(())
    });
}

#[test]
fn config_files_never_panic() {
    let good = include_str!("../config.toml");
    fuzz("config.toml", (any::<prop::sample::Index>(), "\\PC{0,30}"), |(at, insert)| {
        let mut lines: Vec<&str> = good.lines().collect();
        let i = at.index(lines.len());
        lines[i] = &insert;
        let _ = todanpho::config::Config::parse(&lines.join("\n"));
        Ok(())
    });
}
