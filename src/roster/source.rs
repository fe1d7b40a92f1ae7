//! Reading roster files: .xlsx, .xlsm, .xlsb, .xls, .ods (through calamine) and .csv (UTF-8 or
//! GBK), handed to the importer one row at a time.
//!
//! The format is taken from the file's bytes, not its name, because exported rosters often carry
//! the wrong extension. Bounds are checked first (see [`super::bounds`]). XLSX and XLSB sheets are
//! streamed cell by cell, so a big roster never sits in memory twice.

use std::fs::File;
use std::io::{BufReader, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use calamine::{Ods, Reader, Xls, Xlsb, Xlsx};

use super::bounds;
use super::cell::Cell;
use crate::{Error, Result};

/// The container format of a roster file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
    Csv,
}

/// The most rows a declared sheet size may make the importer reserve room for.
const ROWS_HINT_CAP: usize = 200_000;

/// Called with each row that holds at least one cell: its 1-based sheet row number and cells.
pub type RowVisitor<'a> = dyn FnMut(u32, Vec<Cell>) -> Result<ControlFlow<()>> + 'a;

/// An opened, bounds-checked roster file.
#[derive(Debug, Clone)]
pub struct RosterFile {
    path: PathBuf,
    format: Format,
}

impl RosterFile {
    /// Checks the bounds and detects the format.
    pub fn open(path: &Path) -> Result<RosterFile> {
        let len = bounds::check_file_size(path)?;
        let format = detect_format(path)?;
        if matches!(format, Format::Xlsx | Format::Xlsb | Format::Ods) {
            bounds::check_zip_ratio(path, len)?;
        }
        if format == Format::Xlsx {
            bounds::check_shared_strings(path)?;
        }
        if format == Format::Xls {
            super::xls_scan::check_xls(path)?;
        }
        Ok(RosterFile {
            path: path.to_path_buf(),
            format,
        })
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Opens the workbook once (for XLSX this loads its shared strings), ready to read sheets.
    pub fn book(&self) -> Result<Book> {
        let bad = |e: &dyn std::fmt::Display| {
            Error::ImportFormat(format!("{} cannot be read: {e}", self.path.display()))
        };
        let reader = || -> Result<BufReader<File>> {
            Ok(BufReader::new(
                File::open(&self.path).map_err(|e| Error::io(&self.path, e))?,
            ))
        };
        let kind = match self.format {
            Format::Xlsx => Kind::Xlsx(Xlsx::new(reader()?).map_err(|e| bad(&e))?),
            Format::Xlsb => Kind::Xlsb(Xlsb::new(reader()?).map_err(|e| bad(&e))?),
            Format::Xls => Kind::Xls(Xls::new(reader()?).map_err(|e| bad(&e))?),
            Format::Ods => Kind::Ods(Ods::new(reader()?).map_err(|e| bad(&e))?),
            Format::Csv => Kind::Csv,
        };
        Ok(Book {
            path: self.path.clone(),
            kind,
            columns: Arc::new(AtomicUsize::new(usize::MAX)),
        })
    }
}

/// An opened workbook.
pub struct Book {
    path: PathBuf,
    kind: Kind,
    columns: Arc<AtomicUsize>,
}

enum Kind {
    Xlsx(Xlsx<BufReader<File>>),
    Xlsb(Xlsb<BufReader<File>>),
    Xls(Xls<BufReader<File>>),
    Ods(Ods<BufReader<File>>),
    Csv,
}

impl Book {
    /// The sheets, in workbook order (a CSV file is one sheet named after the file).
    pub fn sheet_names(&self) -> Vec<String> {
        match &self.kind {
            Kind::Xlsx(b) => b.sheet_names(),
            Kind::Xlsb(b) => b.sheet_names(),
            Kind::Xls(b) => b.sheet_names(),
            Kind::Ods(b) => b.sheet_names(),
            Kind::Csv => vec![csv_sheet_name(&self.path)],
        }
    }

    /// How many rows the sheet declares, when the format says so cheaply (XLSX, XLSB): lets
    /// the importer size its tables once instead of growing them row by row.
    pub fn row_count_hint(&mut self, sheet: &str) -> Option<usize> {
        let rows =
            |d: calamine::Dimensions| (d.end.0 as usize + 1).saturating_sub(d.start.0 as usize);
        match &mut self.kind {
            Kind::Xlsx(book) => book
                .worksheet_cells_reader(sheet)
                .ok()
                .map(|r| rows(r.dimensions())),
            Kind::Xlsb(book) => book
                .worksheet_cells_reader(sheet)
                .ok()
                .map(|r| rows(r.dimensions())),
            _ => None,
        }
        // Only a hint for sizing: a sheet may declare far more rows than it holds.
        .map(|n| n.min(ROWS_HINT_CAP))
    }

    /// A handle on the columns kept of each streamed row: once the importer knows the columns
    /// it needs it lowers this, and cells further right are folded into one marker cell.
    pub fn column_limit(&self) -> Arc<AtomicUsize> {
        self.columns.clone()
    }

    /// Visits every non-empty row of `sheet` in order until the visitor breaks.
    pub fn read_rows(&mut self, sheet: &str, visit: &mut RowVisitor<'_>) -> Result<()> {
        let columns = self.columns.clone();
        let path = self.path.clone();
        let bad = |e: &dyn std::fmt::Display| {
            Error::ImportFormat(format!("{} cannot be read: {e}", path.display()))
        };
        match &mut self.kind {
            Kind::Xlsx(book) => {
                let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| bad(&e))?;
                bounds::check_cells(sheet, reader.dimensions().len())?;
                stream(sheet, &columns, visit, || {
                    reader
                        .next_cell_with_formula_metadata()
                        .map(|c| {
                            c.map(|c| {
                                let cell = match (c.value, c.formula) {
                                    (calamine::DataRef::Empty, Some(_)) => Cell::Uncalculated,
                                    (value, _) => Cell::from(value),
                                };
                                (c.pos, cell)
                            })
                        })
                        .map_err(|e| bad(&e))
                })
            }
            Kind::Xlsb(book) => {
                let mut reader = book.worksheet_cells_reader(sheet).map_err(|e| bad(&e))?;
                bounds::check_cells(sheet, reader.dimensions().len())?;
                stream(sheet, &columns, visit, || {
                    reader
                        .next_cell()
                        .map(|c| c.map(|c| (c.get_position(), Cell::from(c.get_value().clone()))))
                        .map_err(|e| bad(&e))
                })
            }
            Kind::Xls(book) => {
                let range = book.worksheet_range(sheet).map_err(|e| bad(&e))?;
                visit_range(sheet, &range, visit)
            }
            Kind::Ods(book) => {
                let range = book.worksheet_range(sheet).map_err(|e| bad(&e))?;
                visit_range(sheet, &range, visit)
            }
            Kind::Csv => read_csv(&path, visit),
        }
    }
}

/// Groups a stream of cells (row-major, as XLSX/XLSB store them) into rows.
fn stream(
    sheet: &str,
    columns: &AtomicUsize,
    visit: &mut RowVisitor<'_>,
    mut next: impl FnMut() -> Result<Option<((u32, u32), Cell)>>,
) -> Result<()> {
    let mut cells_seen: u64 = 0;
    let mut current: Option<u32> = None;
    let mut row: Vec<Cell> = Vec::new();
    while let Some(((r, c), value)) = next()? {
        if value == Cell::Empty {
            continue;
        }
        cells_seen += 1;
        bounds::check_cells(sheet, cells_seen)?;
        if current != Some(r) {
            if let Some(prev) = current
                && visit(prev + 1, std::mem::take(&mut row))?.is_break()
            {
                return Ok(());
            }
            current = Some(r);
        }
        let mut c = c as usize;
        let limit = columns.load(Ordering::Relaxed);
        if c > limit {
            // Past the columns the importer keeps: only that the row holds something matters
            // (so it is never taken for blank), not where; a row is never padded out to XFD.
            c = limit;
        }
        if row.len() <= c {
            row.resize(c + 1, Cell::Empty);
        }
        if c < limit || row[c] == Cell::Empty {
            row[c] = value;
        }
    }
    if let Some(prev) = current {
        let _ = visit(prev + 1, row)?;
    }
    Ok(())
}

fn visit_range(
    sheet: &str,
    range: &calamine::Range<calamine::Data>,
    visit: &mut RowVisitor<'_>,
) -> Result<()> {
    let (rows, cols) = range.get_size();
    bounds::check_cells(sheet, (rows as u64).saturating_mul(cols as u64))?;
    let Some((first_row, first_col)) = range.start() else {
        return Ok(());
    };
    for (i, cells) in range.rows().enumerate() {
        if cells.iter().all(|c| *c == calamine::Data::Empty) {
            continue;
        }
        // Absolute columns, so that column letters match what a person sees.
        let mut row = vec![Cell::Empty; first_col as usize];
        row.extend(cells.iter().map(Cell::from));
        if visit(first_row + i as u32 + 1, row)?.is_break() {
            break;
        }
    }
    Ok(())
}

fn csv_sheet_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "csv".into())
}

/// Decodes a CSV file: UTF-8 (with or without BOM) or, failing that, GBK/GB18030 as saved by
/// Excel on Chinese Windows.
pub fn decode_text(path: &Path, bytes: &[u8]) -> Result<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(Error::ImportFormat(format!(
            "{} is neither UTF-8 nor GBK text; save it again as CSV UTF-8 or as .xlsx",
            path.display()
        )));
    }
    Ok(text.into_owned())
}

/// The delimiter most used in the first line among `,`, tab and `;`.
/// The delimiter used most over the first lines (a title line above the table may have none),
/// among `,`, tab and `;`; a comma unless another is strictly more common.
fn sniff_delimiter(text: &str) -> u8 {
    let head: Vec<&str> = text.lines().take(20).collect();
    let count = |d: u8| {
        head.iter()
            .map(|l| l.bytes().filter(|b| *b == d).count())
            .sum::<usize>()
    };
    let mut best = (b',', count(b','));
    for d in [b'\t', b';'] {
        let n = count(d);
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// Most line breaks one CSV field may hold: a note or an address typed over a few lines is
/// fine, a field running over more is a stray quote swallowing the rows after it.
pub const MAX_FIELD_LINE_BREAKS: usize = 5;
/// Longest CSV field, in characters: what one spreadsheet cell can hold.
pub const MAX_FIELD_CHARS: usize = 32_767;
/// Most fields in one CSV record: the columns a spreadsheet has.
pub const MAX_FIELDS: usize = 16_384;

/// Refuses a CSV record whose fields cannot be real cells: one that runs over many lines (a
/// stray quote), one longer than a cell holds, or a record wider than a sheet.
fn check_csv_record(path: &Path, row: u32, line: u32, record: &csv::StringRecord) -> Result<()> {
    if record.len() > MAX_FIELDS {
        return Err(Error::ImportFormat(format!(
            "{} row {row} has {} fields, more than the {MAX_FIELDS} columns a sheet holds; the file is not a roster, or its delimiter was not recognised: save it again as CSV UTF-8 or .xlsx",
            path.display(),
            record.len()
        )));
    }
    for (i, field) in record.iter().enumerate() {
        let column = crate::columns::column_letter_of(i);
        let breaks = field.matches('\n').count();
        if breaks > MAX_FIELD_LINE_BREAKS {
            return Err(Error::ImportFormat(format!(
                "{} row {row} (line {line}), column {column}: a quote (\") opens a field that runs over {} lines and swallows the rows after it; remove the stray quote from the field beginning '{}' (or close it) and import again; nothing was imported",
                path.display(),
                breaks + 1,
                crate::text::clip(field)
            )));
        }
        if field.len() > MAX_FIELD_CHARS && field.chars().count() > MAX_FIELD_CHARS {
            return Err(Error::ImportFormat(format!(
                "{} row {row}, column {column}: the field beginning '{}' is {} characters long, more than the {MAX_FIELD_CHARS} a cell holds; check for a stray quote, or shorten it",
                path.display(),
                crate::text::clip(field),
                field.chars().count()
            )));
        }
    }
    Ok(())
}

/// Refuses a CSV file whose records are far fewer than its lines: line breaks inside quoted
/// fields took more than half of them, which real rosters never do and stray quotes do.
fn check_csv_lines(path: &Path, text: &str, records: u64, inner_breaks: u32) -> Result<()> {
    let lines = text.trim_end_matches(['\r', '\n']).matches('\n').count() as u64 + 1;
    if lines > 10 && u64::from(inner_breaks) * 2 > lines {
        return Err(Error::ImportFormat(format!(
            "{} has {lines} lines but only {records} records: line breaks inside quoted fields take {inner_breaks} of the lines, so quotes (\") are probably unbalanced; check the quotes and import again; nothing was imported",
            path.display()
        )));
    }
    Ok(())
}

fn read_csv(path: &Path, visit: &mut RowVisitor<'_>) -> Result<()> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    // UTF-8 (the common case) becomes the text in place, without a second copy of the file.
    let text = match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            text
        }
        Err(e) => decode_text(path, e.as_bytes())?,
    };
    let sheet = csv_sheet_name(path);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(&text))
        .from_reader(text.as_bytes());
    let mut cells_seen: u64 = 0;
    let mut record = csv::StringRecord::new();
    let (mut line, mut counted_to) = (1u32, 0usize);
    // Line breaks inside quoted fields so far: they do not start a new row in Excel.
    let mut inner_breaks: u32 = 0;
    let mut records: u64 = 0;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            Error::ImportFormat(format!(
                "{} line {line} is not valid CSV: {e}",
                path.display()
            ))
        })?;
        if !more {
            return check_csv_lines(path, &text, records, inner_breaks);
        }
        records += 1;
        // The csv crate miscounts lines after CRLF; count the newlines before the record.
        let mut byte = record
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(counted_to)
            .min(text.len());
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        line += text.as_bytes()[counted_to..byte]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u32;
        counted_to = byte;
        // The row a person sees when Excel opens the file: physical line, less the line breaks
        // inside quoted fields of earlier records (blank lines do count: Excel shows them).
        let row = line - inner_breaks;
        check_csv_record(path, row, line, &record)?;
        inner_breaks += record
            .iter()
            .map(|f| f.matches('\n').count() as u32)
            .sum::<u32>();
        let cells: Vec<Cell> = record
            .iter()
            .map(|v| {
                if v.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(v.to_string())
                }
            })
            .collect();
        cells_seen += cells.iter().filter(|c| **c != Cell::Empty).count() as u64;
        bounds::check_cells(&sheet, cells_seen)?;
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        if visit(row, cells)?.is_break() {
            return Ok(());
        }
    }
}

/// Detects the format from the file's first bytes (and, for zips, the entries inside).
fn detect_format(path: &Path) -> Result<Format> {
    let mut head = [0u8; 8];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    if head.starts_with(b"PK\x03\x04") {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| {
            Error::ImportFormat(format!("{} is a damaged zip/workbook: {e}", path.display()))
        })?;
        let has = |name: &str| {
            archive
                .file_names()
                .any(|n| n.is_ok_and(|n| n.eq_ignore_ascii_case(name)))
        };
        return if has("xl/workbook.xml") {
            Ok(Format::Xlsx)
        } else if has("xl/workbook.bin") {
            Ok(Format::Xlsb)
        } else if has("content.xml") {
            Ok(Format::Ods)
        } else {
            Err(Error::ImportFormat(format!(
                "{} is a zip file but not a workbook (.xlsx, .xlsb or .ods)",
                path.display()
            )))
        };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Ok(Format::Xls);
    }
    let trimmed: Vec<u8> = head
        .iter()
        .copied()
        .skip_while(|b| b.is_ascii_whitespace() || *b == 0xEF || *b == 0xBB || *b == 0xBF)
        .collect();
    if trimmed.first() == Some(&b'<') {
        return Err(Error::ImportFormat(format!(
            "{} is a web page saved with a spreadsheet name; open it in Excel or WPS and save it as .xlsx",
            path.display()
        )));
    }
    if head.contains(&0) {
        return Err(Error::ImportFormat(format!(
            "{} is not a spreadsheet: use .xlsx, .xls, .xlsb, .ods or .csv",
            path.display()
        )));
    }
    Ok(Format::Csv)
}
