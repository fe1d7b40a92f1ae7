//! Safety bounds on import files, checked before anything big is allocated: the file size,
//! the compression ratio of zip-based workbooks (a zip bomb inflates thousands of times), and
//! the number of cells in a sheet.

use std::fs::File;
use std::path::Path;

use crate::{Error, Result};

/// Largest file accepted.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Most cells accepted in one sheet.
pub const MAX_CELLS: u64 = 5_000_000;
/// Largest ratio of inflated to stored size accepted for zip-based workbooks.
pub const MAX_INFLATE_RATIO: u64 = 100;

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

/// Refuses a sheet with more than [`MAX_CELLS`] cells.
pub fn check_cells(sheet: &str, cells: u64) -> Result<()> {
    if cells > MAX_CELLS {
        return Err(Error::TooLarge(format!(
            "sheet '{sheet}' has more than {MAX_CELLS} cells; split the roster into smaller files"
        )));
    }
    Ok(())
}
