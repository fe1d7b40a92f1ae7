//! A table on a worksheet, written the way every FeeDesk export looks: a bold header row frozen
//! at the top with an autofilter, money as `¥#,##0.00`, rates as percentages, columns as wide
//! as their content, an optional colour per row, and a totals row whose cells are SUM formulas
//! written together with the value FeeDesk computed (so a reader that does not recalculate
//! shows the same figure, and a test can compare the two).
//!
//! Money arrives as integer fen and is turned into a spreadsheet number here, once, at the
//! edge: spreadsheets store binary floats, and every amount FeeDesk handles (< 10^12 yuan)
//! keeps its two decimals through the trip.

use rust_decimal::Decimal;
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Formula, Worksheet, XlsxError};

use crate::text::is_cjk;
use crate::{Error, Result};

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// Money in fen, shown as ¥ with two decimals.
    Fen(i64),
    Count(i64),
    /// A fraction (0.8750) shown as a percentage.
    Rate(Decimal),
    Empty,
}

/// How a column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Long text (reasons, notes): wrapped in a column of at most [`WRAP_WIDTH`] characters.
    Wrap,
    Money,
    Count,
    Rate,
}

pub(crate) fn xlsx_error(file: &std::path::Path) -> impl Fn(XlsxError) -> Error + '_ {
    move |e| Error::Io(format!("cannot write {}: {e}", file.display()))
}

fn width_of(text: &str) -> usize {
    text.chars().map(|c| if is_cjk(c) { 2 } else { 1 }).sum()
}

pub use crate::columns::column_letter;

/// Fen as a spreadsheet number (yuan).
pub fn yuan_number(fen: i64) -> f64 {
    // Exact decimal text first, then one parse: the nearest double to the two-decimal amount.
    Decimal::new(fen, 2).to_string().parse().unwrap_or(0.0)
}

/// The width of a wrapped text column.
pub const WRAP_WIDTH: usize = 36;

/// A table being written, starting at `top` (the header row).
pub struct Table<'a> {
    sheet: &'a mut Worksheet,
    kinds: Vec<Kind>,
    widths: Vec<usize>,
    top: u32,
    row: u32,
    money: Format,
    count: Format,
    rate: Format,
    text: Format,
    fail: &'a dyn Fn(XlsxError) -> Error,
}

impl<'a> Table<'a> {
    /// Writes the header row at `top`.
    pub fn new(
        sheet: &'a mut Worksheet,
        top: u32,
        columns: &[(&str, Kind)],
        fail: &'a dyn Fn(XlsxError) -> Error,
    ) -> Result<Table<'a>> {
        let header = Format::new()
            .set_bold()
            .set_background_color("#E6F0EE")
            .set_border_bottom(FormatBorder::Thin)
            .set_align(FormatAlign::Center);
        for (c, (title, _)) in columns.iter().enumerate() {
            sheet
                .write_string_with_format(top, c as u16, *title, &header)
                .map_err(fail)?;
        }
        Ok(Table {
            sheet,
            kinds: columns.iter().map(|(_, k)| *k).collect(),
            widths: columns.iter().map(|(t, _)| width_of(t) + 4).collect(),
            top,
            row: top + 1,
            money: Format::new().set_num_format("¥#,##0.00"),
            count: Format::new().set_num_format("#,##0"),
            rate: Format::new().set_num_format("0.00%"),
            text: Format::new(),
            fail,
        })
    }

    fn formats(&self, fill: Option<&str>, bold: bool) -> [Format; 4] {
        let style = |f: &Format| {
            let mut f = f.clone();
            if let Some(color) = fill {
                f = f.set_background_color(Color::from(color));
            }
            if bold {
                f = f.set_bold().set_border_top(FormatBorder::Thin);
            }
            f
        };
        [
            style(&self.text),
            style(&self.money),
            style(&self.count),
            style(&self.rate),
        ]
    }

    /// Writes one data row, filled with `fill` (an `#RRGGBB` colour) when given.
    pub fn push(&mut self, cells: &[Cell], fill: Option<&str>) -> Result<()> {
        let [text, money, count, rate] = self.formats(fill, false);
        let r = self.row;
        // Wrapped cells need their rows made tall enough: not every reader fits them itself.
        let mut lines = 1;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let shown = match cell {
                Cell::Text(t) if self.kinds.get(c) == Some(&Kind::Wrap) => {
                    let wrap = text.clone().set_text_wrap().set_align(FormatAlign::Top);
                    self.sheet
                        .write_string_with_format(r, col, t, &wrap)
                        .map_err(self.fail)?;
                    lines = lines.max(width_of(t).div_ceil(WRAP_WIDTH));
                    width_of(t).min(WRAP_WIDTH)
                }
                Cell::Text(t) => {
                    self.sheet
                        .write_string_with_format(r, col, t, &text)
                        .map_err(self.fail)?;
                    width_of(t)
                }
                Cell::Fen(f) => {
                    self.sheet
                        .write_number_with_format(r, col, yuan_number(*f), &money)
                        .map_err(self.fail)?;
                    format!("¥{}", Decimal::new(*f, 2)).len() + 3
                }
                Cell::Count(n) => {
                    self.sheet
                        .write_number_with_format(r, col, *n as f64, &count)
                        .map_err(self.fail)?;
                    n.to_string().len() + 2
                }
                Cell::Rate(d) => {
                    let v: f64 = d.to_string().parse().unwrap_or(0.0);
                    self.sheet
                        .write_number_with_format(r, col, v, &rate)
                        .map_err(self.fail)?;
                    8
                }
                Cell::Empty => {
                    if fill.is_some() {
                        self.sheet.write_blank(r, col, &text).map_err(self.fail)?;
                    }
                    0
                }
            };
            if let Some(w) = self.widths.get_mut(c) {
                *w = (*w).max(shown.min(60));
            }
        }
        if lines > 1 {
            self.sheet
                .set_row_height(r, 15.0 * lines as f64)
                .map_err(self.fail)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The row the next [`Table::push`] writes.
    pub fn next_row(&self) -> u32 {
        self.row
    }

    /// Writes the totals row: `label` in the first column, and for each `(column, value)` a
    /// SUM over the data rows with `value` (fen or a count, by the column's kind) as its result.
    pub fn totals(&mut self, label: &str, sums: &[(u16, i64)]) -> Result<u32> {
        let [text, money, count, _] = self.formats(None, true);
        let r = self.row;
        self.sheet
            .write_string_with_format(r, 0, label, &text)
            .map_err(self.fail)?;
        for c in 1..self.kinds.len() as u16 {
            self.sheet.write_blank(r, c, &text).map_err(self.fail)?;
        }
        for (col, value) in sums {
            let letter = column_letter(*col);
            let range = if r > self.top + 1 {
                format!("=SUM({letter}{}:{letter}{})", self.top + 2, r)
            } else {
                "=0".to_string()
            };
            let (result, format) = match self.kinds.get(*col as usize) {
                Some(Kind::Money) => (Decimal::new(*value, 2).to_string(), &money),
                _ => (value.to_string(), &count),
            };
            self.sheet
                .write_formula_with_format(r, *col, Formula::new(range).set_result(result), format)
                .map_err(self.fail)?;
        }
        self.row += 1;
        Ok(r)
    }

    /// The column widths the content needs so far.
    pub fn widths(&self) -> Vec<usize> {
        self.widths.clone()
    }

    /// Freezes the header, sets the filter over the data rows and fits the column widths.
    pub fn finish(self, data_rows_end: u32) -> Result<()> {
        let last_col = self.kinds.len().saturating_sub(1) as u16;
        self.sheet
            .autofilter(self.top, 0, data_rows_end.max(self.top), last_col)
            .map_err(self.fail)?;
        self.sheet
            .set_freeze_panes(self.top + 1, 0)
            .map_err(self.fail)?;
        // Printed landscape, one page wide, the header repeated on every page.
        self.sheet.set_landscape();
        self.sheet.set_print_fit_to_pages(1, 0);
        self.sheet
            .set_repeat_rows(self.top, self.top)
            .map_err(self.fail)?;
        for (c, w) in self.widths.iter().enumerate() {
            self.sheet
                .set_column_width(c as u16, (*w as f64 + 1.0).min(62.0))
                .map_err(self.fail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_numbers() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(yuan_number(123456), 1234.56);
        assert_eq!(yuan_number(-1), -0.01);
    }
}
