//! The read-and-validate pass over a roster sheet: choose the sheet, find the header row, map
//! the columns, then check every row below it. Runs on a blocking thread; touches no database.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use super::bounds;
use super::cell::Cell;
use super::header::{self, Column, Field, MapOverride};
use super::source::{Book, RosterFile};
use super::validate::{Candidate, ClassMerge, RowError, StoreScope, Validator};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::text::normalize;
use crate::{Error, Result};

/// Valid rows are handed on in chunks of this many, so writing starts while reading goes on.
pub const CHUNK: usize = 8192;

/// Rows with problems kept in detail (their problems for the report, their cells for the error
/// workbook); past them rows are only counted, and the report says so. Keeps a file of a
/// million bad rows from holding a million reports in memory.
pub const MAX_DETAILED_ERROR_ROWS: usize = 20_000;

/// Receives chunks of valid rows, in sheet order.
pub type CandidateSink<'a> = dyn FnMut(Vec<Candidate>) -> Result<()> + Send + 'a;

/// Fields a roster must have a column for.
const REQUIRED: [Field; 3] = [Field::MemberNo, Field::Name, Field::GuardianPhone];

/// What the pass found.
#[derive(Debug)]
pub struct Parsed {
    pub sheet: String,
    /// 1-based row of the header.
    pub header_row: u32,
    pub header_cells: Vec<Cell>,
    pub columns: Vec<Column>,
    pub class_merges: Vec<ClassMerge>,
    pub errors: Vec<RowError>,
    /// The original cells of every row with a problem, for the error workbook.
    pub error_rows: Vec<(u32, Vec<Cell>)>,
    /// Every row rejected, detailed or not.
    pub rejected: u64,
    /// Rows below the header through the last one holding anything.
    pub rows_read: u64,
    /// Of those, rows with nothing in them.
    pub blank: u64,
}

/// What the pass needs to know about the institution.
pub struct Context<'a> {
    pub stores: &'a StoreScope,
    pub classes: &'a HashSet<(i64, String)>,
    pub create_classes: bool,
    pub has_term: bool,
    pub overrides: &'a [MapOverride],
    /// Set as soon as any row is rejected.
    pub rejected_any: &'a AtomicBool,
}

/// Reads and validates `sheet` (or the first sheet with a recognisable header) in one pass:
/// the top rows are held back until the header is known, then every row streams through.
pub fn parse(
    file: &RosterFile,
    sheet: Option<&str>,
    ctx: &Context<'_>,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
    sink: &mut CandidateSink<'_>,
) -> Result<Parsed> {
    let mut book = file.book()?;
    let names = book.sheet_names();
    let sheets: Vec<String> = match sheet {
        Some(w) => {
            let found = names.iter().find(|n| normalize(n) == normalize(w));
            vec![found.cloned().ok_or_else(|| {
                Error::ImportFormat(format!(
                    "no sheet named '{w}'; the sheets are: {}",
                    names.join(", ")
                ))
            })?]
        }
        None => names,
    };
    for name in &sheets {
        if let Some(parsed) = parse_sheet(&mut book, name, ctx, progress, cancel, sink)? {
            return Ok(parsed);
        }
    }
    let where_ = match sheet {
        Some(w) => format!("sheet '{w}'"),
        None => "any sheet".into(),
    };
    Err(Error::ImportFormat(format!(
        "no header row found in the first {} rows of {where_}; expected headers such as 学号, 姓名, 家长手机号码 (or member no, name, guardian phone), or map them with --map 'HEADER=field'",
        header::HEADER_SEARCH_ROWS
    )))
}

/// The pass over one sheet; `None` when its top rows hold no header.
fn parse_sheet(
    book: &mut Book,
    sheet: &str,
    ctx: &Context<'_>,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
    sink: &mut CandidateSink<'_>,
) -> Result<Option<Parsed>> {
    let mut top: Vec<(u32, Vec<Cell>)> = Vec::new();
    let mut body: Option<Body<'_>> = None;
    let mut no_header = false;
    let rows_hint = book.row_count_hint(sheet).unwrap_or(0);
    let column_limit = book.column_limit();
    book.read_rows(sheet, &mut |row, cells| {
        if let Some(body) = body.as_mut() {
            body.row(row, cells, progress, cancel, sink)?;
            return Ok(ControlFlow::Continue(()));
        }
        top.push((row, cells));
        if top.len() < header::HEADER_SEARCH_ROWS {
            return Ok(ControlFlow::Continue(()));
        }
        match Body::start(
            sheet,
            std::mem::take(&mut top),
            rows_hint,
            ctx,
            progress,
            cancel,
            sink,
        )? {
            Some(b) => {
                column_limit.store(b.kept_columns, std::sync::atomic::Ordering::Relaxed);
                body = Some(b);
                Ok(ControlFlow::Continue(()))
            }
            None => {
                no_header = true;
                Ok(ControlFlow::Break(()))
            }
        }
    })?;
    if no_header {
        return Ok(None);
    }
    let body = match body {
        Some(b) => b,
        // A sheet shorter than the search window: decide on what there is.
        None => match Body::start(sheet, top, rows_hint, ctx, progress, cancel, sink)? {
            Some(b) => b,
            None => return Ok(None),
        },
    };
    cancel.check()?;
    Ok(Some(body.finish(sheet, progress, sink)?))
}

/// The rows below the header, being validated.
struct Body<'a> {
    header_row: u32,
    header_cells: Vec<Cell>,
    validator: Validator<'a>,
    rejected_any: &'a AtomicBool,
    /// Valid rows not yet handed to the sink.
    pending: Vec<Candidate>,
    errors: Vec<RowError>,
    error_rows: Vec<(u32, Vec<Cell>)>,
    rejected: u64,
    last_row: u32,
    /// Columns of a row kept for the error workbook: through the last mapped column, and the
    /// headed ones up to a bound (a cell far to the right must not make every kept row huge).
    kept_columns: usize,
    non_blank: u64,
    expected: Option<u64>,
}

impl<'a> Body<'a> {
    /// Finds the header among the top rows and validates the rows after it.
    fn start(
        sheet: &str,
        top: Vec<(u32, Vec<Cell>)>,
        rows_hint: usize,
        ctx: &Context<'a>,
        progress: ProgressFn<'_>,
        cancel: &CancelToken,
        sink: &mut CandidateSink<'_>,
    ) -> Result<Option<Body<'a>>> {
        let Some((header_row, columns)) = header::detect(&top, ctx.overrides) else {
            return Ok(None);
        };
        check_columns(sheet, &columns, ctx)?;
        let last_mapped = columns
            .iter()
            .filter(|c| c.field.is_some())
            .map(|c| c.index + 1)
            .max()
            .unwrap_or(0);
        let last_headed = columns.iter().map(|c| c.index + 1).max().unwrap_or(0);
        let kept_columns = last_mapped.max(last_headed.min(bounds::MAX_KEPT_COLUMNS));
        let mut body = Body {
            header_row,
            header_cells: Vec::new(),
            validator: Validator::new(
                columns,
                ctx.stores,
                ctx.classes,
                ctx.create_classes,
                rows_hint,
            ),
            rejected_any: ctx.rejected_any,
            pending: Vec::with_capacity(CHUNK),
            errors: Vec::new(),
            error_rows: Vec::new(),
            rejected: 0,
            last_row: header_row,
            kept_columns,
            non_blank: 0,
            // The sheet's declared size, less the rows above the data: an estimate for progress.
            expected: (rows_hint > 0)
                .then(|| (rows_hint as u64).saturating_sub(u64::from(header_row))),
        };
        for (row, cells) in top {
            if row == header_row {
                let mut cells = cells;
                cells.truncate(kept_columns);
                body.header_cells = cells;
            } else if row > header_row {
                body.row(row, cells, progress, cancel, sink)?;
            }
        }
        Ok(Some(body))
    }

    fn row(
        &mut self,
        row: u32,
        cells: Vec<Cell>,
        progress: ProgressFn<'_>,
        cancel: &CancelToken,
        sink: &mut CandidateSink<'_>,
    ) -> Result<()> {
        if row <= self.last_row {
            // Rows come in sheet order from every writer we know; a file that repeats or
            // reorders rows is damaged, and guessing would misnumber every problem after it.
            return Err(Error::ImportFormat(format!(
                "row {row} appears again after row {}: the file is damaged; open it in Excel or WPS and save it again",
                self.last_row
            )));
        }
        self.last_row = row;
        if cells.iter().all(Cell::is_blank) {
            return Ok(());
        }
        self.non_blank += 1;
        if self.non_blank.is_multiple_of(4096) {
            cancel.check()?;
            progress(Progress {
                phase: "read",
                done: self.non_blank,
                total: self.expected,
            });
        }
        match self.validator.check(row, &cells) {
            Ok(c) => {
                self.pending.push(c);
                if self.pending.len() >= CHUNK {
                    sink(std::mem::replace(
                        &mut self.pending,
                        Vec::with_capacity(CHUNK),
                    ))?;
                }
            }
            Err(mut e) => {
                self.rejected_any.store(true, Ordering::SeqCst);
                self.rejected += 1;
                if self.error_rows.len() >= MAX_DETAILED_ERROR_ROWS {
                    return Ok(());
                }
                self.errors.append(&mut e);
                let mut cells = cells;
                cells.truncate(self.kept_columns);
                cells.shrink_to_fit();
                self.error_rows.push((row, cells));
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        sheet: &str,
        progress: ProgressFn<'_>,
        sink: &mut CandidateSink<'_>,
    ) -> Result<Parsed> {
        if !self.pending.is_empty() {
            sink(std::mem::take(&mut self.pending))?;
        }
        progress(Progress {
            phase: "read",
            done: self.non_blank,
            total: Some(self.non_blank),
        });
        let rows_read = u64::from(self.last_row.saturating_sub(self.header_row));
        let (columns, class_merges) = self.validator.finish();
        let detailed = self.error_rows.len() as u64;
        if self.rejected > detailed {
            self.errors.push(RowError {
                row: self.last_row,
                column: String::new(),
                field: None,
                code: "too_many_problems",
                message: format!(
                    "{} rows have problems; only the first {detailed} are listed (and in the error workbook): fix them and check the file again",
                    self.rejected
                ),
            });
        }
        Ok(Parsed {
            sheet: sheet.to_string(),
            header_row: self.header_row,
            header_cells: self.header_cells,
            columns,
            class_merges,
            errors: self.errors,
            error_rows: self.error_rows,
            rejected: self.rejected,
            rows_read,
            blank: rows_read.saturating_sub(self.non_blank),
        })
    }
}

fn check_columns(sheet: &str, columns: &[Column], ctx: &Context<'_>) -> Result<()> {
    for o in ctx.overrides {
        if !columns
            .iter()
            .any(|c| header::names_column(&o.header, &c.header))
        {
            return Err(Error::ImportFormat(format!(
                "--map names the column '{}', but the header row of sheet '{sheet}' has no such column",
                o.header
            )));
        }
    }
    let has = |f: Field| columns.iter().any(|c| c.field == Some(f));
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|f| !has(**f))
        .map(|f| format!("{} ({})", f.label_zh(), f.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::ImportFormat(format!(
            "sheet '{sheet}' has no column for {}; rename the header or map it with --map 'HEADER=field'",
            missing.join(", ")
        )));
    }
    if !has(Field::Store) && ctx.stores.default_store.is_none() {
        return Err(Error::ImportFormat(format!(
            "sheet '{sheet}' has no store column (校区/门店/store) and {} is not a store; add the column or import with --unit STORE_CODE",
            ctx.stores.scope_code
        )));
    }
    if has(Field::Class) && !ctx.has_term {
        return Err(Error::ImportFormat(format!(
            "sheet '{sheet}' has a class column; name the term the classes belong to with --term"
        )));
    }
    Ok(())
}
