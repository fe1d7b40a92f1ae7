//! The archive: one zip holding a consistent copy of the database (`VACUUM INTO`), every file
//! the book needs under the data folder (receipt PDFs, stored statements), and
//! `manifest.json` with each entry's size and SHA-256. Written to a `.part` file and renamed
//! into place, so a half-written archive is never mistaken for a backup; files are streamed
//! through in blocks, so memory stays flat however large the archive grows.
//!
//! Why the database first and the files after: receipt PDFs and statements are written
//! before the record that names them and never changed afterwards, so every file the copied
//! database names is already on disk when the files are gathered. A file newer than the copy
//! is carried along harmlessly.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use crate::db::{DB_FILE, Db, backup_to};
use crate::{Error, Result};

/// The manifest's entry name.
pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "feedesk-backup";
const FORMAT_VERSION: u32 = 1;

/// The folders of the data folder a book needs besides its database: archived receipt PDFs
/// and imported channel statements.
pub const BOOK_FOLDERS: [&str; 2] = [
    crate::receipts::ARCHIVE_DIR,
    crate::reconcile::STATEMENTS_DIR,
];

/// Block size for streaming files in and out of an archive.
const BLOCK: usize = 64 * 1024;

/// The manifest's bound when read back (a real one is a few hundred bytes per file).
const MANIFEST_LIMIT: u64 = 64 * 1024 * 1024;

/// What an archive holds, written last into it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// When the database copy was taken (RFC 3339 UTC).
    pub taken_at: String,
    pub kind: String,
    pub feedesk_version: String,
    pub entries: Vec<ManifestEntry>,
}

/// One file in an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Relative to the data folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Writes the archive of the book in `data_dir` (whose database is `db`) to `out`.
pub(crate) async fn write_archive(
    db: &Db,
    data_dir: &Path,
    out: &Path,
    taken_at: &str,
    kind: &str,
) -> Result<Manifest> {
    if out.exists() {
        return Err(Error::Conflict(format!(
            "{} already exists; choose another backup file",
            out.display()
        )));
    }
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let part = with_suffix(out, ".part");
    let snapshot = with_suffix(out, ".sqlite.part");
    let _ = std::fs::remove_file(&part);
    let _ = std::fs::remove_file(&snapshot);
    let written = async {
        backup_to(db, &snapshot).await?;
        let data_dir = data_dir.to_path_buf();
        let (part2, snapshot2) = (part.clone(), snapshot.clone());
        let manifest = Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            taken_at: taken_at.into(),
            kind: kind.into(),
            feedesk_version: crate::VERSION.into(),
            entries: vec![],
        };
        tokio::task::spawn_blocking(move || zip_book(&data_dir, &snapshot2, &part2, manifest))
            .await
            .map_err(|e| Error::Internal(format!("the backup stopped: {e}")))?
    }
    .await;
    let _ = std::fs::remove_file(&snapshot);
    match written {
        Ok(manifest) => {
            std::fs::rename(&part, out).map_err(|e| Error::io(out, e))?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn zip_book(
    data_dir: &Path,
    snapshot: &Path,
    part: &Path,
    mut manifest: Manifest,
) -> Result<Manifest> {
    let file = File::create(part).map_err(|e| Error::io(part, e))?;
    let mut zip = zip::ZipWriter::new(BufWriter::new(file));
    let fail = |e: zip::result::ZipError| Error::io(part, std::io::Error::other(e));
    manifest
        .entries
        .push(add_file(&mut zip, snapshot, DB_FILE, part)?);
    for folder in BOOK_FOLDERS {
        let mut files = vec![];
        gather(&data_dir.join(folder), &mut files)?;
        files.sort();
        for path in files {
            let name = entry_name(data_dir, &path)?;
            manifest
                .entries
                .push(add_file(&mut zip, &path, &name, part)?);
        }
    }
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("cannot write the manifest: {e}")))?;
    zip.start_file(MANIFEST, deflated()).map_err(fail)?;
    zip.write_all(&text).map_err(|e| Error::io(part, e))?;
    let writer = zip.finish().map_err(fail)?;
    let file = writer
        .into_inner()
        .map_err(|e| Error::io(part, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(part, e))?;
    Ok(manifest)
}

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// Every regular file under `dir` (none when it does not exist), leaving out the temporary
/// files of a write in progress.
fn gather(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() {
            gather(&path, out)?;
        } else if kind.is_file() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.ends_with(".tmp") || name.ends_with(".part")) {
                out.push(path);
            }
        }
    }
    Ok(())
}

/// `path` relative to the data folder, `/`-separated, as it is named in the archive.
fn entry_name(data_dir: &Path, path: &Path) -> Result<String> {
    let rel = path
        .strip_prefix(data_dir)
        .map_err(|_| Error::Internal(format!("{} is outside the data folder", path.display())))?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            Component::Normal(p) => p.to_str().map(str::to_string).ok_or_else(|| {
                Error::Validation(format!(
                    "{} has a name that is not valid Unicode; rename it to back it up",
                    path.display()
                ))
            }),
            _ => Err(Error::Internal(format!(
                "unexpected path {}",
                path.display()
            ))),
        })
        .collect::<Result<_>>()?;
    Ok(parts.join("/"))
}

/// Streams `path` into the archive as `name`, hashing it on the way.
fn add_file(
    zip: &mut zip::ZipWriter<BufWriter<File>>,
    path: &Path,
    name: &str,
    part: &Path,
) -> Result<ManifestEntry> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    // PDFs and zips are compressed inside already: storing them is as small and much faster.
    let lower = name.to_ascii_lowercase();
    let method = if lower.ends_with(".pdf") || lower.ends_with(".zip") || lower.ends_with(".gz") {
        CompressionMethod::Stored
    } else {
        CompressionMethod::Deflated
    };
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(size >= u64::from(u32::MAX));
    zip.start_file(name, options)
        .map_err(|e| Error::io(part, std::io::Error::other(e)))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BLOCK];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        zip.write_all(&buf[..n]).map_err(|e| Error::io(part, e))?;
        bytes += n as u64;
    }
    Ok(ManifestEntry {
        path: name.to_string(),
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Reads `archive`'s manifest, checks that it names only safe paths of a book, that the
/// archive holds nothing else, and extracts every entry into `into` checking its size and
/// SHA-256 as it streams. On any problem `into` is left for the caller to remove and the error
/// says what is wrong with the archive.
pub(crate) fn check_and_extract(archive: &Path, into: Option<&Path>) -> Result<Manifest> {
    let damaged = |why: String| {
        Error::Validation(format!(
            "{} is not a usable FeeDesk backup: {why}; nothing was replaced",
            archive.display()
        ))
    };
    let file = File::open(archive).map_err(|e| Error::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| damaged(format!("it cannot be read as a zip archive ({e})")))?;
    let manifest: Manifest = {
        let entry = zip
            .by_name(MANIFEST)
            .map_err(|_| damaged(format!("it has no {MANIFEST}")))?;
        let mut text = vec![];
        entry
            .take(MANIFEST_LIMIT)
            .read_to_end(&mut text)
            .map_err(|e| damaged(format!("its {MANIFEST} cannot be read ({e})")))?;
        serde_json::from_slice(&text)
            .map_err(|e| damaged(format!("its {MANIFEST} is not valid ({e})")))?
    };
    if manifest.format != FORMAT {
        return Err(damaged(format!("its manifest is not a {FORMAT} manifest")));
    }
    if manifest.version > FORMAT_VERSION {
        return Err(damaged(format!(
            "it was written by a newer FeeDesk ({}); update FeeDesk to restore it",
            manifest.feedesk_version
        )));
    }
    if !manifest.entries.iter().any(|e| e.path == DB_FILE) {
        return Err(damaged(format!("it holds no {DB_FILE}")));
    }
    let listed: std::collections::HashSet<&str> =
        manifest.entries.iter().map(|e| e.path.as_str()).collect();
    if listed.len() != manifest.entries.len() {
        return Err(damaged("its manifest names a file twice".into()));
    }
    for name in zip.file_names() {
        let name = name.map_err(|e| damaged(format!("an entry's name cannot be read ({e})")))?;
        if name != MANIFEST && !listed.contains(name.as_ref()) {
            return Err(damaged(format!(
                "it holds {name}, which its manifest does not list"
            )));
        }
    }
    let mut buf = vec![0u8; BLOCK];
    for e in &manifest.entries {
        let rel = safe_relative(&e.path).ok_or_else(|| {
            damaged(format!(
                "its manifest names {}, which is not a file of a book",
                e.path
            ))
        })?;
        let mut entry = zip
            .by_name(&e.path)
            .map_err(|_| damaged(format!("{} is listed but missing", e.path)))?;
        let mut target = match into {
            Some(dir) => {
                let path = dir.join(&rel);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|err| Error::io(parent, err))?;
                }
                Some((
                    File::create(&path).map_err(|err| Error::io(&path, err))?,
                    path,
                ))
            }
            None => None,
        };
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|err| damaged(format!("{} cannot be read ({err})", e.path)))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            if bytes > e.bytes {
                return Err(damaged(format!(
                    "{} is larger than its manifest says",
                    e.path
                )));
            }
            hasher.update(&buf[..n]);
            if let Some((file, path)) = target.as_mut() {
                file.write_all(&buf[..n])
                    .map_err(|err| Error::io(path, err))?;
            }
        }
        if bytes != e.bytes || hex::encode(hasher.finalize()) != e.sha256 {
            return Err(damaged(format!(
                "{} does not match the SHA-256 its manifest records (the archive was changed or damaged)",
                e.path
            )));
        }
        if let Some((file, path)) = target {
            file.sync_all().map_err(|err| Error::io(&path, err))?;
        }
    }
    Ok(manifest)
}

/// The entry's path as a relative path inside the data folder: the database, or a file under
/// one of the book's folders; never absolute, never `..`.
fn safe_relative(name: &str) -> Option<PathBuf> {
    if name == DB_FILE {
        return Some(PathBuf::from(DB_FILE));
    }
    let parts: Vec<&str> = name.split('/').collect();
    let first = *parts.first()?;
    if parts.len() < 2 || !BOOK_FOLDERS.contains(&first) {
        return None;
    }
    let ok = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', ':', '\0']));
    ok.then(|| parts.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_book_paths_are_safe() {
        assert!(safe_relative("feedesk.sqlite").is_some());
        assert!(safe_relative("receipts/XH/2026/XH-2026-000001.pdf").is_some());
        assert!(safe_relative("statements/a.csv").is_some());
        assert!(safe_relative("receipts/../../etc/passwd").is_none());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("backups/x.zip").is_none());
        assert!(safe_relative("receipts").is_none());
        assert!(safe_relative("receipts/C:\\x").is_none());
    }
}
