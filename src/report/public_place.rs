//! What a group may read of where a report is: the lane or street, never
//! what else the resident typed. A typed place often carries a house number,
//! a phone number or a name ("trước nhà số 9 ngõ 41, gọi 0933111222"); the
//! public line keeps only a lane (`ngõ 41`, `ngách 41/12`, `hẻm 7`, `kiệt
//! 3`) with the capitalised street name that follows it, or a street named
//! after `đường` / `phố`. When neither can be recognised, None: the caller
//! shows the group's name instead.

use std::sync::LazyLock;

use regex::Regex;

/// `ngõ 41`, `ngách 41/12`: the lane's number is part of its name, a
/// house number never follows these words.
static LANE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(ngõ|ngách|hẻm|kiệt)\s+(\d{1,4}(?:/\d{1,4})?)\b").expect("lane pattern"));

/// `đường Xuân La`, `phố Hoàng Quốc Việt`: up to four capitalised words.
static STREET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:\b(đường|phố))\s+((?:\p{Lu}\p{Ll}*)(?:\s+\p{Lu}\p{Ll}*){0,3})").expect("street pattern")
});

/// Capitalised words right after a lane: `ngõ 41 Xuân La`.
static NAME_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+((?:\p{Lu}\p{Ll}*)(?:\s+\p{Lu}\p{Ll}*){0,3})").expect("name pattern"));

/// The lane and street in `typed`, as the group may read them.
pub fn reduce(typed: &str) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    // Typed on phones composed or not; the patterns are written composed.
    let typed: String = typed.nfc().collect();
    let lane = LANE.captures(&typed).map(|c| {
        let name = c.get(0).map_or(typed.len(), |m| m.end());
        let after = NAME_AFTER.captures(&typed[name..]).map(|n| n[1].to_string());
        (format!("{} {}", c[1].to_lowercase(), &c[2]), after)
    });
    let street = STREET.captures(&typed).map(|c| format!("{} {}", c[1].to_lowercase(), &c[2]));
    match (lane, street) {
        (Some((lane, _)), Some(street)) => Some(format!("{lane} {street}")),
        (Some((lane, Some(name))), None) => Some(format!("{lane} {name}")),
        (Some((lane, None)), None) => Some(lane),
        (None, street) => street,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_the_lane_and_street_only() {
        assert_eq!(reduce("trước nhà số 9 ngõ 41, gọi 0933111222").as_deref(), Some("ngõ 41"));
        assert_eq!(reduce("trước nhà tôi số 27 ngõ 41 Xuân La").as_deref(), Some("ngõ 41 Xuân La"));
        assert_eq!(reduce("số 5 ngách 41/12 đường Xuân La").as_deref(), Some("ngách 41/12 đường Xuân La"));
        assert_eq!(reduce("Cột điện phố Hoàng Quốc Việt").as_deref(), Some("phố Hoàng Quốc Việt"));
        assert_eq!(reduce("Ngõ 12").as_deref(), Some("ngõ 12"));
        assert_eq!(reduce("hẻm 7 nhà bác Nam"), Some("hẻm 7".into()));
    }

    #[test]
    fn nothing_recognisable_is_none() {
        assert_eq!(reduce("trước nhà tôi"), None);
        assert_eq!(reduce("gọi 0933111222"), None);
        assert_eq!(reduce("đường làng"), None);
        assert_eq!(reduce(""), None);
    }

    proptest! {
        /// Whatever is typed around a phone or house number, neither
        /// reaches the public line: no run of five digits, no "số" or
        /// "nhà" with its number.
        #[test]
        fn never_shows_a_phone_or_house_number(
            before in "\\PC{0,30}", after in "\\PC{0,30}", phone in "0[35789][0-9]{8}", house in 1u32..999
        ) {
            let typed = format!("{before} số {house} {after} ngõ 41 gọi {phone}");
            if let Some(public) = reduce(&typed) {
                prop_assert!(!public.contains(&phone), "{public}");
                prop_assert!(!public.chars().collect::<Vec<_>>().windows(5).any(|w| w.iter().all(char::is_ascii_digit)));
                prop_assert!(!public.contains(&format!("số {house}")), "{public}");
            }
        }
    }
}
