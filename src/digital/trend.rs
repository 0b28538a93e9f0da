//! `/tiendo bieudo`: the share of households with each indicator, week by
//! week over the last twelve weeks, with the ward's targets drawn as
//! dashed lines. A week's value is rebuilt from the baselines (counted
//! from the day each household registered) plus every indicator event up
//! to that day, so it reads what was true then, not what is true now.

use chrono::NaiveDate;
use sqlx::SqliteConnection;

use super::Unit;
use crate::app::App;
use crate::canvas::{Canvas, Rgb, BLACK};
use crate::domain::Percent;

const WEEKS: i64 = 12;
const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;
const LEFT: i64 = 70;
const RIGHT: i64 = 860;
const TOP: i64 = 120;
const BOTTOM: i64 = 480;
const GRID: Rgb = [225, 225, 225];
const GREY: Rgb = [110, 110, 110];

/// Households counted on a day: approved ones, and among them those with
/// a smartphone user, a payment account, someone at VNeID level 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    pub households: i64,
    pub smartphone: i64,
    pub epayment: i64,
    pub vneid: i64,
}

impl std::ops::AddAssign for Point {
    fn add_assign(&mut self, o: Self) {
        self.households += o.households;
        self.smartphone += o.smartphone;
        self.epayment += o.epayment;
        self.vneid += o.vneid;
    }
}

/// The figures at the end of each of `days` (ascending).
pub async fn series(
    conn: &mut SqliteConnection,
    groups: &Option<Vec<i64>>,
    days: &[NaiveDate],
) -> anyhow::Result<Vec<Point>> {
    let scope = serde_json::to_string(groups)?;
    // Per day: households arriving with their baseline, then the events'
    // changes of each household-level indicator.
    type Row = (String, i64, i64, i64, i64);
    let arrivals: Vec<Row> = sqlx::query_as(
        "SELECT substr(b.since, 1, 10), COUNT(*), SUM(b.smartphone_users > 0), SUM(b.has_epayment), SUM(b.vneid_level2 > 0)
         FROM households h JOIN household_baselines b ON b.household_id = h.id
         WHERE h.status = 'approved' AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY 1",
    )
    .bind(&scope)
    .fetch_all(&mut *conn)
    .await?;
    let changes: Vec<Row> = sqlx::query_as(
        "SELECT substr(e.at, 1, 10), 0,
                COALESCE(SUM(CASE WHEN e.indicator = 'smartphone_users' THEN (e.after > 0) - (e.before > 0) END), 0),
                COALESCE(SUM(CASE WHEN e.indicator = 'has_epayment' THEN e.after - e.before END), 0),
                COALESCE(SUM(CASE WHEN e.indicator = 'vneid_level2' THEN (e.after > 0) - (e.before > 0) END), 0)
         FROM indicator_events e JOIN households h ON h.id = e.household_id
         WHERE h.status = 'approved' AND (?1 = 'null' OR h.group_id IN (SELECT value FROM json_each(?1)))
         GROUP BY 1",
    )
    .bind(&scope)
    .fetch_all(conn)
    .await?;
    let mut dated: Vec<(NaiveDate, Point)> = arrivals
        .into_iter()
        .chain(changes)
        .filter_map(|(day, households, smartphone, epayment, vneid)| {
            let day = NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
            Some((day, Point { households, smartphone, epayment, vneid }))
        })
        .collect();
    dated.sort_by_key(|(day, _)| *day);
    let mut points = Vec::with_capacity(days.len());
    let (mut at, mut running) = (0, Point::default());
    for day in days {
        while let Some((d, p)) = dated.get(at).filter(|(d, _)| d <= day) {
            let _ = d;
            running += *p;
            at += 1;
        }
        points.push(running);
    }
    Ok(points)
}

pub async fn chart(app: &App, conn: &mut SqliteConnection, unit: &Unit) -> anyhow::Result<Vec<u8>> {
    let today = app.settings.day(app.clock.now());
    let days: Vec<NaiveDate> = (0..WEEKS).rev().map(|w| today - chrono::Duration::weeks(w)).collect();
    let points = series(conn, &unit.groups, &days).await?;
    let t = &app.settings.targets;
    draw(
        &format!("Công dân số theo tuần — {}", unit.title),
        &days,
        &points,
        [
            ("Điện thoại thông minh", [60, 160, 90], t.smartphone_target),
            ("Thanh toán điện tử", [230, 150, 30], t.epayment_target),
            ("VNeID mức 2", [170, 70, 150], t.vneid_target),
        ],
    )
}

fn draw(title: &str, days: &[NaiveDate], points: &[Point], series: [(&str, Rgb, i64); 3]) -> anyhow::Result<Vec<u8>> {
    let mut canvas = Canvas::new(WIDTH, HEIGHT)?;
    canvas.text(20.0, 14.0, 22.0, BLACK, title);
    let mut x = 20.0;
    for (label, colour, target) in &series {
        canvas.fill(x as i64, 58, x as i64 + 16, 74, *colour);
        x += 22.0 + canvas.text(x + 22.0, 58.0, 13.0, BLACK, &format!("{label} (mục tiêu {target}%)")) + 18.0;
    }
    canvas.hline(20, 50, 92, 2, 6, GREY);
    canvas.text(56.0, 84.0, 13.0, GREY, "Nét đứt: mục tiêu của phường");
    let y_of = |share: f64| BOTTOM - ((BOTTOM - TOP) as f64 * share.clamp(0.0, 1.0)).round() as i64;
    for tenth in 0..=5 {
        let y = y_of(f64::from(tenth) / 5.0);
        canvas.hline(LEFT, RIGHT, y, 1, 0, GRID);
        canvas.text(20.0, y as f32 - 8.0, 12.0, GREY, &format!("{}%", tenth * 20));
    }
    let step = (RIGHT - LEFT) / (days.len().max(2) as i64 - 1);
    let x_of = |i: usize| LEFT + step * i as i64;
    for (i, day) in days.iter().enumerate().step_by(2) {
        canvas.text(x_of(i) as f32 - 16.0, BOTTOM as f32 + 8.0, 12.0, GREY, &day.format("%d/%m").to_string());
    }
    for (k, (_, colour, target)) in series.iter().enumerate() {
        canvas.hline(LEFT, RIGHT, y_of(*target as f64 / 100.0), 2, 8, *colour);
        let share = |p: &Point| {
            let part = [p.smartphone, p.epayment, p.vneid][k];
            Percent::of(part, p.households).fraction()
        };
        let mut last: Option<(i64, i64)> = None;
        for (i, p) in points.iter().enumerate() {
            let here = (x_of(i), y_of(share(p)));
            if let Some(from) = last {
                canvas.line(from, here, 3, *colour);
            }
            canvas.fill(here.0 - 3, here.1 - 3, here.0 + 4, here.1 + 4, *colour);
            last = Some(here);
        }
    }
    canvas.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_drawn_with_its_target() {
        let days: Vec<NaiveDate> =
            (0..4).map(|w| NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Duration::weeks(w)).collect();
        let points: Vec<Point> =
            (0..4).map(|w| Point { households: 100, smartphone: 50 + 10 * w, epayment: 20, vneid: 10 }).collect();
        let png = draw(
            "Thử",
            &days,
            &points,
            [("A", [60, 160, 90], 80), ("B", [230, 150, 30], 50), ("C", [170, 70, 150], 40)],
        )
        .expect("renders");
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        reader.next_frame(&mut pixels).expect("one frame");
        let at = |x: i64, y: i64| {
            let i = ((y * i64::from(WIDTH) + x) * 3) as usize;
            [pixels[i], pixels[i + 1], pixels[i + 2]]
        };
        // The first series' last point (80%) sits on its target line.
        let y = BOTTOM - ((BOTTOM - TOP) as f64 * 0.8).round() as i64;
        assert_eq!(at(RIGHT - 1, y), [60, 160, 90]);
        // The epayment series is flat at 20%.
        let y = BOTTOM - ((BOTTOM - TOP) as f64 * 0.2).round() as i64;
        assert_eq!(at((LEFT + RIGHT) / 2, y), [230, 150, 30]);
    }
}
