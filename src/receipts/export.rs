//! Batch export: the archived PDFs of a class's or a term's receipts in one zip, with a
//! manifest (`receipts.csv`: number, status, member, amount, SHA-256) an auditor can check the
//! files against. Pending PDFs are archived first, so the zip holds only archived originals.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use super::archive::{archive_pending, receipt_pdf};
use super::search::{ReceiptFilter, list_receipts};
use crate::{Error, FeeDesk, Result};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportReport {
    pub file: String,
    pub receipts: u64,
    pub bytes: u64,
}

/// Writes the zip of every receipt `filter` matches to `out` (a class or a term is required,
/// so an export is never the whole archive by accident).
pub async fn export_zip(
    desk: &FeeDesk,
    filter: &ReceiptFilter,
    out: &Path,
) -> Result<ExportReport> {
    let given = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
    if !given(&filter.class_name) && !given(&filter.term_name) {
        return Err(Error::Validation(
            "name a class (--class) or a term (--term) to export its receipts".into(),
        ));
    }
    let receipts = list_receipts(desk, filter).await?;
    if receipts.is_empty() {
        return Err(Error::NotFound(
            "no receipts match; nothing was written".into(),
        ));
    }
    if receipts.iter().any(|r| r.sha256.is_none()) {
        archive_pending(desk).await?;
    }
    let tmp: PathBuf = out.with_extension("zip.part");
    let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    // PDFs are compressed inside already; storing them keeps the export fast.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let fail = |e: zip::result::ZipError| Error::io(out, std::io::Error::other(e));
    let mut manifest = csv::Writer::from_writer(vec![]);
    let csv_fail = |e: csv::Error| Error::Internal(format!("cannot write the manifest: {e}"));
    manifest
        .write_record([
            "number",
            "status",
            "store",
            "member_no",
            "member_name",
            "class",
            "term",
            "fee_item",
            "amount",
            "issued_at",
            "original",
            "reversed_by",
            "sha256",
            "file",
        ])
        .map_err(csv_fail)?;
    // Names and fee items come from outside: no cell of the manifest may run as a formula.
    let inert = |fields: &[&str]| -> Vec<String> {
        fields
            .iter()
            .map(|f| crate::text::inert_csv_cell(f).into_owned())
            .collect()
    };
    for r in &receipts {
        let pdf = receipt_pdf(desk, &r.number).await?;
        let name = format!("{}.pdf", r.number);
        zip.start_file(name.as_str(), stored).map_err(fail)?;
        zip.write_all(&pdf).map_err(|e| Error::io(out, e))?;
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
        manifest
            .write_record(inert(&[
                r.number.as_str(),
                &r.status,
                &r.store,
                &r.member_no,
                &r.member_name,
                r.class.as_deref().unwrap_or(""),
                r.term.as_deref().unwrap_or(""),
                &r.fee_item,
                &r.amount.to_string(),
                &crate::clock::local_display(&r.issued_at),
                r.original.as_deref().unwrap_or(""),
                r.reversed_by.as_deref().unwrap_or(""),
                &sha,
                &name,
            ]))
            .map_err(csv_fail)?;
    }
    let manifest = manifest
        .into_inner()
        .map_err(|e| Error::Internal(format!("cannot write the manifest: {e}")))?;
    zip.start_file(
        "receipts.csv",
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    )
    .map_err(fail)?;
    // A BOM so Excel opens the Chinese columns as UTF-8.
    zip.write_all("\u{feff}".as_bytes())
        .and_then(|_| zip.write_all(&manifest))
        .map_err(|e| Error::io(out, e))?;
    let mut writer = zip.finish().map_err(fail)?;
    writer.flush().map_err(|e| Error::io(&tmp, e))?;
    drop(writer);
    std::fs::rename(&tmp, out).map_err(|e| Error::io(out, e))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(ExportReport {
        file: out.display().to_string(),
        receipts: receipts.len() as u64,
        bytes,
    })
}
