//! The ward's reports as Open311 GeoReport v2 `requests.json`, so a city
//! system can import them: `todanpho export-reports --format open311`.

use crate::db::Database;
use serde::Serialize;

use super::{repo, Place, Status};
use crate::app::App;

#[derive(Debug, Serialize)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: String,
    pub agency_responsible: String,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub address: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: String,
}

pub async fn requests(app: &App, db: &Database) -> anyhow::Result<Vec<ServiceRequest>> {
    let mut conn = db.read().await?;
    let tz = app.settings.timezone;
    let mut out = Vec::new();
    for r in repo::all(&mut conn).await? {
        let group = crate::group::by_id(&mut conn, r.group_id).await?.map(|g| g.name).unwrap_or_default();
        let note = repo::last_note(&mut conn, r.code).await?.unwrap_or_default();
        let (lat, long, address) = match &r.place {
            Place::Pin { latitude, longitude } => (Some(*latitude), Some(*longitude), String::new()),
            Place::Address(a) => (None, None, a.clone()),
            Place::None => (None, None, String::new()),
        };
        let media_url = match (&app.settings.reports.media_url, r.photos.first()) {
            (Some(base), Some(_)) => format!("{}/{}.jpg", base.trim_end_matches('/'), r.code),
            _ => String::new(),
        };
        let status_notes = match r.status {
            Status::Resolved | Status::Declined if note.is_empty() => r.status.label().to_string(),
            _ if note.is_empty() => String::new(),
            _ => format!("{}: {note}", r.status.label()),
        };
        out.push(ServiceRequest {
            service_request_id: r.code.to_string(),
            status: if r.status.is_closed() { "closed" } else { "open" },
            status_notes,
            service_name: app.settings.reports.category_label(&r.category).to_string(),
            service_code: r.category.clone(),
            description: r.description.clone(),
            agency_responsible: group,
            requested_datetime: r.created_at.with_timezone(&tz).to_rfc3339(),
            updated_datetime: r.updated_at.with_timezone(&tz).to_rfc3339(),
            address,
            lat,
            long,
            media_url,
        });
    }
    Ok(out)
}
