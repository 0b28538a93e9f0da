//! Where an export's rows go: worksheets of an Excel workbook, or a CSV
//! file. Both take the same `Cell`s, which `export` and `visits` write.

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(i64),
    /// Shown as a percent in Excel, "4,9%" in CSV.
    Percent(crate::domain::Percent),
    Time(Option<DateTime<Utc>>),
}

/// Where rows go as they are read: a worksheet or a CSV file. Rows are
/// never collected, so an export holds one row at a time.
pub trait Sink: Send {
    fn begin(&mut self, name: &str, headers: &[&str]) -> anyhow::Result<()>;
    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()>;
    fn end(&mut self) -> anyhow::Result<()>;
}

fn excel_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> anyhow::Result<ExcelDateTime> {
    let local = at.with_timezone(&tz);
    Ok(ExcelDateTime::from_ymd(local.year() as u16, local.month() as u8, local.day() as u8)?.and_hms(
        local.hour() as u16,
        local.minute() as u8,
        local.second(),
    )?)
}

/// Worksheets in constant-memory mode: each finished row goes to a
/// temporary file, so the workbook never holds a table.
pub struct XlsxSink {
    book: Workbook,
    tz: chrono_tz::Tz,
    sheet: usize,
    row: u32,
    columns: u16,
    widths: Vec<usize>,
    bold: Format,
    date: Format,
    money: Format,
    percent: Format,
}

impl XlsxSink {
    pub fn new(tz: chrono_tz::Tz) -> Self {
        Self {
            book: Workbook::new(),
            tz,
            sheet: 0,
            row: 0,
            columns: 0,
            widths: Vec::new(),
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
            money: Format::new().set_num_format("#,##0 \"đ\""),
            percent: Format::new().set_num_format("0.0%"),
        }
    }

    fn width(&mut self, col: usize, chars: usize) {
        if let Some(w) = self.widths.get_mut(col) {
            // Long texts would make columns unreadably wide.
            *w = (*w).max(chars.min(60));
        }
    }
}

impl Sink for XlsxSink {
    fn begin(&mut self, name: &str, headers: &[&str]) -> anyhow::Result<()> {
        let ws = self.book.add_worksheet_with_constant_memory();
        ws.set_name(name)?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &self.bold)?;
        }
        self.sheet = self.book.worksheets().len() - 1;
        self.row = 0;
        self.columns = headers.len() as u16;
        self.widths = headers.iter().map(|h| h.chars().count() + 2).collect();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        self.row += 1;
        let r = self.row;
        let mut sizes = Vec::with_capacity(cells.len());
        let ws = self.book.worksheet_from_index(self.sheet)?;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            match cell {
                Cell::Text(t) => {
                    ws.write_string(r, col, t)?;
                    sizes.push(t.chars().count());
                }
                Cell::Int(n) => {
                    ws.write_number(r, col, *n as f64)?;
                    sizes.push(n.to_string().len());
                }
                Cell::Money(n) => {
                    ws.write_number_with_format(r, col, *n as f64, &self.money)?;
                    sizes.push(n.to_string().len() + 5);
                }
                Cell::Percent(p) => {
                    ws.write_number_with_format(r, col, p.fraction(), &self.percent)?;
                    sizes.push(6);
                }
                Cell::Time(Some(t)) => {
                    ws.write_datetime_with_format(r, col, excel_time(*t, self.tz)?, &self.date)?;
                    sizes.push(16);
                }
                Cell::Time(None) => sizes.push(0),
            }
        }
        for (c, size) in sizes.into_iter().enumerate() {
            self.width(c, size);
        }
        Ok(())
    }

    fn end(&mut self) -> anyhow::Result<()> {
        let (row, columns, widths) = (self.row, self.columns, self.widths.clone());
        let ws = self.book.worksheet_from_index(self.sheet)?;
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w + 2) as f64)?;
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofilter(0, 0, row, columns.saturating_sub(1))?;
        Ok(())
    }
}

impl XlsxSink {
    pub fn finish(mut self) -> anyhow::Result<Vec<u8>> {
        Ok(self.book.save_to_buffer()?)
    }
}

/// One table as CSV, streamed (for the CLI).
pub struct CsvSink<W: std::io::Write> {
    writer: csv::Writer<W>,
    tz: chrono_tz::Tz,
}

impl<W: std::io::Write> CsvSink<W> {
    pub fn new(out: W, tz: chrono_tz::Tz) -> Self {
        Self { writer: csv::Writer::from_writer(out), tz }
    }
}

impl<W: std::io::Write + Send> Sink for CsvSink<W> {
    fn begin(&mut self, _name: &str, headers: &[&str]) -> anyhow::Result<()> {
        self.writer.write_record(headers)?;
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> anyhow::Result<()> {
        let tz = self.tz;
        self.writer.write_record(cells.iter().map(|cell| match cell {
            Cell::Text(t) => t.clone(),
            Cell::Int(n) | Cell::Money(n) => n.to_string(),
            Cell::Percent(p) => p.to_string(),
            Cell::Time(Some(t)) => t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
            Cell::Time(None) => String::new(),
        }))?;
        Ok(())
    }

    fn end(&mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        Ok(())
    }
}
