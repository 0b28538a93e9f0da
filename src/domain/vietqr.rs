//! VietQR payloads (NAPAS, on EMVCo Merchant-Presented Mode): what any
//! Vietnamese banking app scans to prefill a transfer.

use super::Money;

/// A 6-digit NAPAS bank identification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankBin(u32);

impl BankBin {
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 6 && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse().ok().map(Self)).flatten()
    }

    pub fn as_string(self) -> String {
        format!("{:06}", self.0)
    }
}

/// A bank account number as banks print it: 6–19 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNumber(String);

impl AccountNumber {
    /// Accepts spaces, dots and dashes between digits.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect();
        ((6..=19).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())).then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct VietQr {
    pub bin: BankBin,
    pub account: AccountNumber,
    pub amount: Option<Money>,
    /// A code made for one payment (`12`) rather than a reusable one (`11`).
    pub one_time: bool,
    /// The transfer note; diacritics are stripped and it is cut to 25
    /// characters, as the spec requires.
    pub purpose: String,
}

fn tlv(tag: &str, value: &str) -> String {
    format!("{tag}{:02}{value}", value.len())
}

impl VietQr {
    pub fn payload(&self) -> String {
        let account_info = tlv("00", "A000000727")
            + &tlv("01", &(tlv("00", &self.bin.as_string()) + &tlv("01", self.account.as_str())))
            + &tlv("02", "QRIBFTTA");
        let mut out = String::new();
        out += &tlv("00", "01");
        out += &tlv("01", if self.one_time { "12" } else { "11" });
        out += &tlv("38", &account_info);
        out += &tlv("53", "704");
        if let Some(amount) = self.amount {
            out += &tlv("54", &amount.dong().to_string());
        }
        out += &tlv("58", "VN");
        let purpose = transfer_note(&self.purpose);
        if !purpose.is_empty() {
            out += &tlv("62", &tlv("08", &purpose));
        }
        out += "6304";
        let crc = crc16_ccitt_false(out.as_bytes());
        out + &format!("{crc:04X}")
    }
}

/// ASCII letters, digits and spaces, at most 25 characters.
pub fn transfer_note(text: &str) -> String {
    let ascii: String =
        crate::text::strip_diacritics(text).chars().filter(|c| c.is_ascii_alphanumeric() || *c == ' ').collect();
    ascii.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(25).collect::<String>().trim_end().to_string()
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection.
pub fn crc16_ccitt_false(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_vector() {
        let qr = VietQr {
            bin: BankBin::parse("963388").unwrap(),
            account: AccountNumber::parse("3456789143").unwrap(),
            amount: Some(Money::from_dong(2_345_123).unwrap()),
            one_time: false,
            purpose: "thanh toán hoá đơn".into(),
        };
        let expected = "00020101021138540010A00000072701240006963388011034567891430208QRIBFTTA5303704540723451235802VN62220818thanh toan hoa don630445F2";
        assert_eq!(qr.payload(), expected);
    }

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc16_ccitt_false(b"123456789"), 0x29B1);
    }

    #[test]
    fn notes_are_ascii_and_short() {
        assert_eq!(transfer_note("Ủng hộ UH12 P0345"), "Ung ho UH12 P0345");
        assert_eq!(transfer_note("Quỹ Vì người nghèo phường Xuân La năm 2026").len(), 25);
    }

    #[test]
    fn accounts_and_bins() {
        assert_eq!(AccountNumber::parse("0011 0023 456").unwrap().as_str(), "00110023456");
        assert!(AccountNumber::parse("12345").is_none());
        assert!(AccountNumber::parse("12a456789").is_none());
        assert!(BankBin::parse("97043").is_none());
    }
}
