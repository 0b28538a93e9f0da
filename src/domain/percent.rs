//! Shares and decimals written the Vietnamese way: rounded, with a decimal
//! comma ("4,9%", "0,5 giờ"), never truncated to a misleading "4%".

use std::fmt;

/// A share of a whole, kept in tenths of a percent, rounded half up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Percent {
    tenths: i64,
}

impl Percent {
    /// `part` of `whole`; nothing of nothing is 0%.
    pub fn of(part: i64, whole: i64) -> Self {
        if whole <= 0 {
            return Self::default();
        }
        let (part, whole) = (i128::from(part.max(0)), i128::from(whole));
        let tenths = (part * 1000 * 2 + whole) / (whole * 2);
        Self { tenths: i64::try_from(tenths).unwrap_or(i64::MAX) }
    }

    /// At least `percent` whole percent (a target).
    pub fn reaches(self, percent: i64) -> bool {
        self.tenths >= percent.saturating_mul(10)
    }

    /// As a fraction of one, for a spreadsheet's percent format or a chart.
    pub fn fraction(self) -> f64 {
        self.tenths as f64 / 1000.0
    }

    /// Whole percent, rounded (for a ten-step bar).
    pub fn whole(self) -> i64 {
        (self.tenths + 5) / 10
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", decimal(self.tenths, 1))
    }
}

/// `value` (in units of 10^-places) written with a decimal comma and
/// thousands dots, without a trailing ",0".
fn decimal(value: i64, places: u32) -> String {
    let scale = 10_i64.pow(places);
    let whole = super::group_thousands(value / scale);
    match value % scale {
        0 => whole,
        rest => format!("{whole},{:0width$}", rest, width = places as usize).trim_end_matches('0').to_string(),
    }
}

/// Hours, to one decimal ("0,5 giờ", "12 giờ"); under six minutes is said
/// as such rather than "0 giờ".
pub fn hours(hours: f64) -> String {
    let tenths = (hours * 10.0).round();
    if !tenths.is_finite() || tenths < 1.0 {
        return "dưới 6 phút".to_string();
    }
    format!("{} giờ", decimal(tenths.min(i64::MAX as f64) as i64, 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares_are_rounded_with_a_decimal_comma() {
        assert_eq!(Percent::of(49, 1000).to_string(), "4,9%");
        assert_eq!(Percent::of(1, 3).to_string(), "33,3%");
        assert_eq!(Percent::of(2, 3).to_string(), "66,7%");
        assert_eq!(Percent::of(1, 5).to_string(), "20%");
        assert_eq!(Percent::of(12, 10).to_string(), "120%");
        assert_eq!(Percent::of(5, 0).to_string(), "0%");
        assert_eq!(Percent::of(999, 1000).to_string(), "99,9%");
        assert_eq!(Percent::of(9_999, 10_000).to_string(), "100%", "rounded, so 99,99% reads 100%");
        assert_eq!(Percent::of(150_000, 10).to_string(), "1.500.000%");
        assert!(Percent::of(7, 10).reaches(70) && !Percent::of(699, 1000).reaches(70));
        assert_eq!(Percent::of(49, 1000).whole(), 5);
    }

    #[test]
    fn hours_are_said_the_vietnamese_way() {
        assert_eq!(hours(0.5), "0,5 giờ");
        assert_eq!(hours(12.0), "12 giờ");
        assert_eq!(hours(1.26), "1,3 giờ");
        assert_eq!(hours(0.02), "dưới 6 phút");
        assert_eq!(hours(f64::NAN), "dưới 6 phút");
    }

    proptest! {
        #[test]
        fn a_share_never_reads_with_a_point_and_is_within_a_tenth(part in 0i64..1_000_000, whole in 1i64..1_000_000) {
            let p = Percent::of(part, whole);
            let shown = p.to_string();
            prop_assert!(!shown.contains('.') || part >= whole * 10, "{}", shown);
            let exact = part as f64 * 100.0 / whole as f64;
            prop_assert!((p.fraction() * 100.0 - exact).abs() <= 0.05 + 1e-9);
        }
    }
}
