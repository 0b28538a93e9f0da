//! A person's full name, with diacritics kept and each word capitalised.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is too short")]
    TooShort,
    #[error("name is longer than {0} characters")]
    TooLong(usize),
    #[error("name contains digits or symbols")]
    BadCharacters,
}

use unicode_normalization::UnicodeNormalization;

/// Vietnamese family names as written, and the commonest as typed without
/// diacritics. Matched with their marks: "Từ" is a family name, "Tú" a
/// given one.
const FAMILY_NAMES: &[&str] = &[
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ", "hồ", "ngô", "dương",
    "lý", "đinh", "trịnh", "đoàn", "lương", "trương", "mai", "cao", "tạ", "lâm", "hà", "đào", "tô", "quách", "vương",
    "kiều", "chu", "lưu", "tăng", "thái", "từ", "triệu", "khúc", "giang", "tống", "lại", "thạch", "mạc", "nghiêm",
    "phùng", "tiêu", "tôn", "viên", "đàm", "diệp", "hứa", "nông", "quan", "nguyen", "tran", "pham", "hoang", "huynh",
    "dang", "bui", "duong", "dinh", "trinh", "doan", "luong", "truong", "quach", "vuong", "kieu", "trieu",
];

/// A name put together from a platform's first and last name, family name
/// first, as Vietnamese names are written: Telegram's form puts the given
/// name first ("Nam" + "Lê Văn"), so when the last name starts with a
/// Vietnamese family name it goes first ("Lê Văn Nam").
pub fn family_first(first: &str, last: Option<&str>) -> String {
    let first = first.trim();
    let Some(last) = last.map(str::trim).filter(|l| !l.is_empty()) else { return first.to_string() };
    let starts_with_family = |s: &str| {
        s.split_whitespace().next().is_some_and(|w| {
            let w: String = w.nfc().collect::<String>().to_lowercase();
            FAMILY_NAMES.contains(&w.as_str())
        })
    };
    // A one-word first name that is also a family name ("Mai", "Hà") is
    // still the given name when the last name is a family name too.
    let one_word = first.split_whitespace().count() == 1;
    if starts_with_family(last) && (one_word || !starts_with_family(first)) {
        format!("{last} {first}")
    } else {
        format!("{first} {last}")
    }
}

impl PersonName {
    pub const MAX_CHARS: usize = 80;

    pub fn parse(input: &str) -> Result<Self, NameError> {
        // Compatibility forms (ligatures such as "ﬀ", full-width letters)
        // become plain letters first, so that capitalising is stable; the
        // spaces are squashed after, since some forms unfold into one (the
        // spacing accent "´" is a space and a combining accent).
        let unfolded: String = input.nfkc().collect();
        let squashed = crate::text::squash(&unfolded);
        if squashed.is_empty() {
            return Err(NameError::Empty);
        }
        let letters = squashed.chars().filter(|c| c.is_alphabetic()).count();
        if letters < 2 {
            return Err(NameError::TooShort);
        }
        if squashed.chars().count() > Self::MAX_CHARS {
            return Err(NameError::TooLong(Self::MAX_CHARS));
        }
        // A letter whose capital has no single character ("ῒ" → "Ϊ̀")
        // capitalises into a letter and marks: marks on letters are allowed.
        let allowed = |c: char| {
            c.is_alphabetic()
                || unicode_normalization::char::is_combining_mark(c)
                || matches!(c, ' ' | '\'' | '-' | '.')
        };
        if !squashed.chars().all(allowed) {
            return Err(NameError::BadCharacters);
        }
        // Names typed in lower case on a phone ("nguyễn văn an") are stored
        // the way they are written on an ID card.
        let capitalised = squashed.split(' ').map(capitalise).collect::<Vec<_>>().join(" ");
        // Composed again, as it was read: a capital may come decomposed.
        Ok(Self(capitalised.nfc().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folded form used for searching without diacritics.
    pub fn folded(&self) -> String {
        crate::text::fold(&self.0)
    }
}

/// Upper-cases the first letter only: a letter whose capital is two
/// letters ("ß" → "SS") keeps the second in lower case, so that capitalising
/// again changes nothing.
fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut upper = first.to_uppercase();
    let mut out: String = upper.next().into_iter().collect();
    out.extend(upper.flat_map(char::to_lowercase));
    out.extend(chars.flat_map(char::to_lowercase));
    out
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_name_in_the_last_name_goes_first() {
        assert_eq!(family_first("Nam", Some("Lê Văn")), "Lê Văn Nam");
        assert_eq!(family_first("Hoa", Some("Nguyễn Thị")), "Nguyễn Thị Hoa");
        assert_eq!(family_first("An", Some("Nguyễn")), "Nguyễn An");
        assert_eq!(family_first("Lê", Some("Thị Hoa")), "Lê Thị Hoa", "written the Vietnamese way already");
        assert_eq!(family_first("Trần", Some("Văn Cán")), "Trần Văn Cán");
        assert_eq!(family_first("John", Some("Smith")), "John Smith");
        assert_eq!(family_first("Tú", Some("Từ Văn")), "Từ Văn Tú");
        assert_eq!(family_first("Minh", Some("Nguyen Van")), "Nguyen Van Minh", "typed without diacritics");
        assert_eq!(family_first("Mai", Some("Nguyễn Thị")), "Nguyễn Thị Mai", "Mai is a family name too");
        assert_eq!(family_first("Hà", Some("Lê")), "Lê Hà");
        assert_eq!(family_first("Bình", None), "Bình");
        assert_eq!(family_first("Bình", Some("  ")), "Bình");
    }
    use proptest::prelude::*;

    #[test]
    fn keeps_diacritics_and_capitalises() {
        assert_eq!(PersonName::parse("  nguyễn   văn an ").unwrap().as_str(), "Nguyễn Văn An");
        assert_eq!(PersonName::parse("ĐỖ THỊ HỒNG").unwrap().as_str(), "Đỗ Thị Hồng");
        assert_eq!(PersonName::parse("Lê Thị Hoa").unwrap().folded(), "le thi hoa");
        // Found by fuzzing: capitals that are two letters.
        assert_eq!(PersonName::parse("ﬀan").unwrap().as_str(), "Ffan");
        assert_eq!(PersonName::parse("ßa").unwrap().as_str(), "Ssa");
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(PersonName::parse("   "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("A"), Err(NameError::TooShort));
        assert_eq!(PersonName::parse("Nguyễn Văn 2"), Err(NameError::BadCharacters));
        assert_eq!(PersonName::parse("0912345678"), Err(NameError::TooShort));
        assert!(matches!(PersonName::parse(&"a".repeat(81)), Err(NameError::TooLong(_))));
    }

    #[test]
    fn a_capital_of_several_characters_reads_back() {
        let name = PersonName::parse("ῒa").expect("letters");
        assert_eq!(PersonName::parse(name.as_str()), Ok(name));
    }

    #[test]
    fn a_spacing_accent_that_unfolds_into_a_space_still_reads_back_the_same() {
        // Found by tests/fuzz.rs: "´" is NFKC " \u{301}", once a leading space.
        for typed in ["´𒾐º", "´an ´bình", "ﬀ ´"] {
            if let Ok(name) = PersonName::parse(typed) {
                assert!(!name.as_str().starts_with(' '), "{typed:?} → {:?}", name.as_str());
                assert_eq!(PersonName::parse(name.as_str()).unwrap(), name, "{typed:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_is_idempotent(s in "\\PC{0,100}") {
            if let Ok(name) = PersonName::parse(&s) {
                prop_assert_eq!(PersonName::parse(name.as_str()).unwrap(), name.clone());
                prop_assert!(!name.as_str().starts_with(' '));
            }
        }
    }
}
