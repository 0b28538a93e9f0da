//! `/thongke bieudo`: registration coverage and digital-citizen rates per
//! group as a PNG bar chart. The font is DejaVu Sans from the `dejavu`
//! crate, embedded, so Vietnamese diacritics render on any machine.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use super::{percent, GroupFigures};

const WIDTH: u32 = 900;
const ROW: u32 = 92;
const TOP: u32 = 110;
const LABEL: u32 = 230;
const MAX_GROUPS: usize = 40;

static FONT: Once = Once::new();

fn font(size: u32) -> TextStyle<'static> {
    FONT.call_once(|| {
        // Only fails on malformed font bytes, which the crate does not ship.
        let _ = register_font("dejavu", FontStyle::Normal, dejavu::sans::regular());
    });
    ("dejavu", size).into_font().color(&BLACK)
}

/// The series drawn for each group: label, colour, and the rate.
fn series(g: &GroupFigures) -> [(&'static str, RGBColor, Option<i64>); 4] {
    [
        (
            "Đăng ký / dự kiến",
            RGBColor(38, 110, 180),
            g.expected.filter(|e| *e > 0).map(|e| percent(g.approved, e).min(100)),
        ),
        ("Dùng điện thoại thông minh", RGBColor(60, 160, 90), Some(percent(g.smartphone, g.approved))),
        ("Thanh toán điện tử", RGBColor(230, 150, 30), Some(percent(g.epayment, g.approved))),
        ("VNeID mức 2", RGBColor(170, 70, 150), Some(percent(g.vneid, g.approved))),
    ]
}

pub fn png(title: &str, groups: &[GroupFigures]) -> anyhow::Result<Vec<u8>> {
    let groups = &groups[..groups.len().min(MAX_GROUPS)];
    let height = TOP + ROW * groups.len().max(1) as u32 + 20;
    let mut buffer = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let draw = |e: Result<(), DrawingAreaErrorKind<_>>| e.map_err(|e| anyhow::anyhow!("{e:?}"));
        draw(root.draw(&Text::new(title.to_string(), (20, 15), font(24))))?;
        // Legend.
        let legend = groups.first().map(series).unwrap_or_else(|| series(&GroupFigures::default()));
        for (i, (label, colour, _)) in legend.iter().enumerate() {
            let x = 20 + (i as i32) * 215;
            draw(root.draw(&Rectangle::new([(x, 60), (x + 16, 76)], colour.filled())))?;
            draw(root.draw(&Text::new(label.to_string(), (x + 22, 60), font(15))))?;
        }
        let bar_width = (WIDTH - LABEL - 80) as i32;
        for (row, g) in groups.iter().enumerate() {
            let y0 = (TOP + ROW * row as u32) as i32;
            let name: String = g.name.chars().take(22).collect();
            draw(root.draw(&Text::new(name, (20, y0 + 30), font(17))))?;
            for (i, (_, colour, rate)) in series(g).iter().enumerate() {
                let y = y0 + 4 + i as i32 * 20;
                let x0 = LABEL as i32;
                match rate {
                    Some(p) => {
                        let len = (bar_width as i64 * p / 100) as i32;
                        draw(root.draw(&Rectangle::new([(x0, y), (x0 + len.max(1), y + 16)], colour.filled())))?;
                        draw(root.draw(&Text::new(format!("{p}%"), (x0 + len + 6, y), font(14))))?;
                    }
                    None => draw(root.draw(&Text::new("chưa có số dự kiến".to_string(), (x0, y), font(13))))?,
                }
            }
        }
        root.present().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&buffer)?;
    }
    Ok(out)
}
