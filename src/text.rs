//! Text helpers shared by every parser: Vietnamese-aware folding so that
//! "nguyen van an" finds "Nguyễn Văn An", and whitespace clean-up.

use unicode_normalization::UnicodeNormalization;

/// Letters and digits for codes people read off one screen and type on
/// another: no 0/O or 1/I.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// `len` random characters from the code alphabet.
pub fn random_code(len: usize) -> anyhow::Result<String> {
    let mut bytes = vec![0u8; len];
    getrandom::getrandom(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a code: {e}"))?;
    Ok(bytes.iter().map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char).collect())
}

/// A code made of a prefix, a number and a random tail, as people type it:
/// `TDP12-7KQ` also as ` tdp12 7kq `. The canonical form, or None.
pub fn read_code(text: &str, prefix: &str, tail_len: usize) -> Option<String> {
    let t = text.trim().to_ascii_uppercase();
    let (id, tail) = t.strip_prefix(prefix)?.split_once(['-', ' '])?;
    let tail = tail.trim();
    let number = !id.is_empty() && id.len() <= 9 && id.bytes().all(|b| b.is_ascii_digit());
    (number && tail.len() == tail_len && is_code(tail)).then(|| format!("{prefix}{id}-{tail}"))
}

/// A record's number as people type its code: `UH12`, `uh-12`, `uh 12`,
/// and, unless the prefix is `required`, `12` alone. The number, or None.
pub fn read_numbered(input: &str, prefix: &str, required: bool) -> Option<i64> {
    let t = input.trim();
    let rest = match t.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(prefix) => t[prefix.len()..].trim_start_matches(['-', ' ']),
        _ if required => return None,
        _ => t,
    };
    if rest.is_empty() || rest.len() > 12 || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.parse::<i64>().ok().filter(|n| *n > 0)
}

/// Whether every character of `s` is one the code alphabet has.
pub fn is_code(s: &str) -> bool {
    s.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// `input` without the invisible formatting characters people paste or
/// type by accident: zero-width spaces and joiners, direction marks and
/// overrides (which can make a name read backwards to a leader), the
/// byte-order mark, soft hyphens. Everything else stays as typed. A joiner
/// between two emoji (a family 👨‍👩‍👧) is kept: it is part of the picture.
pub fn visible(input: &str) -> String {
    let invisible = |c: char| {
        matches!(c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    };
    if !input.chars().any(invisible) {
        return input.to_string();
    }
    let chars: Vec<char> = input.chars().collect();
    let pictorial =
        |c: Option<&char>| c.is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace() && (*c as u32) > 0x2000);
    chars
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            !invisible(**c)
                || (**c == '\u{200D}' && pictorial(chars.get(i.wrapping_sub(1))) && pictorial(chars.get(i + 1)))
        })
        .map(|(_, c)| *c)
        .collect()
}

/// Lower-case, strip diacritics (đ → d) and collapse whitespace.
///
/// Matching is done on folded text because residents type on phones where
/// Vietnamese input methods are often switched off.
pub fn fold(input: &str) -> String {
    let stripped: String = input
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            other => other,
        })
        .collect::<String>()
        .to_lowercase();
    squash(&stripped)
}

/// Trim and collapse runs of whitespace into one space; NFC-normalise so that
/// the same name typed on two keyboards is stored the same way.
pub fn squash(input: &str) -> String {
    input.nfc().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Diacritics removed (đ → d), case kept: for bank transfer notes, which
/// must be plain ASCII.
pub fn strip_diacritics(input: &str) -> String {
    input
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            other => other,
        })
        .filter(|c| c.is_ascii())
        .collect()
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF)
}

/// Like [`squash`] but keeps line breaks (one blank line at most), for
/// notices written over several lines.
pub fn squash_lines(input: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in input.nfc().collect::<String>().lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_formatting_is_stripped_and_the_rest_kept() {
        assert_eq!(visible("Nguy\u{200B}ễn Văn\u{202E} An"), "Nguyễn Văn An");
        assert_eq!(visible("\u{FEFF}ngõ 41\u{200F}"), "ngõ 41");
        assert_eq!(visible("👨\u{200D}👩\u{200D}👧"), "👨\u{200D}👩\u{200D}👧", "an emoji sequence stays");
        assert_eq!(visible("A\u{200D}B"), "AB");
        assert_eq!(visible("مرحبا"), "مرحبا", "right-to-left letters themselves stay");
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("  Nguyễn   Văn An "), "nguyen van an");
        assert_eq!(fold("ĐƯỜNG Đê La Thành"), "duong de la thanh");
        assert_eq!(fold("Chiếu sáng"), "chieu sang");
    }

    #[test]
    fn squash_keeps_diacritics() {
        assert_eq!(squash(" Lê   Thị\tHoa "), "Lê Thị Hoa");
    }
}
