//! The error workbook: every rejected row repeated as it was, with the offending cells filled
//! red and annotated, and a reason column, so staff fix the rows and import again.
//! Text is always written as text: a cell that looks like a formula stays inert.

use std::collections::HashMap;
use std::path::Path;

use rust_xlsxwriter::{Color, Format, FormatBorder, Note, Workbook};

use super::cell::Cell;
use super::header::Column;
use super::validate::RowError;
use crate::{Error, Result};

/// The first column holds the original sheet row number.
const ROW_HEADER: &str = "原行号 Row";
/// Rows whose offending cells also get a note (the reason column lists every problem anyway).
const MAX_NOTED_ROWS: usize = 1000;
/// The last column lists every problem of the row.
const REASON_HEADER: &str = "问题 Problems";

/// Writes the error workbook for `rows` to `path`.
pub fn write(
    path: &Path,
    header_cells: &[Cell],
    columns: &[Column],
    rows: &[(u32, Vec<Cell>)],
    errors: &[RowError],
) -> Result<()> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        Error::Io(format!(
            "cannot write the error workbook {}: {e}",
            path.display()
        ))
    };
    let mut by_row: HashMap<u32, Vec<&RowError>> = HashMap::new();
    for e in errors {
        by_row.entry(e.row).or_default().push(e);
    }
    // The header as kept (bounded by the importer) and every mapped column: never the whole
    // width of a sheet with one cell far to the right.
    let width = header_cells.len().max(
        columns
            .iter()
            .filter(|c| c.field.is_some())
            .map(|c| c.index + 1)
            .max()
            .unwrap_or(0),
    );
    let col_of = |header: &str| columns.iter().find(|c| c.header == header).map(|c| c.index);

    let bold = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let bad = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    let reason = Format::new()
        .set_font_color(Color::RGB(0x9C0006))
        .set_text_wrap();

    let mut book = Workbook::new();
    // Rows go to a temporary file as they are written: a roster with 100,000 rejected rows
    // must not hold them all in memory a second time.
    let sheet = book.add_worksheet_with_constant_memory().map_err(fail)?;
    sheet.set_name("错误 Errors").map_err(fail)?;
    sheet
        .write_string_with_format(0, 0, ROW_HEADER, &bold)
        .map_err(fail)?;
    for i in 0..width {
        let text = header_cells.get(i).map(Cell::to_text).unwrap_or_default();
        let widest = rows
            .iter()
            .filter_map(|(_, cells)| cells.get(i))
            .map(|c| display_width(&c.to_text()))
            .chain(std::iter::once(display_width(&text)))
            .max()
            .unwrap_or(8);
        sheet
            .write_string_with_format(0, col(i + 1), text, &bold)
            .map_err(fail)?;
        sheet
            .set_column_width(col(i + 1), (widest + 2).clamp(8, 40) as f64)
            .map_err(fail)?;
    }
    let reason_col = col(width + 1);
    sheet
        .write_string_with_format(0, reason_col, REASON_HEADER, &bold)
        .map_err(fail)?;
    sheet.set_column_width(reason_col, 70).map_err(fail)?;
    sheet.set_column_width(0, 10).map_err(fail)?;

    for (n, (row, cells)) in rows.iter().enumerate() {
        let out = (n + 1) as u32;
        let problems = by_row.get(row).cloned().unwrap_or_default();
        sheet.write_number(out, 0, f64::from(*row)).map_err(fail)?;
        for i in 0..width {
            let value = cells.get(i).cloned().unwrap_or(Cell::Empty);
            let here: Vec<&&RowError> = problems
                .iter()
                .filter(|e| col_of(&e.column) == Some(i))
                .collect();
            if here.is_empty() {
                write_cell(sheet, out, col(i + 1), &value, None).map_err(fail)?;
            } else {
                write_cell(sheet, out, col(i + 1), &value, Some(&bad)).map_err(fail)?;
                // Each note costs kilobytes until the file is saved; past the first rows the
                // red fill and the reason column say the same.
                if n >= MAX_NOTED_ROWS {
                    continue;
                }
                let note = here
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                sheet
                    .insert_note(out, col(i + 1), &Note::new(note).set_author("FeeDesk"))
                    .map_err(fail)?;
            }
        }
        let all = problems
            .iter()
            .map(|e| format!("[{}] {}: {}", e.code, e.column, e.message))
            .collect::<Vec<_>>()
            .join("\n");
        // Wrapped text needs a row tall enough for it; about 60 characters fit on a line.
        let lines: usize = problems
            .iter()
            .map(|e| display_width(&e.message) / 60 + 1)
            .sum();
        sheet
            .set_row_height(out, 15.0 * lines.max(1) as f64)
            .map_err(fail)?;
        sheet
            .write_string_with_format(out, reason_col, all, &reason)
            .map_err(fail)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(fail)?;
    // Printed, it fits the page width: staff often fix rosters on paper.
    sheet.set_landscape();
    sheet.set_print_fit_to_pages(1, 0);
    sheet
        .autofilter(0, 0, rows.len() as u32, reason_col)
        .map_err(fail)?;
    book.save(path).map_err(fail)?;
    Ok(())
}

/// Columns a text needs, counting CJK characters double.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Writes a cell as it came: numbers as numbers (so a truncated ID shows what Excel kept),
/// everything else as text, never as a formula.
fn write_cell(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    value: &Cell,
    format: Option<&Format>,
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    let plain = Format::new();
    let format = format.unwrap_or(&plain);
    match value {
        Cell::Empty => {
            sheet.write_blank(row, col, format)?;
        }
        Cell::Int(i) => {
            sheet.write_number_with_format(row, col, *i as f64, format)?;
        }
        Cell::Float(f) => {
            sheet.write_number_with_format(row, col, *f, format)?;
        }
        other => {
            sheet.write_string_with_format(row, col, other.to_text(), format)?;
        }
    }
    Ok(())
}
