//! Vietnamese phone numbers, stored as `0xxxxxxxxx`.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("phone number is empty")]
    Empty,
    #[error("phone number contains characters other than digits")]
    BadCharacters,
    #[error("not a Vietnamese phone number")]
    NotVietnamese,
}

impl PhoneNumber {
    /// Accepts what people type: `0912 345 678`, `+84 912.345.678`,
    /// `84-912-345-678`, `(024) 3826 1234`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits = String::with_capacity(trimmed.len());
        for c in trimmed.chars() {
            match c {
                '0'..='9' => digits.push(c),
                // "+84" and "(+84)": a plus only before any digit.
                '+' if digits.is_empty() => {}
                ' ' | '.' | '-' | '(' | ')' => {}
                _ => return Err(PhoneError::BadCharacters),
            }
        }
        let national = match digits.strip_prefix("84") {
            // "84" is the country code only when what follows is a full
            // national number without its leading zero.
            Some(rest) if (rest.len() == 9 || rest.len() == 10) && !rest.starts_with('0') => {
                format!("0{rest}")
            }
            _ => digits,
        };
        if is_mobile(&national) || is_landline(&national) {
            Ok(Self(national))
        } else {
            Err(PhoneError::NotVietnamese)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Mobile numbers since the 2018 renumbering: ten digits, 03/05/07/08/09.
fn is_mobile(n: &str) -> bool {
    n.len() == 10 && matches!(&n[..2], "03" | "05" | "07" | "08" | "09")
}

/// Fixed lines: eleven digits starting with 02 (area code included).
fn is_landline(n: &str) -> bool {
    n.len() == 11 && n.starts_with("02")
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_forms() {
        for input in [
            "0912345678",
            "0912 345 678",
            "0912.345.678",
            "0912-345-678",
            "+84912345678",
            "+84 912 345 678",
            "84912345678",
            "(+84) 912 345 678",
        ] {
            assert_eq!(PhoneNumber::parse(input).unwrap().as_str(), "0912345678", "{input}");
        }
        assert_eq!(PhoneNumber::parse("024 3826 1234").unwrap().as_str(), "02438261234");
        assert_eq!(PhoneNumber::parse("+84 24 3826 1234").unwrap().as_str(), "02438261234");
    }

    #[test]
    fn rejects_non_vietnamese() {
        for input in
            ["", "   ", "12345", "0112345678", "09123456789", "+1 415 555 0100", "abc", "0912x45678", "0012345678"]
        {
            assert!(PhoneNumber::parse(input).is_err(), "{input}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = PhoneNumber::parse(&s);
        }

        #[test]
        fn any_mobile_survives_formatting(prefix in prop::sample::select(vec!["03", "05", "07", "08", "09"]),
                                          rest in "[0-9]{8}",
                                          style in 0usize..4) {
            let national = format!("{prefix}{rest}");
            let typed = match style {
                0 => national.clone(),
                1 => format!("+84 {} {} {}", &national[1..4], &national[4..7], &national[7..]),
                2 => format!("84{}", &national[1..]),
                _ => format!("{}.{}.{}", &national[..4], &national[4..7], &national[7..]),
            };
            let parsed = PhoneNumber::parse(&typed).unwrap();
            prop_assert_eq!(parsed.as_str(), national.as_str());
        }

        #[test]
        fn parsed_is_always_canonical(s in "[+0-9 .-]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&s) {
                prop_assert!(p.as_str().starts_with('0'));
                prop_assert!(p.as_str().chars().all(|c| c.is_ascii_digit()));
                prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p.clone());
            }
        }
    }
}
