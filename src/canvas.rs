//! A small RGB canvas for the chart: filled boxes, lines, and text shaped
//! as a typesetter would. Text goes through rustybuzz (HarfBuzz's shaping:
//! kerning, and marks placed on their letters when typed decomposed) and is
//! drawn glyph by glyph at the shaped positions with ab_glyph, so
//! "Tổ dân phố" is evenly spaced; drawing each letter at a rounded advance
//! (what the chart library did) spaced Vietnamese unevenly.

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};
use unicode_normalization::UnicodeNormalization;

pub type Rgb = [u8; 3];

pub const BLACK: Rgb = [0, 0, 0];

pub struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    font: FontRef<'static>,
    face: rustybuzz::Face<'static>,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> anyhow::Result<Self> {
        let bytes = dejavu::sans::regular();
        Ok(Self {
            width,
            height,
            pixels: vec![255; (width * height * 3) as usize],
            font: FontRef::try_from_slice(bytes)?,
            face: rustybuzz::Face::from_slice(bytes, 0)
                .ok_or_else(|| anyhow::anyhow!("the chart font cannot be read"))?,
        })
    }

    /// Blends `colour` into one pixel with `coverage` (0 to 1).
    fn blend(&mut self, x: i64, y: i64, colour: Rgb, coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let at = ((y as usize) * self.width as usize + x as usize) * 3;
        let a = coverage.clamp(0.0, 1.0);
        for (c, value) in colour.iter().enumerate() {
            let under = f32::from(self.pixels[at + c]);
            self.pixels[at + c] = (under + (f32::from(*value) - under) * a).round() as u8;
        }
    }

    pub fn fill(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb) {
        for y in y0.max(0)..y1.min(i64::from(self.height)) {
            for x in x0.max(0)..x1.min(i64::from(self.width)) {
                self.blend(x, y, colour, 1.0);
            }
        }
    }

    /// A vertical line, `width` pixels wide, dashed `dash` on `dash` off
    /// (solid when `dash` is 0).
    pub fn vline(&mut self, x: i64, y0: i64, y1: i64, width: i64, dash: i64, colour: Rgb) {
        for y in y0..y1 {
            if dash == 0 || ((y - y0) / dash) % 2 == 0 {
                self.fill(x, y, x + width, y + 1, colour);
            }
        }
    }

    /// A horizontal line, `width` pixels high, dashed as [`Canvas::vline`].
    pub fn hline(&mut self, x0: i64, x1: i64, y: i64, width: i64, dash: i64, colour: Rgb) {
        for x in x0..x1 {
            if dash == 0 || ((x - x0) / dash) % 2 == 0 {
                self.fill(x, y, x + 1, y + width, colour);
            }
        }
    }

    /// A straight line from one point to another, `width` pixels thick.
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), width: i64, colour: Rgb) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        let half = width / 2;
        for i in 0..=steps {
            let x = x0 + (x1 - x0) * i / steps;
            let y = y0 + (y1 - y0) * i / steps;
            self.fill(x - half, y - half, x - half + width, y - half + width, colour);
        }
    }

    /// Writes `text` with its top-left corner at (`x`, `top`), `size`
    /// pixels high; returns how wide it was.
    pub fn text(&mut self, x: f32, top: f32, size: f32, colour: Rgb, text: &str) -> f32 {
        let scale = PxScale::from(size);
        let scaled = self.font.as_scaled(scale);
        let baseline = top + scaled.ascent();
        // rustybuzz works in font units; ab_glyph's scale says how many
        // pixels one unit is across.
        let unit = scaled.h_scale_factor();
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(&text.nfc().collect::<String>());
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let mut pen = x;
        let mut drawn = Vec::new();
        for (info, at) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
            let Ok(id) = u16::try_from(info.glyph_id) else { continue };
            let position = ab_glyph::point(pen + at.x_offset as f32 * unit, baseline - at.y_offset as f32 * unit);
            drawn.push(GlyphId(id).with_scale_and_position(scale, position));
            pen += at.x_advance as f32 * unit;
        }
        for glyph in drawn {
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                let mut spots = Vec::new();
                outline.draw(|gx, gy, coverage| spots.push((gx, gy, coverage)));
                for (gx, gy, coverage) in spots {
                    self.blend(
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                        colour,
                        coverage,
                    );
                }
            }
        }
        pen - x
    }

    pub fn png(self) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.write_header()?.write_image_data(&self.pixels)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The widest run of blank pixel columns between the first and last
    /// inked column of `text` drawn alone.
    fn widest_gap(text: &str) -> usize {
        let mut canvas = Canvas::new(200, 40).expect("canvas");
        canvas.text(4.0, 4.0, 24.0, BLACK, text);
        let inked: Vec<bool> = (0..200).map(|x| (0..40).any(|y| canvas.pixels[(y * 200 + x) * 3] < 160)).collect();
        let first = inked.iter().position(|i| *i).unwrap_or(0);
        let last = inked.iter().rposition(|i| *i).unwrap_or(0);
        inked[first..=last].split(|i| *i).map(<[bool]>::len).max().unwrap_or(0)
    }

    #[test]
    fn letters_of_a_vietnamese_word_sit_together_and_words_apart() {
        for word in ["phố", "Tổ", "Nghĩa", "Phượng", "điện", "toán"] {
            assert!(widest_gap(word) <= 3, "{word}: a gap of {} px inside the word", widest_gap(word));
        }
        assert!(widest_gap("Tổ dân") >= 6, "the space between words shows");
    }

    #[test]
    fn shaped_text_is_as_wide_however_its_marks_were_typed() {
        let mut canvas = Canvas::new(300, 40).expect("canvas");
        let composed = canvas.text(0.0, 0.0, 17.0, BLACK, "Tổ dân phố số 12");
        let decomposed = canvas.text(0.0, 20.0, 17.0, BLACK, &"Tổ dân phố số 12".nfd().collect::<String>());
        assert!((composed - decomposed).abs() < 0.01, "{composed} vs {decomposed}");
    }
}
