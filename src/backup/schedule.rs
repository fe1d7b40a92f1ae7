//! Backups kept in `<data>/backups/`: taken on demand ("back up now"), daily by
//! `feedesk backup run` (cron, Task Scheduler, or the app's timer: at most one a day), and
//! before a restore replaces the book. Scheduled ones are rotated, grandfather-father-son:
//! the newest of each of the last N days, weeks and months are kept (7, 4 and 12 by default;
//! `backups/schedule.json`). Backups taken by hand or before a restore are never deleted
//! automatically.
//!
//! Names carry the kind and the UTC time (`feedesk-scheduled-20260902T010000.000Z.zip`), so a
//! listing reads no archive. Days, weeks and months are the institution's (UTC+8).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::archive::write_archive;
use crate::clock::local_date;
use crate::{Error, FeeDesk, Result};

/// The folder under the data folder where backups are kept.
pub const BACKUP_DIR: &str = "backups";
const SCHEDULE_FILE: &str = "schedule.json";
const STAMP: &str = "%Y%m%dT%H%M%S%.3fZ";

/// Why a backup was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum BackupKind {
    /// The daily backup (`feedesk backup run`), rotated.
    Scheduled,
    /// Taken by hand ("back up now"), kept until deleted.
    Manual,
    /// The book a restore replaced, kept until deleted.
    BeforeRestore,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Scheduled => "scheduled",
            BackupKind::Manual => "manual",
            BackupKind::BeforeRestore => "before-restore",
        }
    }

    fn parse(text: &str) -> Option<BackupKind> {
        [
            BackupKind::Scheduled,
            BackupKind::Manual,
            BackupKind::BeforeRestore,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A backup in the backups folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupInfo {
    pub path: String,
    /// When it was taken (RFC 3339 UTC).
    pub taken_at: String,
    pub kind: BackupKind,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

/// How many scheduled backups are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rotation {
    /// The newest backup of each of this many most recent days (at least 1).
    pub daily: u32,
    /// ... of each of this many most recent weeks (Monday to Sunday).
    pub weekly: u32,
    /// ... of each of this many most recent months.
    pub monthly: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            daily: 7,
            weekly: 4,
            monthly: 12,
        }
    }
}

/// What `feedesk backup run` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RunReport {
    /// The backup taken now; none when today's was already taken.
    pub taken: Option<BackupInfo>,
    /// Old scheduled backups deleted by the rotation.
    pub removed: Vec<String>,
    /// Scheduled backups kept.
    pub kept: u64,
}

fn backup_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(BACKUP_DIR)
}

/// The rotation in force (the default until one is set).
pub fn rotation(data_dir: &Path) -> Result<Rotation> {
    let path = backup_dir(data_dir).join(SCHEDULE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::Validation(format!(
                "{} is not a valid backup schedule ({e}); set it again with `feedesk backup schedule`",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Rotation::default()),
        Err(e) => Err(Error::io(&path, e)),
    }
}

/// Sets how many scheduled backups are kept; applied at the next `backup run`.
pub fn set_rotation(data_dir: &Path, rotation: Rotation) -> Result<Rotation> {
    if rotation.daily == 0 {
        return Err(Error::Validation(
            "keep at least one daily backup (daily must be 1 or more)".into(),
        ));
    }
    if rotation.daily > 366 || rotation.weekly > 520 || rotation.monthly > 1200 {
        return Err(Error::Validation(
            "keep at most 366 daily, 520 weekly and 1200 monthly backups".into(),
        ));
    }
    let dir = backup_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(SCHEDULE_FILE);
    let text = serde_json::to_vec_pretty(&rotation).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(rotation)
}

/// The backups in the backups folder, newest first.
pub fn list_backups(data_dir: &Path) -> Result<Vec<BackupInfo>> {
    let dir = backup_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut out = vec![];
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&dir, e))?;
        let name = entry.file_name();
        let Some((kind, at)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        out.push(BackupInfo {
            path: entry.path().display().to_string(),
            taken_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            kind,
            bytes,
        });
    }
    out.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.path.cmp(&a.path)));
    Ok(out)
}

fn file_name(kind: BackupKind, at: DateTime<Utc>) -> String {
    format!("feedesk-{}-{}.zip", kind.as_str(), at.format(STAMP))
}

fn parse_name(name: &str) -> Option<(BackupKind, DateTime<Utc>)> {
    let stem = name.strip_prefix("feedesk-")?.strip_suffix(".zip")?;
    let (kind, stamp) = stem.rsplit_once('-')?;
    let kind = BackupKind::parse(kind)?;
    let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    Some((kind, at))
}

/// Takes a backup of `kind` into the backups folder now.
pub async fn backup_now(desk: &FeeDesk, kind: BackupKind) -> Result<BackupInfo> {
    take(desk.db(), desk.data_dir(), desk.clock().now(), kind).await
}

pub(crate) async fn take(
    db: &crate::db::Db,
    data_dir: &Path,
    now: DateTime<Utc>,
    kind: BackupKind,
) -> Result<BackupInfo> {
    let dir = backup_dir(data_dir);
    // Two backups in the same millisecond (a pinned clock): the later one a millisecond on.
    let mut at = now;
    while dir.join(file_name(kind, at)).exists() {
        at += chrono::Duration::milliseconds(1);
    }
    let out = dir.join(file_name(kind, at));
    let taken_at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    write_archive(db, data_dir, &out, &taken_at, kind.as_str()).await?;
    let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    Ok(BackupInfo {
        path: out.display().to_string(),
        taken_at,
        kind,
        bytes,
    })
}

/// The daily backup: takes one unless today's (the institution's day) exists, then rotates.
/// Safe to call as often as a timer likes.
pub async fn run_scheduled(desk: &FeeDesk) -> Result<RunReport> {
    let rotation = rotation(desk.data_dir())?;
    let now = desk.clock().now();
    let today = local_date(now);
    let existing = list_backups(desk.data_dir())?;
    let done_today = existing.iter().any(|b| {
        b.kind == BackupKind::Scheduled
            && parsed(&b.taken_at).is_some_and(|t| local_date(t) == today)
    });
    let taken = if done_today {
        None
    } else {
        Some(backup_now(desk, BackupKind::Scheduled).await?)
    };
    let (kept, removed) = rotate(desk.data_dir(), rotation)?;
    Ok(RunReport {
        taken,
        removed,
        kept,
    })
}

fn parsed(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at).ok().map(|t| t.to_utc())
}

/// Deletes the scheduled backups `rotation` does not keep; returns how many are kept and the
/// paths deleted.
fn rotate(data_dir: &Path, rotation: Rotation) -> Result<(u64, Vec<String>)> {
    let scheduled: Vec<(BackupInfo, chrono::NaiveDate)> = list_backups(data_dir)?
        .into_iter()
        .filter(|b| b.kind == BackupKind::Scheduled)
        .filter_map(|b| parsed(&b.taken_at).map(|t| (b, local_date(t))))
        .collect();
    let mut days = HashSet::new();
    let mut weeks = HashSet::new();
    let mut months = HashSet::new();
    let mut kept = 0;
    let mut removed = vec![];
    // Newest first: the first backup seen of a period is the one kept for it.
    for (backup, day) in scheduled {
        let mut keep = false;
        for (seen, key, limit) in [
            (&mut days, (day.year(), day.ordinal()), rotation.daily),
            (
                &mut weeks,
                (day.iso_week().year(), day.iso_week().week()),
                rotation.weekly,
            ),
            (&mut months, (day.year(), day.month()), rotation.monthly),
        ] {
            if !seen.contains(&key) && seen.len() < limit as usize {
                seen.insert(key);
                keep = true;
            }
        }
        if keep {
            kept += 1;
        } else {
            let path = PathBuf::from(&backup.path);
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            removed.push(backup.path);
        }
    }
    Ok((kept, removed))
}

/// The newest backup and whether it is too old: the dashboard warns when the last backup is
/// older than two days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupStatus {
    pub last: Option<BackupInfo>,
    /// Hours since the last backup.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub age_hours: Option<i64>,
    /// No backup, or the last one is more than two days old.
    pub stale: bool,
    pub rotation: Rotation,
}

/// Hours after which a backup is too old.
pub const STALE_AFTER_HOURS: i64 = 48;

/// The backups' state for Settings and the dashboard.
pub fn backup_status(desk: &FeeDesk) -> Result<BackupStatus> {
    let last = list_backups(desk.data_dir())?.into_iter().next();
    let age_hours = last
        .as_ref()
        .and_then(|b| parsed(&b.taken_at))
        .map(|t| (desk.clock().now() - t).num_hours());
    Ok(BackupStatus {
        stale: age_hours.is_none_or(|h| h > STALE_AFTER_HOURS),
        last,
        age_hours,
        rotation: rotation(desk.data_dir())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 9, 2, 1, 0, 0).unwrap();
        let name = file_name(BackupKind::BeforeRestore, at);
        assert_eq!(name, "feedesk-before-restore-20260902T010000.000Z.zip");
        assert_eq!(parse_name(&name), Some((BackupKind::BeforeRestore, at)));
        assert_eq!(parse_name("feedesk-before-migrate-x.sqlite"), None);
    }
}
