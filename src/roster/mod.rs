//! Roster import: the first thing finance staff do with FeeDesk is load their people from the
//! spreadsheets they already keep.
//!
//! The pipeline: [`source`] reads the file (bounds first, see [`bounds`]); [`parse`] finds the
//! header ([`header`]), normalises ([`normalize`], [`id_number`]) and validates ([`validate`])
//! every row; [`plan`] compares the valid rows with the database; [`commit`] writes the plan in
//! one transaction; [`error_workbook`] hands the rejected rows back; [`undo`] takes a batch back.

pub mod bounds;
pub mod cell;
mod commit;
pub mod error_workbook;
pub mod header;
pub mod id_number;
pub mod normalize;
mod parse;
mod plan;
pub mod source;
mod undo;
pub mod validate;
mod xls_scan;

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use header::{Column, Field, MapOverride};
pub use undo::{UndoReport, undo_batch};
pub use validate::{ClassMerge, RowError};

use crate::org::{self, UnitKind};
use crate::progress::{CancelToken, ProgressFn};
use crate::{Error, FeeDesk, Result};

/// How rows with problems affect the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ImportMode {
    /// Commit only when every row is valid (all or nothing).
    All,
    /// Commit the valid rows, report the rest.
    Valid,
}

impl ImportMode {
    fn as_str(self) -> &'static str {
        match self {
            ImportMode::All => "all",
            ImportMode::Valid => "valid",
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub file: PathBuf,
    /// The unit imported into: the default store, and the subtree rows may name stores from.
    pub unit_code: String,
    /// The term the class column refers to.
    pub term_name: Option<String>,
    pub sheet: Option<String>,
    pub overrides: Vec<MapOverride>,
    pub create_classes: bool,
    pub mode: ImportMode,
    pub dry_run: bool,
    /// Where to write the error workbook, if wanted.
    pub errors_out: Option<PathBuf>,
}

/// The outcome of an import (or dry run).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    pub file: String,
    pub sheet: String,
    /// 1-based row of the detected header.
    pub header_row: u32,
    /// How each column was mapped.
    pub columns: Vec<Column>,
    /// The batch written; `None` for dry runs, refused imports, and imports that change nothing.
    pub batch_id: Option<i64>,
    pub rows_read: u64,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub blank: u64,
    /// Rows rejected because of problems.
    pub rejected: u64,
    pub classes_created: u64,
    /// Class names taken as one class because they differ only in bracket style, width,
    /// spacing or letter case (`三年级(2)班` and `三年级（2）班`).
    pub class_merges: Vec<ClassMerge>,
    pub committed: bool,
    pub dry_run: bool,
    pub errors: Vec<RowError>,
    /// The error workbook written, if one was asked for.
    pub errors_workbook: Option<String>,
}

/// Imports a roster. File-level problems are errors; row problems are in the report.
///
/// The whole sheet is read and validated first, without the write lock (a slow or big file
/// never holds up another writer); then, under the lock, each chunk of valid rows is planned
/// against the database and written into one open transaction. The transaction commits only
/// when the mode allows it; otherwise it is rolled back, so nothing is ever half-imported.
/// Needs tokio's multi-threaded runtime (the CLI's and the desktop's).
pub async fn import_roster(
    desk: &FeeDesk,
    req: &ImportRequest,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<ImportReport> {
    let scope = org::find_unit(desk, &req.unit_code).await?;
    if scope.archived {
        return Err(Error::Validation(format!(
            "{} is archived; import into an active unit",
            scope.code
        )));
    }
    let units = org::list_units(desk).await?;
    let allowed: HashSet<i64> = org::subtree_ids(desk, &scope.code)
        .await?
        .into_iter()
        .collect();
    let term = match &req.term_name {
        Some(t) => Some(org::find_term(desk, t).await?),
        None => None,
    };
    let term_id = term.as_ref().map(|t| t.id);
    let store_ids: Vec<i64> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Store && allowed.contains(&u.id))
        .map(|u| u.id)
        .collect();
    // Every unit, so that a row naming a region is told it is not a store.
    let stores = validate::StoreScope::new(units, &scope, allowed);

    let file = source::RosterFile::open(&req.file)?;
    let file_sha256 = sha256_file(&req.file)?;
    let term_classes: HashSet<(i64, String)> = match term_id {
        Some(t) => sqlx::query_as("SELECT unit_id, name FROM classes WHERE term_id = ?")
            .bind(t)
            .fetch_all(desk.db().pool())
            .await?
            .into_iter()
            .collect(),
        None => HashSet::new(),
    };
    let rejected_any = AtomicBool::new(false);
    let ctx = parse::Context {
        stores: &stores,
        classes: &term_classes,
        create_classes: req.create_classes,
        has_term: term.is_some(),
        overrides: &req.overrides,
        rejected_any: &rejected_any,
    };
    let all_or_nothing = req.mode == ImportMode::All;

    // Read and check the whole file first, without the write lock: a big or slow sheet never
    // holds up another FeeDesk (or the window) that wants to write meanwhile.
    let mut chunks: Vec<Vec<validate::Candidate>> = vec![];
    let parsed = tokio::task::block_in_place(|| {
        let mut sink = |chunk| {
            chunks.push(chunk);
            Ok(())
        };
        parse::parse(
            &file,
            req.sheet.as_deref(),
            &ctx,
            progress,
            cancel,
            &mut sink,
        )
    })?;
    // Then take the write lock before reading the classes and members the plan compares
    // against, so that no other writer can change them in between, and write.
    let mut writer = match req.dry_run {
        true => None,
        false => Some(commit::Writer::begin(desk, scope.id, term_id, req.mode.as_str()).await?),
    };
    let mut planner = plan::Planner::load(desk, &store_ids, term_id, &term_classes).await?;
    let mut totals = plan::Totals::default();
    for chunk in chunks {
        let plan = planner.plan(chunk);
        totals.add(&plan);
        // Once a row is rejected in all-or-nothing mode nothing will be committed: keep
        // counting, stop writing.
        let doomed = all_or_nothing && rejected_any.load(Ordering::SeqCst);
        if let Some(w) = writer.as_mut().filter(|_| !doomed) {
            w.write(&plan, progress, cancel).await?;
        }
    }

    // The error workbook is written before anything is committed: if it cannot be written,
    // the import fails whole rather than committing rows the user cannot see the report of.
    let errors_workbook = match &req.errors_out {
        Some(path) => {
            error_workbook::write(
                path,
                &parsed.header_cells,
                &parsed.columns,
                &parsed.error_rows,
                &parsed.errors,
            )?;
            Some(path.display().to_string())
        }
        None => None,
    };
    let rejected = parsed.rejected;
    let refused = all_or_nothing && rejected > 0;
    let batch_id = match writer {
        Some(w) if !refused && totals.changes_anything() => {
            let info = commit::BatchInfo {
                file_name: file_name(&req.file),
                file_sha256,
                sheet: parsed.sheet.clone(),
                mode: req.mode.as_str(),
                rows_read: parsed.rows_read,
                rejected,
            };
            let batch = w.finish(desk, &info, &totals).await?;
            desk.db().checkpoint_in_background();
            Some(batch)
        }
        // Dropping the writer rolls its transaction back.
        _ => None,
    };
    Ok(ImportReport {
        file: req.file.display().to_string(),
        sheet: parsed.sheet,
        header_row: parsed.header_row,
        columns: parsed.columns,
        batch_id,
        rows_read: parsed.rows_read,
        imported: totals.imported,
        updated: totals.updated,
        unchanged: totals.unchanged,
        blank: parsed.blank,
        rejected,
        classes_created: totals.classes_created,
        class_merges: parsed.class_merges,
        committed: !req.dry_run && !refused,
        dry_run: req.dry_run,
        errors: parsed.errors,
        errors_workbook,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// One import batch, for the history list.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Batch {
    pub id: i64,
    pub file_name: String,
    pub sheet: String,
    pub unit: String,
    pub mode: String,
    pub rows_read: i64,
    pub imported: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub actor: String,
    pub created_at: String,
    pub undone_at: Option<String>,
}

/// Every import batch, newest first.
pub async fn list_batches(desk: &FeeDesk) -> Result<Vec<Batch>> {
    Ok(sqlx::query_as(
        "SELECT b.id, b.file_name, b.sheet, u.code AS unit, b.mode, b.rows_read, b.imported, b.updated,
                b.unchanged, b.rejected, b.actor, b.created_at, b.undone_at
         FROM import_batches b JOIN units u ON u.id = b.unit_id ORDER BY b.id DESC",
    )
    .fetch_all(desk.db().pool())
    .await?)
}
