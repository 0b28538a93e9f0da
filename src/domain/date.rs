//! Calendar dates typed as dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy).

use chrono::NaiveDate;

pub fn parse_date(input: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = input.trim().split(['/', '-', '.']).map(str::trim).collect();
    let [d, m, y] = parts.as_slice() else { return None };
    let small = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (day, month, year) = (small(d, 2)?, small(m, 2)?, small(y, 4)?);
    // "31/12/26" means 2026.
    let year = if y.len() == 2 {
        2000 + year
    } else if y.len() == 4 {
        year
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_vietnamese_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        for typed in ["31/12/2026", "31-12-2026", "31.12.2026", " 31/12/26 ", "31 / 12 / 2026"] {
            assert_eq!(parse_date(typed), Some(d), "{typed}");
        }
        assert_eq!(parse_date("1/2/2027"), NaiveDate::from_ymd_opt(2027, 2, 1));
        for bad in ["", "31/02/2026", "2026-12-31", "31/12", "aa/bb/cccc", "31/13/2026", "31/12/202"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,20}", days in 0i64..40_000) {
            let _ = parse_date(&s);
            let d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(days);
            prop_assert_eq!(parse_date(&d.format("%d/%m/%Y").to_string()), Some(d));
        }
    }
}
