//! Households (hộ gia đình): registration by residents, review by leaders,
//! and later updates.
//!
//! - `actions`: the ward actions any door calls (register, change, approve or
//!   reject, invite, ask to join, propose, answer, leave);
//! - `registration`: `/dangky` and what happens when the form is confirmed;
//! - `review`: the leader's **Duyệt / Từ chối**;
//! - `mine`: `/hocuatoi`, a resident's own households and their updates;
//! - `members`: the people of a household besides its head, by the head's code;
//! - `repo`: the SQL.

pub mod actions;
pub mod members;
pub mod mine;
pub mod registration;
pub mod repo;
pub mod review;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dialogue::Answer;
use crate::domain::{PersonName, PhoneNumber};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Circumstance {
    Poor,
    NearPoor,
    Policy,
    LonelyElderly,
    Disability,
}

impl Circumstance {
    pub const ALL: [Circumstance; 5] = [
        Circumstance::Poor,
        Circumstance::NearPoor,
        Circumstance::Policy,
        Circumstance::LonelyElderly,
        Circumstance::Disability,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Circumstance::Poor => "poor",
            Circumstance::NearPoor => "near_poor",
            Circumstance::Policy => "policy",
            Circumstance::LonelyElderly => "lonely_elderly",
            Circumstance::Disability => "disability",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Circumstance::Poor => "Hộ nghèo",
            Circumstance::NearPoor => "Hộ cận nghèo",
            Circumstance::Policy => "Gia đình chính sách",
            Circumstance::LonelyElderly => "Người cao tuổi neo đơn",
            Circumstance::Disability => "Người khuyết tật",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Approved,
    Rejected,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "rejected" => Some(Status::Rejected),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Pending => "đang chờ tổ trưởng duyệt",
            Status::Approved => "đã được duyệt",
            Status::Rejected => "bị từ chối",
        }
    }
}

/// What a household declares about itself. Every value is valid by
/// construction: it can only be built by [`HouseholdDetails::from_answers`]
/// or read back from a row that was built that way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdDetails {
    pub head_name: PersonName,
    pub house_number: String,
    pub lane: Option<String>,
    pub street: String,
    pub phone: PhoneNumber,
    pub members: u32,
    pub circumstances: Vec<Circumstance>,
    pub smartphone_users: u32,
    pub has_epayment: bool,
    pub vneid_level2: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DetailsError {
    #[error("answer '{0}' is missing or of the wrong kind")]
    Missing(&'static str),
    #[error("members must be between 1 and {max}", max = MAX_MEMBERS)]
    Members,
    #[error("more smartphone users than members")]
    SmartphoneUsersAboveMembers,
    #[error("more VNeID level-2 holders than members")]
    VneidAboveMembers,
    #[error("unknown circumstance '{0}'")]
    UnknownCircumstance(String),
}

pub const MAX_MEMBERS: u32 = 50;

impl DetailsError {
    /// The step whose answer has to change.
    pub fn step(&self) -> &'static str {
        match self {
            DetailsError::Missing(key) => key,
            DetailsError::Members => "members",
            DetailsError::SmartphoneUsersAboveMembers => "smartphone_users",
            DetailsError::VneidAboveMembers => "vneid_level2",
            DetailsError::UnknownCircumstance(_) => "circumstances",
        }
    }
}

impl HouseholdDetails {
    /// The confirmed form, validated again: the dialogue checked each answer,
    /// this checks the rules that span answers.
    pub fn from_answers(answers: &BTreeMap<String, Answer>) -> Result<Self, DetailsError> {
        let text = |key: &'static str| match answers.get(key) {
            Some(Answer::Text(t)) if !t.trim().is_empty() => Ok(t.clone()),
            _ => Err(DetailsError::Missing(key)),
        };
        let count = |key: &'static str| match answers.get(key) {
            Some(Answer::Number(n)) => u32::try_from(*n).map_err(|_| DetailsError::Missing(key)),
            _ => Err(DetailsError::Missing(key)),
        };
        let head_name = match answers.get("head_name") {
            Some(Answer::Name(n)) => n.clone(),
            _ => return Err(DetailsError::Missing("head_name")),
        };
        let phone = match answers.get("phone") {
            Some(Answer::Phone(p)) => p.clone(),
            _ => return Err(DetailsError::Missing("phone")),
        };
        let lane = match answers.get("lane") {
            Some(Answer::Text(t)) => Some(t.clone()),
            Some(Answer::Skipped) | None => None,
            Some(_) => return Err(DetailsError::Missing("lane")),
        };
        let circumstances = match answers.get("circumstances") {
            Some(Answer::Choices(codes)) => codes
                .iter()
                .map(|c| Circumstance::from_code(c).ok_or_else(|| DetailsError::UnknownCircumstance(c.clone())))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(DetailsError::Missing("circumstances")),
        };
        let has_epayment = match answers.get("epayment") {
            Some(Answer::Choice(v)) if v == "yes" => true,
            Some(Answer::Choice(v)) if v == "no" => false,
            _ => return Err(DetailsError::Missing("epayment")),
        };
        let members = count("members")?;
        if !(1..=MAX_MEMBERS).contains(&members) {
            return Err(DetailsError::Members);
        }
        let smartphone_users = count("smartphone_users")?;
        if smartphone_users > members {
            return Err(DetailsError::SmartphoneUsersAboveMembers);
        }
        let vneid_level2 = count("vneid_level2")?;
        if vneid_level2 > members {
            return Err(DetailsError::VneidAboveMembers);
        }
        Ok(Self {
            head_name,
            house_number: text("house_number")?,
            lane,
            street: text("street")?,
            phone,
            members,
            circumstances,
            smartphone_users,
            has_epayment,
            vneid_level2,
        })
    }

    /// The answers that would produce these details, so an update starts
    /// from what is on record.
    pub fn to_answers(&self) -> BTreeMap<String, Answer> {
        let mut a = BTreeMap::new();
        a.insert("head_name".into(), Answer::Name(self.head_name.clone()));
        a.insert("house_number".into(), Answer::Text(self.house_number.clone()));
        a.insert("lane".into(), self.lane.clone().map(Answer::Text).unwrap_or(Answer::Skipped));
        a.insert("street".into(), Answer::Text(self.street.clone()));
        a.insert("phone".into(), Answer::Phone(self.phone.clone()));
        a.insert("members".into(), Answer::Number(self.members.into()));
        a.insert(
            "circumstances".into(),
            Answer::Choices(self.circumstances.iter().map(|c| c.code().to_string()).collect()),
        );
        a.insert("smartphone_users".into(), Answer::Number(self.smartphone_users.into()));
        a.insert("epayment".into(), Answer::Choice(if self.has_epayment { "yes" } else { "no" }.into()));
        a.insert("vneid_level2".into(), Answer::Number(self.vneid_level2.into()));
        a
    }

    pub fn address(&self) -> String {
        crate::domain::house_address(&self.house_number, self.lane.as_deref(), &self.street)
    }

    /// «Số 8, ngõ 41, Xuân La — Nguyễn Văn An»: which household, to staff
    /// in private ([`crate::domain::household_line`]).
    pub fn line(&self) -> String {
        crate::domain::household_line(&self.house_number, self.lane.as_deref(), &self.street, self.head_name.as_ref())
    }

    /// Personal data: only ever sent in private chat.
    pub fn describe(&self) -> String {
        let circumstances = if self.circumstances.is_empty() {
            "Không thuộc diện nào".to_string()
        } else {
            self.circumstances.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")
        };
        format!(
            "Chủ hộ: {}\nĐịa chỉ: {}\nĐiện thoại: {}\nNhân khẩu: {}\nHoàn cảnh: {}\nDùng điện thoại thông minh: {} người\nThanh toán điện tử: {}\nVNeID mức 2: {} người",
            self.head_name,
            self.address(),
            self.phone,
            self.members,
            circumstances,
            self.smartphone_users,
            if self.has_epayment { "Có" } else { "Không" },
            self.vneid_level2,
        )
    }
}

#[derive(Clone, Debug)]
pub struct Household {
    pub id: i64,
    pub group_id: i64,
    pub owner_user_id: i64,
    pub status: Status,
    pub details: HouseholdDetails,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> BTreeMap<String, Answer> {
        let details = HouseholdDetails {
            head_name: PersonName::parse("Nguyễn Văn An").unwrap(),
            house_number: "12".into(),
            lane: Some("41".into()),
            street: "Xuân La".into(),
            phone: PhoneNumber::parse("0912345678").unwrap(),
            members: 4,
            circumstances: vec![Circumstance::Poor],
            smartphone_users: 2,
            has_epayment: true,
            vneid_level2: 3,
        };
        details.to_answers()
    }

    #[test]
    fn answers_round_trip() {
        let details = HouseholdDetails::from_answers(&answers()).unwrap();
        assert_eq!(HouseholdDetails::from_answers(&details.to_answers()).unwrap(), details);
        assert_eq!(details.address(), "Số 12, ngõ 41, Xuân La");
    }

    #[test]
    fn cross_field_rules() {
        let mut a = answers();
        a.insert("smartphone_users".into(), Answer::Number(5));
        assert_eq!(HouseholdDetails::from_answers(&a).unwrap_err(), DetailsError::SmartphoneUsersAboveMembers);
        let mut a = answers();
        a.insert("vneid_level2".into(), Answer::Number(9));
        assert_eq!(HouseholdDetails::from_answers(&a).unwrap_err().step(), "vneid_level2");
        let mut a = answers();
        a.insert("members".into(), Answer::Number(0));
        assert_eq!(HouseholdDetails::from_answers(&a).unwrap_err(), DetailsError::Members);
        let mut a = answers();
        a.remove("phone");
        assert_eq!(HouseholdDetails::from_answers(&a).unwrap_err(), DetailsError::Missing("phone"));
    }
}
