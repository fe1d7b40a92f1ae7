//! A pre-scan of legacy `.xls` workbooks (a compound file holding BIFF records), done before
//! the spreadsheet reader opens them: the reader follows sector chains without noticing loops
//! (a looping directory chain grows memory until the process dies) and reserves room for the
//! cells a sheet's `Dimensions` record declares (65,536 x 65,535 of them in a 2 KB file). Here
//! every chain it will follow is walked once with a step bound, and every declared size is
//! checked against [`MAX_CELLS`].

use std::path::Path;

use super::bounds::MAX_CELLS;
use crate::{Error, Result};

const MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// Sector ids at and above this are markers, not sectors.
const MAX_REGULAR: u32 = 0xFFFF_FFFA;
const DIF_SECT: u32 = 0xFFFF_FFFC;
const MINI_CUTOFF: u64 = 4096;
const MINI_SECTOR: usize = 64;

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Checks the `.xls` file at `path` (already known to be at most [`super::bounds::MAX_FILE_BYTES`]).
pub fn check_xls(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    scan(&bytes).map_err(|what| match what {
        Problem::Damaged(what) => Error::ImportFormat(format!(
            "{} is a damaged .xls workbook ({what}); open it in Excel or WPS and save it as .xlsx",
            path.display()
        )),
        Problem::TooManyCells(cells) => Error::TooLarge(format!(
            "{}: a sheet declares {cells} cells, more than the {MAX_CELLS} accepted; split the roster, or open the file in Excel or WPS and save it as .xlsx",
            path.display()
        )),
    })
}

#[derive(Debug, PartialEq)]
enum Problem {
    Damaged(&'static str),
    TooManyCells(u64),
}

struct Compound<'a> {
    bytes: &'a [u8],
    size: usize,
    fat: Vec<u32>,
}

impl Compound<'_> {
    /// Sector `id`'s bytes (a short last sector as it is).
    fn sector(&self, id: u32) -> std::result::Result<&[u8], Problem> {
        let start = (id as usize + 1) * self.size;
        if start >= self.bytes.len() {
            return Err(Problem::Damaged("a sector lies beyond the end of the file"));
        }
        Ok(&self.bytes[start..(start + self.size).min(self.bytes.len())])
    }

    /// The sectors of the chain starting at `start`, as far as `len` bytes need, refusing a
    /// chain that loops or leaves the table.
    fn chain(
        table: &[u32],
        start: u32,
        size: usize,
        len: u64,
    ) -> std::result::Result<Vec<u32>, Problem> {
        let mut ids = Vec::new();
        let mut id = start;
        while id != END_OF_CHAIN && (ids.len() as u64).saturating_mul(size as u64) < len {
            if id as usize >= table.len() {
                return Err(Problem::Damaged(
                    "a sector chain leaves the allocation table",
                ));
            }
            if ids.len() >= table.len() {
                return Err(Problem::Damaged("a sector chain loops"));
            }
            ids.push(id);
            id = table[id as usize];
        }
        Ok(ids)
    }

    fn read(&self, start: u32, len: u64) -> std::result::Result<Vec<u8>, Problem> {
        let mut out = Vec::new();
        for id in Self::chain(&self.fat, start, self.size, len)? {
            out.extend_from_slice(self.sector(id)?);
        }
        out.truncate(len.min(out.len() as u64) as usize);
        Ok(out)
    }
}

fn scan(bytes: &[u8]) -> std::result::Result<(), Problem> {
    if bytes.len() < 512 || bytes[..8] != MAGIC {
        return Err(Problem::Damaged("no compound-file header"));
    }
    let size = match u16_at(bytes, 0x1E) {
        9 => 512,
        12 => 4096,
        _ => return Err(Problem::Damaged("an unknown sector size")),
    };
    let mut cf = Compound {
        bytes,
        size,
        fat: Vec::new(),
    };
    let sectors = bytes.len() / size;
    // The sector allocation table, through the DIFAT: 109 entries in the header, then a chain.
    let mut difat: Vec<u32> = (0..109).map(|i| u32_at(bytes, 0x4C + 4 * i)).collect();
    let mut next = u32_at(bytes, 0x44);
    let mut steps = 0;
    while next < MAX_REGULAR {
        steps += 1;
        if steps > sectors + 1 {
            return Err(Problem::Damaged("the DIFAT chain loops"));
        }
        let s = cf.sector(next)?;
        let entries: Vec<u32> = (0..s.len() / 4).map(|i| u32_at(s, 4 * i)).collect();
        let Some((&last, rest)) = entries.split_last() else {
            return Err(Problem::Damaged("an empty DIFAT sector"));
        };
        difat.extend_from_slice(rest);
        next = last;
    }
    let mut fat = Vec::new();
    for id in difat.into_iter().filter(|id| *id < DIF_SECT) {
        let s = cf.sector(id)?;
        fat.extend((0..s.len() / 4).map(|i| u32_at(s, 4 * i)));
    }
    cf.fat = fat;

    let dirs = cf.read(u32_at(bytes, 0x30), u64::MAX)?;
    let entries: Vec<&[u8]> = dirs.chunks_exact(128).collect();
    let Some(root) = entries.first() else {
        return Err(Problem::Damaged("no directory"));
    };
    let entry_len = |e: &[u8]| {
        if size == 512 {
            u64::from(u32_at(e, 120))
        } else {
            u64_at(e, 120)
        }
    };
    let mini_fat_sectors = u32_at(bytes, 0x40) as u64;
    let (mini_stream, mini_fat) = if mini_fat_sectors > 0 {
        let stream = cf.read(u32_at(root, 116), entry_len(root))?;
        let table = cf.read(u32_at(bytes, 0x3C), mini_fat_sectors * size as u64)?;
        let table: Vec<u32> = (0..table.len() / 4)
            .map(|i| u32_at(&table, 4 * i))
            .collect();
        (stream, table)
    } else {
        (Vec::new(), Vec::new())
    };
    let name = |e: &[u8]| {
        let n = (u16_at(e, 64) as usize).min(64) / 2;
        let units: Vec<u16> = (0..n).map(|i| u16_at(e, 2 * i)).collect();
        String::from_utf16_lossy(&units)
            .trim_end_matches('\0')
            .to_ascii_lowercase()
    };
    let book = entries
        .iter()
        .find(|e| name(e) == "workbook")
        .or_else(|| entries.iter().find(|e| name(e) == "book"));
    let Some(book) = book else {
        return Ok(()); // the reader says what is missing
    };
    let (start, len) = (u32_at(book, 116), entry_len(book));
    let stream = if len < MINI_CUTOFF {
        let mut out = Vec::new();
        for id in Compound::chain(&mini_fat, start, MINI_SECTOR, len)? {
            let at = id as usize * MINI_SECTOR;
            let Some(s) = mini_stream.get(at..(at + MINI_SECTOR).min(mini_stream.len())) else {
                return Err(Problem::Damaged(
                    "a mini sector lies beyond the mini stream",
                ));
            };
            out.extend_from_slice(s);
        }
        out
    } else {
        cf.read(start, len)?
    };
    check_records(&stream)
}

/// Every `Dimensions` record (0x0200) of the BIFF stream, read as the reader reads it.
fn check_records(stream: &[u8]) -> std::result::Result<(), Problem> {
    let mut at = 0;
    while at + 4 <= stream.len() {
        let typ = u16_at(stream, at);
        let len = u16_at(stream, at + 2) as usize;
        let data = &stream[at + 4..(at + 4 + len).min(stream.len())];
        at += 4 + len;
        if typ != 0x0200 {
            continue;
        }
        let (rf, rl, mut cf, cl) = match data.len() {
            10 => (
                u32::from(u16_at(data, 0)),
                u32::from(u16_at(data, 2)),
                u32::from(u16_at(data, 4)),
                u32::from(u16_at(data, 6)),
            ),
            14 | 16 => (
                u32_at(data, 0),
                u32_at(data, 4),
                u32::from(u16_at(data, 8)),
                u32::from(u16_at(data, 10)),
            ),
            _ => continue,
        };
        if cf > 0xFF || cl < cf {
            cf = 0;
        }
        if rl >= 1 && cl >= 1 {
            let rows = i64::from(rl) - i64::from(rf);
            let cols = i64::from(cl) - i64::from(cf);
            if rows < 0 {
                return Err(Problem::Damaged(
                    "a sheet's dimensions end before they start",
                ));
            }
            let cells = (rows as u64).saturating_mul(cols as u64);
            if cells > MAX_CELLS {
                return Err(Problem::TooManyCells(cells));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimensions(rf: u32, rl: u32, cf: u16, cl: u16) -> Vec<u8> {
        let mut r = vec![0x00, 0x02, 14, 0];
        r.extend(rf.to_le_bytes());
        r.extend(rl.to_le_bytes());
        r.extend(cf.to_le_bytes());
        r.extend(cl.to_le_bytes());
        r.extend([0, 0]);
        r
    }

    #[test]
    fn declared_dimensions_are_bounded() {
        assert_eq!(check_records(&dimensions(0, 200, 0, 10)), Ok(()));
        assert_eq!(
            check_records(&dimensions(0, 65536, 0, 65535)),
            Err(Problem::TooManyCells(65536 * 65535))
        );
        assert!(matches!(
            check_records(&dimensions(10, 5, 0, 3)),
            Err(Problem::Damaged(_))
        ));
        // Truncated records end the scan quietly.
        assert_eq!(check_records(&[0x00, 0x02, 14]), Ok(()));
    }
}
