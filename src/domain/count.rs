//! Small whole numbers typed by residents ("4", "4 người", "bốn").

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountError {
    #[error("not a whole number")]
    NotANumber,
    #[error("number is below {0}")]
    TooSmall(i64),
    #[error("number is above {0}")]
    TooLarge(i64),
}

const WORDS: [&str; 11] = ["khong", "mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin", "muoi"];

/// Parses a count within `min..=max`. A trailing unit word ("4 người",
/// "2 nguoi") is allowed; so are the Vietnamese words for 0 to 10.
pub fn parse_count(input: &str, min: i64, max: i64) -> Result<i64, CountError> {
    let folded = crate::text::fold(input);
    let first = folded.split(' ').next().unwrap_or("");
    let value = if !first.is_empty() && first.chars().all(|c| c.is_ascii_digit()) {
        if first.len() > 12 {
            return Err(CountError::TooLarge(max));
        }
        first.parse::<i64>().map_err(|_| CountError::NotANumber)?
    } else if let Some(i) = WORDS.iter().position(|w| *w == first) {
        i as i64
    } else {
        return Err(CountError::NotANumber);
    };
    let rest_is_words = folded.split(' ').skip(1).all(|w| w.chars().all(|c| c.is_alphabetic()));
    if !rest_is_words {
        return Err(CountError::NotANumber);
    }
    if value < min {
        return Err(CountError::TooSmall(min));
    }
    if value > max {
        return Err(CountError::TooLarge(max));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_typed_counts() {
        assert_eq!(parse_count("4", 1, 50), Ok(4));
        assert_eq!(parse_count(" 4 người ", 1, 50), Ok(4));
        assert_eq!(parse_count("bốn", 1, 50), Ok(4));
        assert_eq!(parse_count("0", 0, 50), Ok(0));
    }

    #[test]
    fn refuses_out_of_range_and_garbage() {
        assert_eq!(parse_count("0", 1, 50), Err(CountError::TooSmall(1)));
        assert_eq!(parse_count("500", 1, 50), Err(CountError::TooLarge(50)));
        assert_eq!(parse_count("-3", 1, 50), Err(CountError::NotANumber));
        assert_eq!(parse_count("4 5", 1, 50), Err(CountError::NotANumber));
        assert_eq!(parse_count("", 1, 50), Err(CountError::NotANumber));
        assert_eq!(parse_count("99999999999999999999", 1, 50), Err(CountError::TooLarge(50)));
    }

    proptest! {
        #[test]
        fn never_panics_and_stays_in_range(s in "\\PC{0,30}") {
            if let Ok(n) = parse_count(&s, 1, 50) {
                prop_assert!((1..=50).contains(&n));
            }
        }

        /// Issue 31.2: whatever the bound (a household's members, the room
        /// left for VNeID), no count above it is ever read, typed as digits,
        /// in words or with a unit; one above it says the bound.
        #[test]
        fn no_count_above_the_bound_is_ever_accepted(
            max in 0i64..60,
            n in 0i64..1_000,
            form in prop_oneof![Just("{n}"), Just(" {n} người "), Just("{n} nguoi"), Just("0{n}")],
            junk in "\\PC{0,12}",
        ) {
            let typed = form.replace("{n}", &n.to_string());
            match parse_count(&typed, 0, max) {
                Ok(read) => prop_assert!(read == n && read <= max, "{typed} read as {read}"),
                Err(e) => prop_assert!(n > max && e == CountError::TooLarge(max), "{typed}: {e}"),
            }
            for typed in [junk, super::WORDS.get(n as usize).map(|w| w.to_string()).unwrap_or_default()] {
                if let Ok(read) = parse_count(&typed, 0, max) {
                    prop_assert!(read <= max, "{typed} read as {read} above {max}");
                }
            }
        }
    }
}
