//! `todanpho init`: a ward's own `config.toml`, written from the documented
//! example with the ward's name, time zone and first official filled in,
//! every other setting and comment kept.

/// The documented example this starts from.
const EXAMPLE: &str = include_str!("../../config.toml");

/// What `init` asks for.
pub struct Answers {
    pub ward: String,
    pub timezone: String,
    /// The first official's Telegram user id.
    pub official: i64,
}

/// The config text, or why an answer cannot be used.
pub fn render(answers: &Answers) -> Result<String, String> {
    let ward = answers.ward.trim();
    if ward.is_empty() || ward.chars().count() > 100 {
        return Err("the ward's name must be 1–100 characters (for example: Phường Xuân La)".into());
    }
    let timezone = answers.timezone.trim();
    timezone
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("'{timezone}' is not a time zone (for Việt Nam: Asia/Ho_Chi_Minh)"))?;
    if answers.official <= 0 {
        return Err("a Telegram user id is a positive number (ask any \"user info\" bot for yours)".into());
    }
    let mut text = String::with_capacity(EXAMPLE.len());
    for line in EXAMPLE.lines() {
        let line = match line {
            l if l.starts_with("name = ") && !text.contains("\nname = ") => format!("name = {}", toml_string(ward)),
            l if l.starts_with("timezone = ") => format!("timezone = {}", toml_string(timezone)),
            l if l.starts_with("officials = ") => format!("officials = [{}]", answers.official),
            l => l.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_are_filled_in_and_the_rest_kept() {
        let text = render(&Answers {
            ward: "Xã \"Song\" Phượng".into(),
            timezone: "Asia/Ho_Chi_Minh".into(),
            official: 123_456_789,
        })
        .unwrap();
        let config = crate::config::Config::parse(&text).unwrap();
        assert_eq!(config.ward.name, "Xã \"Song\" Phượng");
        assert_eq!(config.telegram.officials, vec![123_456_789]);
        assert!(text.contains("# Times are stored in UTC"), "the comments stay");
        assert_eq!(text.lines().count(), EXAMPLE.lines().count());
    }

    #[test]
    fn answers_that_cannot_be_used_are_refused() {
        let answers =
            |ward: &str, timezone: &str, official| Answers { ward: ward.into(), timezone: timezone.into(), official };
        assert!(render(&answers(" ", "Asia/Ho_Chi_Minh", 1)).is_err());
        assert!(render(&answers("P", "Hanoi", 1)).is_err());
        assert!(render(&answers("P", "Asia/Ho_Chi_Minh", 0)).is_err());
    }
}
