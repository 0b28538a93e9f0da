//! Domain values that cannot hold invalid data. Each is parsed once, at the
//! edge (a dialogue answer or a command argument); the rest of the code only
//! sees the validated type.

mod address;
mod count;
mod date;
mod money;
mod percent;
mod person_name;
mod phone;
pub mod vietqr;
mod walk;

pub use address::{house_address, household_line, lane};
pub use count::{parse_count, CountError};
pub use date::parse_date;
pub use money::{group_thousands, Money, MoneyError};
pub use percent::{hours, Percent};
pub use person_name::{family_first, NameError, PersonName};
pub use phone::{PhoneError, PhoneNumber};
pub use walk::WalkKey;
