//! Amounts of money in whole đồng, parsed from what people actually type.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount is not a number")]
    NotANumber,
    #[error("amount must be more than zero")]
    NotPositive,
    #[error("amount has a fraction of a đồng")]
    FractionOfDong,
    #[error("amount is too large")]
    TooLarge,
}

/// One trillion đồng: far above anything a residential group raises, and far
/// below where i64 arithmetic could overflow.
const CEILING: i64 = 1_000_000_000_000;

impl Money {
    pub fn from_dong(dong: i64) -> Result<Self, MoneyError> {
        match dong {
            d if d <= 0 => Err(MoneyError::NotPositive),
            d if d > CEILING => Err(MoneyError::TooLarge),
            d => Ok(Self(d)),
        }
    }

    pub fn dong(self) -> i64 {
        self.0
    }

    /// Accepts `500k`, `500.000`, `500,000đ`, `1tr5`, `1,5 triệu`, `2 triệu`,
    /// `1.500.000 đ`, `2 tỷ`, `300 nghìn`.
    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let folded: String = crate::text::fold(input).chars().filter(|c| !c.is_whitespace()).collect();
        if folded.is_empty() {
            return Err(MoneyError::Empty);
        }
        if folded.starts_with('-') {
            return Err(MoneyError::NotPositive);
        }
        let body = ["vnd", "dong", "d"].iter().find_map(|suffix| folded.strip_suffix(suffix)).unwrap_or(&folded);

        let lead_end = body.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(body.len());
        let (number, rest) = body.split_at(lead_end);
        let unit_end = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let (unit, trailing) = rest.split_at(unit_end);
        let multiplier: i64 = match unit {
            "" => 1,
            "k" | "nghin" | "ngan" | "n" => 1_000,
            "tr" | "trieu" | "m" | "cu" => 1_000_000,
            "ty" | "ti" | "b" => 1_000_000_000,
            _ => return Err(MoneyError::NotANumber),
        };
        if number.is_empty() || !trailing.chars().all(|c| c.is_ascii_digit()) {
            return Err(MoneyError::NotANumber);
        }
        if multiplier == 1 && !trailing.is_empty() {
            return Err(MoneyError::NotANumber);
        }

        let (whole, fraction) = split_number(number, multiplier == 1)?;
        // "1tr5" is one and a half million: digits after the unit are a
        // decimal fraction of it, as in "1,5 triệu".
        let fraction = match (fraction.is_empty(), trailing.is_empty()) {
            (_, true) => fraction,
            (true, false) => trailing.to_string(),
            (false, false) => return Err(MoneyError::NotANumber),
        };
        let whole: i64 = parse_digits(&whole)?;
        let mut total = whole.checked_mul(multiplier).ok_or(MoneyError::TooLarge)?;
        if !fraction.is_empty() {
            if fraction.len() > 12 {
                return Err(MoneyError::TooLarge);
            }
            let numerator = parse_digits(&fraction)?.checked_mul(multiplier).ok_or(MoneyError::TooLarge)?;
            let denominator = 10_i64.pow(fraction.len() as u32);
            if numerator % denominator != 0 {
                return Err(MoneyError::FractionOfDong);
            }
            total = total.checked_add(numerator / denominator).ok_or(MoneyError::TooLarge)?;
        }
        Self::from_dong(total)
    }
}

/// Splits "1.500.000" (thousands groups) or "1,5" (decimal) into whole and
/// fraction digits. A separator followed by exactly three digits is a
/// thousands separator; otherwise it is a decimal mark.
fn split_number(number: &str, plain: bool) -> Result<(String, String), MoneyError> {
    let parts: Vec<&str> = number.split(['.', ',']).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(MoneyError::NotANumber);
    }
    if parts.len() == 1 {
        return Ok((parts[0].to_string(), String::new()));
    }
    let groups_of_three = parts[1..].iter().all(|p| p.len() == 3) && parts[0].len() <= 3;
    if groups_of_three && (plain || parts.len() > 2) {
        return Ok((parts.concat(), String::new()));
    }
    if parts.len() == 2 {
        if plain {
            // "1,5" without a unit would be one and a half đồng.
            return Err(MoneyError::FractionOfDong);
        }
        return Ok((parts[0].to_string(), parts[1].to_string()));
    }
    Err(MoneyError::NotANumber)
}

fn parse_digits(digits: &str) -> Result<i64, MoneyError> {
    if digits.len() > 15 {
        return Err(MoneyError::TooLarge);
    }
    digits.parse().map_err(|_| MoneyError::NotANumber)
}

impl fmt::Display for Money {
    /// `1.500.000 đ`, the way amounts are written in Vietnam.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} đ", group_thousands(self.0))
    }
}

/// `1500000` → `1.500.000`.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dong(s: &str) -> i64 {
        Money::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).dong()
    }

    #[test]
    fn accepts_what_people_type() {
        assert_eq!(dong("500k"), 500_000);
        assert_eq!(dong("500K"), 500_000);
        assert_eq!(dong("500.000"), 500_000);
        assert_eq!(dong("500,000đ"), 500_000);
        assert_eq!(dong("1tr5"), 1_500_000);
        assert_eq!(dong("1tr25"), 1_250_000);
        assert_eq!(dong("1tr500"), 1_500_000);
        assert_eq!(dong("1,5 triệu"), 1_500_000);
        assert_eq!(dong("2 triệu"), 2_000_000);
        assert_eq!(dong("1.500.000đ"), 1_500_000);
        assert_eq!(dong("1.500.000 đ"), 1_500_000);
        assert_eq!(dong("1.500.000 VND"), 1_500_000);
        assert_eq!(dong("300 nghìn"), 300_000);
        assert_eq!(dong("200 ngàn"), 200_000);
        assert_eq!(dong("2 tỷ"), 2_000_000_000);
        assert_eq!(dong("50000"), 50_000);
        assert_eq!(dong("2k5"), 2_500);
        assert_eq!(dong("1.5tr"), 1_500_000);
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!(Money::parse(""), Err(MoneyError::Empty));
        assert_eq!(Money::parse("0"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse("-500k"), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse("abc"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("1,5"), Err(MoneyError::FractionOfDong));
        assert_eq!(Money::parse("1,2345k"), Err(MoneyError::FractionOfDong));
        assert_eq!(Money::parse("5 triệu 5 triệu"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("99999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("2000 tỷ"), Err(MoneyError::TooLarge));
    }

    #[test]
    fn displays_with_dots() {
        assert_eq!(Money::from_dong(1_500_000).unwrap().to_string(), "1.500.000 đ");
        assert_eq!(Money::from_dong(500).unwrap().to_string(), "500 đ");
        assert_eq!(group_thousands(1_000), "1.000");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = Money::parse(&s);
        }

        #[test]
        fn display_round_trips(n in 1i64..=CEILING) {
            let m = Money::from_dong(n).unwrap();
            prop_assert_eq!(Money::parse(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn thousands_shorthand(n in 1i64..1_000_000) {
            prop_assert_eq!(Money::parse(&format!("{n}k")).unwrap().dong(), n * 1000);
        }
    }
}
