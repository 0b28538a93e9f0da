//! `/thongke bieudo`: registration coverage and digital-citizen rates per
//! group as a PNG bar chart, with the ward's targets drawn as lines across
//! the bars they are targets for. Text is shaped (see `crate::canvas`) in DejaVu
//! Sans, embedded, so Vietnamese renders cleanly on any machine.

use super::GroupFigures;
use crate::canvas::{Canvas, Rgb, BLACK};
use crate::config::Stats as Targets;
use crate::domain::Percent;

const WIDTH: u32 = 900;
const ROW: u32 = 96;
const TOP: u32 = 120;
const LABEL: i64 = 230;
/// How long a bar at 100% is.
const BAR_WIDTH: i64 = WIDTH as i64 - LABEL - 80;
const MAX_GROUPS: usize = 40;
const TARGET: Rgb = [200, 30, 30];
const GREY: Rgb = [110, 110, 110];

/// One bar of a group: its label, colour, rate (none when it cannot be
/// told) and the ward's target for it, if any.
struct Series {
    label: &'static str,
    colour: Rgb,
    rate: Option<Percent>,
    target: Option<i64>,
}

fn series(g: &GroupFigures, targets: &Targets) -> [Series; 4] {
    [
        Series {
            label: "Đăng ký / dự kiến",
            colour: [38, 110, 180],
            rate: g.expected.filter(|e| *e > 0).map(|e| Percent::of(g.approved.min(e), e)),
            target: None,
        },
        Series {
            label: "Dùng điện thoại thông minh",
            colour: [60, 160, 90],
            rate: Some(Percent::of(g.smartphone, g.approved)),
            target: Some(targets.smartphone_target),
        },
        Series {
            label: "Thanh toán điện tử",
            colour: [230, 150, 30],
            rate: Some(Percent::of(g.epayment, g.approved)),
            target: Some(targets.epayment_target),
        },
        Series {
            label: "VNeID mức 2",
            colour: [170, 70, 150],
            rate: Some(Percent::of(g.vneid, g.approved)),
            target: Some(targets.vneid_target),
        },
    ]
}

pub fn png(title: &str, groups: &[GroupFigures], targets: &Targets) -> anyhow::Result<Vec<u8>> {
    let groups = &groups[..groups.len().min(MAX_GROUPS)];
    let height = TOP + ROW * groups.len().max(1) as u32 + 20;
    let mut canvas = Canvas::new(WIDTH, height)?;
    canvas.text(20.0, 14.0, 24.0, BLACK, title);

    // Legend: each colour with its target, and what the red line means.
    let legend = series(groups.first().unwrap_or(&GroupFigures::default()), targets);
    let mut x = 20.0;
    for s in &legend {
        canvas.fill(x as i64, 58, x as i64 + 16, 74, s.colour);
        let label = match s.target {
            Some(t) => format!("{} (mục tiêu {t}%)", s.label),
            None => s.label.to_string(),
        };
        let width = canvas.text(x + 22.0, 58.0, 13.0, BLACK, &label);
        x += 22.0 + width + 18.0;
    }
    canvas.vline(20, 84, 100, 3, 0, TARGET);
    canvas.text(30.0, 84.0, 13.0, GREY, "Vạch đỏ: mục tiêu của phường");

    let along = |p: Percent| (BAR_WIDTH as f64 * p.fraction().min(1.0)).round() as i64;
    for (row, g) in groups.iter().enumerate() {
        let y0 = i64::from(TOP + ROW * row as u32);
        let name: String = g.name.chars().take(24).collect();
        canvas.text(20.0, y0 as f32 + 30.0, 16.0, BLACK, &name);
        for (i, s) in series(g, targets).iter().enumerate() {
            let y = y0 + 4 + i as i64 * 21;
            match s.rate {
                Some(p) => {
                    let len = along(p).max(1);
                    canvas.fill(LABEL, y, LABEL + len, y + 16, s.colour);
                    canvas.text((LABEL + len + 6) as f32, y as f32, 13.0, BLACK, &p.to_string());
                }
                None => {
                    canvas.text(LABEL as f32, y as f32, 13.0, GREY, "chưa đặt số hộ dự kiến");
                }
            }
            if let Some(target) = s.target {
                let x = LABEL + along(Percent::of(target.clamp(0, 100), 100));
                canvas.vline(x - 1, y - 2, y + 18, 3, 0, TARGET);
            }
        }
    }
    canvas.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_group_shows_the_wards_targets_as_lines() {
        let group = |id, name: &str, expected, approved, smartphone, epayment, vneid| GroupFigures {
            id,
            name: name.to_string(),
            expected,
            approved,
            pending: 0,
            people: approved * 3,
            smartphone,
            epayment,
            vneid,
        };
        let groups = [
            group(1, "Tổ dân phố số 12", Some(40), 31, 27, 12, 19),
            group(2, "Thôn Song Phượng", None, 18, 9, 11, 4),
            group(3, "Tổ dân phố Nghĩa Đô", Some(25), 25, 24, 20, 22),
        ];
        let targets = Targets::default();
        let png = png("Phường Xuân La — công dân số", &groups, &targets).expect("renders");

        let decoder = ::png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).expect("one frame");
        assert_eq!((info.width, info.height), (WIDTH, TOP + ROW * 3 + 20));
        // The smartphone target is a red line across each group's bar row.
        let x = LABEL + (BAR_WIDTH as f64 * targets.smartphone_target as f64 / 100.0).round() as i64;
        for row in 0..3 {
            let y = i64::from(TOP + ROW * row) + 4 + 21 + 8;
            let at = ((y * i64::from(WIDTH) + x) * 3) as usize;
            assert_eq!(&pixels[at..at + 3], &TARGET, "the target line on row {row}");
        }
    }
}
