//! The application shared by every channel: database, dialogue book and
//! settings. Cheap to clone.

use std::sync::Arc;

use sqlx::SqlitePool;

use crate::dialogue::Book;

#[derive(Clone)]
pub struct App {
    pub db: SqlitePool,
    pub book: Arc<Book>,
    pub settings: Arc<Settings>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub ward_name: String,
    pub timezone: chrono_tz::Tz,
}

impl Settings {
    /// `dd/mm/yyyy HH:MM` in the ward's time zone.
    pub fn show_time(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.with_timezone(&self.timezone).format("%d/%m/%Y %H:%M").to_string()
    }
}
