//! Safety bounds on import files, checked before anything big is allocated: the file size,
//! the compression ratio of zip-based workbooks (a zip bomb inflates thousands of times), and
//! the number of cells in a sheet, and the counts a workbook declares for its parts (the
//! spreadsheet reader reserves memory for a declared shared-string count before reading any).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::{Error, Result};

/// Largest file accepted.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Most cells accepted in one sheet.
pub const MAX_CELLS: u64 = 5_000_000;
/// Largest ratio of inflated to stored size accepted for zip-based workbooks.
pub const MAX_INFLATE_RATIO: u64 = 100;

/// Largest shared-string table accepted, inflated: every string of an XLSX workbook is held
/// in memory while its sheets are read (a 200,000-row roster needs about 25 MB).
pub const MAX_SHARED_STRINGS_BYTES: u64 = 64 * 1024 * 1024;
/// Columns of a row kept for the error workbook beyond the mapped ones.
pub const MAX_KEPT_COLUMNS: usize = 256;

/// Refuses a file larger than [`MAX_FILE_BYTES`]; returns its size.
pub fn check_file_size(path: &Path) -> Result<u64> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(Error::TooLarge(format!(
            "{} is {:.1} MB; rosters up to 50 MB are accepted: split the file",
            path.display(),
            len as f64 / 1_048_576.0
        )));
    }
    Ok(len)
}

/// Refuses a zip container whose entries claim to inflate to more than
/// [`MAX_INFLATE_RATIO`] times the file's size, reading only the central directory.
pub fn check_zip_ratio(path: &Path, file_len: u64) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        Error::ImportFormat(format!(
            "{} is not a readable workbook (damaged zip container: {e})",
            path.display()
        ))
    })?;
    let mut inflated: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| Error::ImportFormat(format!("{} is damaged: {e}", path.display())))?;
        inflated = inflated.saturating_add(entry.size());
    }
    if inflated > file_len.max(1).saturating_mul(MAX_INFLATE_RATIO) {
        return Err(Error::TooLarge(format!(
            "{} inflates to {} bytes, more than {MAX_INFLATE_RATIO}x its size; it is refused as a possible zip bomb",
            path.display(),
            inflated
        )));
    }
    Ok(())
}

/// Checks an XLSX workbook's shared-string table before the spreadsheet reader opens it: its
/// inflated size, and the string count its `<sst uniqueCount="...">` declares, for which the
/// reader reserves memory up front (a 2 KB file declaring 10^15 strings would abort the
/// process). No table holds more strings than it has bytes for (`<si><t/></si>` is 13 bytes).
pub fn check_shared_strings(path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let damaged = |e: &dyn std::fmt::Display| {
        Error::ImportFormat(format!(
            "{} is not a readable workbook (damaged zip container: {e})",
            path.display()
        ))
    };
    let mut archive = zip::ZipArchive::new(file).map_err(|e| damaged(&e))?;
    for i in 0..archive.len() {
        let shared = archive
            .by_index_raw(i)
            .map_err(|e| damaged(&e))?
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        if !shared {
            continue;
        }
        let entry = archive.by_index(i).map_err(|e| damaged(&e))?;
        let size = entry.size();
        if size > MAX_SHARED_STRINGS_BYTES {
            return Err(Error::TooLarge(format!(
                "{}: its shared-string table inflates to {} MB, more than the {} MB accepted; split the roster into smaller files",
                path.display(),
                size >> 20,
                MAX_SHARED_STRINGS_BYTES >> 20
            )));
        }
        let mut head = Vec::with_capacity(4096);
        entry
            .take(64 * 1024)
            .read_to_end(&mut head)
            .map_err(|e| damaged(&e))?;
        let Some(declared) = declared_unique_count(&head) else {
            continue;
        };
        let most = (size / 8).clamp(16, MAX_CELLS);
        if declared > most {
            return Err(Error::TooLarge(format!(
                "{}: its shared-string table declares {declared} strings but can hold at most {most} (the limit is one per 8 bytes, at most {MAX_CELLS}); the file is damaged or crafted: open it in Excel or WPS and save it again",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The `uniqueCount` declared on the `<sst>` start tag at the head of a shared-string part,
/// when there is one the reader would use; `u64::MAX` for a number too big to read.
fn declared_unique_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.as_ref();
    let tag = loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name == "sst" || name.ends_with(":sst") {
            break &rest[name_end..rest.find('>').unwrap_or(rest.len())];
        }
    };
    let mut attrs = tag;
    while let Some(at) = attrs.find("uniqueCount") {
        let before_ok = at == 0 || attrs[..at].ends_with(|c: char| c.is_whitespace());
        let after = attrs[at + "uniqueCount".len()..].trim_start();
        attrs = &attrs[at + 1..];
        let Some(value) = after.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let quote = value.chars().next()?;
        let value = value[quote.len_utf8()..].split(quote).next()?;
        let value = value.strip_prefix('+').unwrap_or(value);
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(value.parse().unwrap_or(u64::MAX));
    }
    None
}

/// Refuses a sheet with more than [`MAX_CELLS`] cells.
pub fn check_cells(sheet: &str, cells: u64) -> Result<()> {
    if cells > MAX_CELLS {
        return Err(Error::TooLarge(format!(
            "sheet '{sheet}' has more than {MAX_CELLS} cells; split the roster into smaller files"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_declared_string_count() {
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="9" uniqueCount="1000000000000">"#;
        assert_eq!(declared_unique_count(head), Some(1_000_000_000_000));
        assert_eq!(
            declared_unique_count(br#"<x:sst uniqueCount = '12'>"#),
            Some(12)
        );
        assert_eq!(
            declared_unique_count(br#"<sst uniqueCount="99999999999999999999999999">"#),
            Some(u64::MAX)
        );
        assert_eq!(declared_unique_count(br#"<sst count="3">"#), None);
        assert_eq!(declared_unique_count(br#"<sst uniqueCount="-1">"#), None);
        assert_eq!(
            declared_unique_count("<sst uniqueCount=“5”>".as_bytes()),
            None
        );
    }
}
