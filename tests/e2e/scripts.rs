//! What a person types to get through each dialogue with valid answers, in
//! one place for the e2e tests, the crash soak and the throughput benchmark
//! (which includes this file by path). Each list starts with the deep link
//! and ends with the confirmation.

/// A leader opens a campaign for group `g` (transfer and cash, Vietcombank).
pub fn campaign(g: i64) -> Vec<String> {
    [
        &format!("/start vd-{g}"),
        "Ủng hộ Quỹ Vì người nghèo 2026",
        "Giúp các hộ nghèo trong tổ đón Tết",
        "50tr",
        "31/12/2026",
        "Cả hai",
        "VCB",
        "0011 0023 45678",
        &format!("Quỹ vì người nghèo TDP {g}"),
        "xác nhận",
    ]
    .map(str::to_string)
    .to_vec()
}

/// A resident registers a household in group `g`: poor household with a
/// disabled member, four people.
pub fn registration(g: i64, house: &str, phone: &str) -> Vec<String> {
    let mut answers = vec![format!("/start dk-{g}")];
    answers.extend(
        ["nguyễn văn an", house, "ngõ 41", "Hoàng Quốc Việt", phone, "4", "1, 5", "2", "co", "3", "xác nhận"]
            .map(str::to_string),
    );
    answers
}

/// A resident pledges 200,000 đ to campaign `c`, named, by transfer.
pub fn pledge(c: i64) -> Vec<String> {
    [&format!("/start uh-{c}"), "200k", "Ghi tên tôi", "2", "xác nhận"].map(str::to_string).to_vec()
}
