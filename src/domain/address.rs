//! How an address reads: the one rule every address shown follows.

/// A household's address as every list writes it: "Số 8, ngõ 41, Xuân La".
pub fn house_address(house_number: &str, lane: Option<&str>, street: &str) -> String {
    let mut parts = vec![format!("Số {house_number}")];
    parts.extend(lane.map(self::lane));
    parts.push(street.to_string());
    parts.join(", ")
}

/// Which household, as staff (its group's leaders, officials) are told in
/// private: its address and its head, «Số 27, ngõ 41, Xuân La — Nguyễn
/// Văn An». A household's number alone says nothing to someone holding a
/// paper ballot at a door. Personal: never in a group.
pub fn household_line(house_number: &str, lane: Option<&str>, street: &str, head_name: &str) -> String {
    format!("{} — {head_name}", house_address(house_number, lane, street))
}

/// A lane as written in an address: "41" alone reads as a lane number.
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

    #[test]
    fn a_household_is_named_by_its_door_and_its_head() {
        assert_eq!(
            super::household_line("27", Some("41"), "Xuân La", "Nguyễn Văn An"),
            "Số 27, ngõ 41, Xuân La — Nguyễn Văn An"
        );
        assert_eq!(
            super::household_line("102", None, "Hoàng Quốc Việt", "Đỗ Thị Bốn"),
            "Số 102, Hoàng Quốc Việt — Đỗ Thị Bốn"
        );
    }
}
