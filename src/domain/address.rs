//! How an address reads: the one rule every address shown follows.

/// A lane as written in an address: "41" alone reads as a lane number.
/// A household's address as every list writes it: "Số 8, ngõ 41, Xuân La".
pub fn house_address(house_number: &str, lane: Option<&str>, street: &str) -> String {
    let mut parts = vec![format!("Số {house_number}")];
    parts.extend(lane.map(self::lane));
    parts.push(street.to_string());
    parts.join(", ")
}

pub fn lane(lane: &str) -> String {
    if lane.chars().all(|c| c.is_ascii_digit() || c == '/') {
        format!("ngõ {lane}")
    } else {
        lane.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bare_number_is_a_lane() {
        assert_eq!(super::lane("41"), "ngõ 41");
        assert_eq!(super::lane("41/12"), "ngõ 41/12");
        assert_eq!(super::lane("ngách 12, ngõ 41"), "ngách 12, ngõ 41");
    }
}
