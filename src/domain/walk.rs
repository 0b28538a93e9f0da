//! Walking order: the one order of every door-to-door list (a digital
//! team's households to visit, and any list a leader walks). By street;
//! then the houses on the street itself before those in its lanes, lanes
//! by their numbers read as numbers ("ngõ 9" before "ngõ 41", "ngõ 41
//! ngách 3" before "ngõ 41 ngách 12"); then the house number as a number
//! ("8" before "12A" before "12B" before "102").
//!
//! The key is built from what residents typed, which may be anything: it
//! never fails, and every address gets one place in the order.

use std::cmp::Ordering;

use crate::text::fold;

/// A household's place in the walking order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalkKey {
    street: String,
    lane: Numbered,
    house: Numbered,
}

impl WalkKey {
    pub fn new(street: &str, lane: Option<&str>, house_number: &str) -> Self {
        Self {
            street: fold(street),
            lane: Numbered::read(lane.unwrap_or_default()),
            house: Numbered::read(house_number),
        }
    }
}

/// Text read as its runs of digits, compared as numbers, then as the whole
/// text folded (so "12A" and "12a" are one place, "12A" after "12").
#[derive(Debug, Clone, PartialEq, Eq)]
struct Numbered {
    numbers: Vec<u64>,
    text: String,
}

impl Numbered {
    fn read(raw: &str) -> Self {
        let text = fold(raw);
        let numbers = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|run| !run.is_empty())
            // A run too long for a number is still ordered, among the last.
            .map(|run| run.trim_start_matches('0').parse().unwrap_or(if run.len() > 19 { u64::MAX } else { 0 }))
            .collect();
        Self { numbers, text }
    }
}

impl Ord for Numbered {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for Numbered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(mut addresses: Vec<(&'static str, Option<&'static str>, &'static str)>) -> Vec<String> {
        addresses.sort_by_key(|(street, lane, house)| WalkKey::new(street, *lane, house));
        addresses.into_iter().map(|(s, l, h)| format!("{h} {} {s}", l.unwrap_or("-"))).collect()
    }

    #[test]
    fn lanes_and_houses_go_by_number_not_by_letters() {
        let order = sorted(vec![
            ("Xuân La", Some("ngõ 41, ngách 12"), "5"),
            ("Xuân La", Some("ngõ 9"), "102"),
            ("Xuân La", None, "12B"),
            ("Xuân La", Some("ngõ 41, ngách 3"), "20"),
            ("Xuân La", None, "8"),
            ("Xuân La", Some("ngõ 41"), "12"),
            ("Xuân La", None, "12A"),
            ("Xuân La", Some("Ngõ 9"), "7"),
            ("Hoàng Quốc Việt", Some("ngõ 100"), "1"),
        ]);
        assert_eq!(
            order,
            [
                "1 ngõ 100 Hoàng Quốc Việt",
                "8 - Xuân La",
                "12A - Xuân La",
                "12B - Xuân La",
                "7 Ngõ 9 Xuân La",
                "102 ngõ 9 Xuân La",
                "12 ngõ 41 Xuân La",
                "20 ngõ 41, ngách 3 Xuân La",
                "5 ngõ 41, ngách 12 Xuân La",
            ]
        );
    }

    #[test]
    fn the_street_is_read_without_accents_or_case() {
        assert_eq!(WalkKey::new("Xuân La", None, "1"), WalkKey::new("xuan  la", None, "1"));
        assert!(WalkKey::new("Xuân La", None, "2") > WalkKey::new("XUÂN LA", None, "1"));
    }

    proptest! {
        // Whatever was typed, the order is total and consistent: sorting
        // never panics, and equal keys come from equal folded text.
        #[test]
        fn any_address_has_a_place(a in ".{0,40}", b in ".{0,40}", c in ".{0,40}", d in "[0-9a-zA-Z/ ]{0,30}") {
            let x = WalkKey::new(&a, Some(&b), &c);
            let y = WalkKey::new(&a, Some(&d), &c);
            prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
            prop_assert_eq!(x.cmp(&x), Ordering::Equal);
        }
    }
}
