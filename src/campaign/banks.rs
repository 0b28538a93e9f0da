//! Banks on the NAPAS network, by the names people type. The BIN is what a
//! VietQR code carries.

use crate::dialogue::definition::Choice;

pub struct Bank {
    pub bin: &'static str,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
}

pub const BANKS: &[Bank] = &[
    Bank { bin: "970436", name: "Vietcombank", aliases: &["VCB", "Ngoại thương"] },
    Bank { bin: "970415", name: "VietinBank", aliases: &["CTG", "Công thương"] },
    Bank { bin: "970418", name: "BIDV", aliases: &["Đầu tư và Phát triển"] },
    Bank { bin: "970405", name: "Agribank", aliases: &["Nông nghiệp", "VBA"] },
    Bank { bin: "970407", name: "Techcombank", aliases: &["TCB", "Kỹ thương"] },
    Bank { bin: "970422", name: "MB", aliases: &["MB Bank", "MBBank", "Quân đội"] },
    Bank { bin: "970416", name: "ACB", aliases: &["Á Châu"] },
    Bank { bin: "970432", name: "VPBank", aliases: &["VPB"] },
    Bank { bin: "970423", name: "TPBank", aliases: &["TPB", "Tiên Phong"] },
    Bank { bin: "970403", name: "Sacombank", aliases: &["STB"] },
    Bank { bin: "970437", name: "HDBank", aliases: &["HDB"] },
    Bank { bin: "970441", name: "VIB", aliases: &["Quốc tế"] },
    Bank { bin: "970443", name: "SHB", aliases: &["Sài Gòn - Hà Nội"] },
    Bank { bin: "970426", name: "MSB", aliases: &["Hàng Hải"] },
    Bank { bin: "970448", name: "OCB", aliases: &["Phương Đông"] },
    Bank { bin: "970440", name: "SeABank", aliases: &["Đông Nam Á"] },
];

pub fn by_bin(bin: &str) -> Option<&'static Bank> {
    BANKS.iter().find(|b| b.bin == bin)
}

/// The bank step's options: the label is the name, the value the BIN.
pub fn choices() -> Vec<Choice> {
    BANKS
        .iter()
        .map(|b| Choice {
            value: b.bin.to_string(),
            label: b.name.to_string(),
            aliases: b.aliases.iter().map(|a| a.to_string()).collect(),
            zalo_label: None,
        })
        .collect()
}
