//! Importing a statement file: read it once as it streams (hashing it, keeping a copy in the
//! data folder's `statements/`, checking every line), then record it, once: the same file again
//! (the same SHA-256) changes nothing. A different file carrying lines already known (a bill
//! downloaded twice: Alipay stamps the export time in it) is kept, and its lines count as
//! duplicates, not new.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashSet;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::statement::{Packing, StatementFormat, StatementTotals, detect, read_statement};
use crate::audit::{self, Entry};
use crate::billing::{CollectionAccount, find_account};
use crate::channels::bills::{MAX_BILL_BYTES, MAX_BILL_IN_MEMORY};
use crate::progress::{CancelToken, Progress, ProgressFn};
use crate::{Error, FeeDesk, Result};

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatementImport {
    pub statement_id: i64,
    pub account: String,
    pub format: StatementFormat,
    pub file: String,
    pub sha256: String,
    /// Lines of the file, header and summary included.
    pub lines_read: u64,
    pub payments: u64,
    pub refunds: u64,
    /// Payment and refund lines no earlier statement of the account carried.
    pub new: u64,
    /// Lines another statement of the account already carried.
    pub duplicate_lines: u64,
    /// The very same file was imported before: nothing changed.
    pub duplicate_file: bool,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
}

/// The folder (inside the data folder) where imported statements are kept.
pub const STATEMENTS_DIR: &str = "statements";

/// Passes bytes through while hashing them and copying them to `copy`, and reports progress.
struct Tee<'a, R> {
    inner: R,
    hash: Sha256,
    copy: std::io::BufWriter<File>,
    copy_error: Option<std::io::Error>,
    done: u64,
    total: Option<u64>,
    progress: ProgressFn<'a>,
    cancel: &'a CancelToken,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        if self.copy_error.is_none()
            && let Err(e) = self.copy.write_all(&buf[..n])
        {
            self.copy_error = Some(e);
        }
        let before = self.done >> 22;
        self.done += n as u64;
        if self.done > MAX_BILL_BYTES {
            return Err(std::io::Error::other("the statement is larger than 1 GB"));
        }
        if self.done >> 22 != before {
            (self.progress)(Progress {
                phase: "read",
                done: self.done,
                total: self.total,
            });
        }
        Ok(n)
    }
}

/// A decompressing reader that refuses to yield more than `left` bytes in all.
struct Unpacked<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Unpacked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "the statement unpacks to larger than {} MB",
                MAX_BILL_BYTES >> 20
            ))
        })?;
        Ok(n)
    }
}

/// Imports the statement file at `path` for the collection account named `account`.
pub async fn import_statement(
    desk: &FeeDesk,
    account: &str,
    path: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<StatementImport> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    import_named(desk, account, path, &file_name, progress, cancel).await
}

async fn import_named(
    desk: &FeeDesk,
    account: &str,
    path: &Path,
    file_name: &str,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<StatementImport> {
    let account = statement_account(desk, account).await?;
    let dir = desk.data_dir().join(STATEMENTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let tmp = dir.join(format!(".import-{}.part", std::process::id()));
    let read = read_file(path, &tmp, progress, cancel);
    let (format, totals, sha, packing) = match read {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(in_file(path, e));
        }
    };
    let result = record(
        desk, &account, file_name, &tmp, format, totals, &sha, packing,
    )
    .await;
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Imports a statement downloaded through the channel (bytes as delivered).
pub async fn import_statement_bytes(
    desk: &FeeDesk,
    account: &str,
    file_name: &str,
    content: &[u8],
) -> Result<StatementImport> {
    let dir = desk.data_dir().join(STATEMENTS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let source = dir.join(format!(".download-{}.part", std::process::id()));
    std::fs::write(&source, content).map_err(|e| Error::io(&source, e))?;
    let result = import_named(
        desk,
        account,
        &source,
        file_name,
        &crate::progress::ignore_progress,
        &CancelToken::new(),
    )
    .await;
    let _ = std::fs::remove_file(&source);
    result
}

async fn statement_account(desk: &FeeDesk, account: &str) -> Result<CollectionAccount> {
    let account = find_account(desk, account).await?;
    if !matches!(
        account.channel,
        crate::billing::Channel::Wechat | crate::billing::Channel::Alipay
    ) {
        return Err(Error::Validation(format!(
            "'{}' is a {} account; statements are imported into WeChat Pay or Alipay accounts",
            account.name,
            account.channel.as_str()
        )));
    }
    Ok(account)
}

fn in_file(path: &Path, err: Error) -> Error {
    let name = path.display();
    match err {
        Error::ImportFormat(m) => Error::ImportFormat(format!("{name}: {m}; nothing was imported")),
        Error::Io(m) => Error::Io(format!("{name}: {m}")),
        other => other,
    }
}

type Read4 = (StatementFormat, StatementTotals, String, Packing);

/// Reads, checks, hashes and copies the file in one pass.
fn read_file(
    path: &Path,
    copy: &Path,
    progress: ProgressFn<'_>,
    cancel: &CancelToken,
) -> Result<Read4> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let total = file.metadata().ok().map(|m| m.len());
    let copy_file = File::create(copy).map_err(|e| Error::io(copy, e))?;
    let mut tee = Tee {
        inner: file,
        hash: Sha256::new(),
        copy: std::io::BufWriter::with_capacity(1 << 20, copy_file),
        copy_error: None,
        done: 0,
        total,
        progress,
        cancel,
    };
    let mut head = [0u8; 64];
    let mut filled = 0;
    while filled < head.len() {
        let n = tee
            .read(&mut head[filled..])
            .map_err(|e| io_or_cancel(path, e, cancel))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    let head = &head[..filled];
    let packing = detect(head)?;
    let rest = std::io::Cursor::new(head.to_vec()).chain(&mut tee);
    let (format, totals) = match packing {
        Packing::Plain(format) => {
            let reader = BufReader::with_capacity(1 << 20, rest);
            (format, parse(format, reader, cancel, path)?)
        }
        Packing::Gzip => {
            // Counted after unpacking: a few MB of gzip can unpack to gigabytes.
            let decoder = Unpacked {
                inner: flate2::read::MultiGzDecoder::new(rest),
                left: MAX_BILL_BYTES,
            };
            let mut reader = BufReader::with_capacity(1 << 20, decoder);
            let inner = reader
                .fill_buf()
                .map_err(|e| Error::ImportFormat(format!("the gzip stream is damaged ({e})")))?;
            let Packing::Plain(format) = detect(inner)? else {
                return Err(Error::ImportFormat("a packed file inside the gzip".into()));
            };
            (format, parse(format, reader, cancel, path)?)
        }
        Packing::Zip => {
            let too_large = || {
                Error::TooLarge(format!(
                    "{}: a zipped statement larger than {} MB is refused; unzip it and import the CSV inside",
                    path.display(),
                    MAX_BILL_IN_MEMORY >> 20
                ))
            };
            if total.is_some_and(|n| n > MAX_BILL_IN_MEMORY) {
                return Err(too_large());
            }
            let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize + 1);
            bytes.extend_from_slice(head);
            (&mut tee)
                .take(MAX_BILL_IN_MEMORY + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| io_or_cancel(path, e, cancel))?;
            if bytes.len() as u64 > MAX_BILL_IN_MEMORY {
                return Err(too_large());
            }
            let csv = crate::channels::alipay::business_detail_csv(&bytes)
                .map_err(|e| Error::ImportFormat(e.to_string()))?;
            let format = StatementFormat::AlipayDetail;
            (format, parse(format, csv.gbk.as_slice(), cancel, path)?)
        }
    };
    // Hash and copy whatever the parser did not need to read (a gzip trailer).
    std::io::copy(&mut tee, &mut std::io::sink()).map_err(|e| io_or_cancel(path, e, cancel))?;
    tee.copy.flush().map_err(|e| Error::io(copy, e))?;
    if let Some(e) = tee.copy_error.take() {
        return Err(Error::io(copy, e));
    }
    let sha = hex::encode(tee.hash.finalize());
    Ok((format, totals, sha, packing))
}

fn io_or_cancel(path: &Path, e: std::io::Error, cancel: &CancelToken) -> Error {
    if cancel.is_cancelled() {
        Error::Cancelled
    } else {
        Error::io(path, e)
    }
}

fn parse(
    format: StatementFormat,
    reader: impl BufRead,
    cancel: &CancelToken,
    path: &Path,
) -> Result<StatementTotals> {
    read_statement(format, reader, |_| Ok(())).map_err(|e| match e {
        _ if cancel.is_cancelled() => Error::Cancelled,
        Error::Io(m) if m.contains("larger than") => {
            Error::TooLarge(format!("{}: {m}", path.display()))
        }
        Error::TooLarge(m) => Error::TooLarge(format!("{}: {m}", path.display())),
        other => other,
    })
}

fn extension(packing: Packing, format: StatementFormat) -> &'static str {
    match (packing, format) {
        (Packing::Zip, _) => "csv.zip",
        (Packing::Gzip, _) => "csv.gz",
        _ => "csv",
    }
}

/// An Alipay statement names its Alipay account (`#账号：[...]`), which is not the app id the
/// account is configured with: the first statement teaches it (a bill downloaded through the
/// API is the account's own; so is, by trust, the first one imported), and from then on a
/// file of another Alipay account is refused. A file that names none is refused too.
async fn alipay_account_matches(
    desk: &FeeDesk,
    account: &CollectionAccount,
    file_name: &str,
    theirs: Option<&str>,
) -> Result<()> {
    let known: Option<Option<String>> =
        sqlx::query_scalar("SELECT statement_account FROM channel_settings WHERE account_id = ?")
            .bind(account.id)
            .fetch_optional(desk.db().pool())
            .await?;
    let Some(known) = known else {
        // No channel keys configured: nothing to compare with.
        return Ok(());
    };
    let Some(theirs) = theirs else {
        return Err(Error::Validation(format!(
            "{file_name} does not say which Alipay account it is the bill of (no #账号 line); \
             download the bill through '{}' instead",
            account.name
        )));
    };
    match known {
        Some(ours) if ours != theirs => Err(Error::Validation(format!(
            "{file_name} is the bill of Alipay account {theirs}; '{}' is Alipay account {ours}; \
             import it into the account it belongs to",
            account.name
        ))),
        Some(_) => Ok(()),
        None => {
            let mut tx = desk.db().write().await?;
            sqlx::query(
                "UPDATE channel_settings SET statement_account = ?
                 WHERE account_id = ? AND statement_account IS NULL",
            )
            .bind(theirs)
            .bind(account.id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    desk: &FeeDesk,
    account: &CollectionAccount,
    file_name: &str,
    copy: &Path,
    format: StatementFormat,
    totals: StatementTotals,
    sha: &str,
    packing: Packing,
) -> Result<StatementImport> {
    if format.channel() != account.channel {
        return Err(Error::Validation(format!(
            "{file_name} is a {} statement and '{}' is a {} account; import it into the account it belongs to",
            format.as_str(),
            account.name,
            account.channel.as_str()
        )));
    }
    let merchant: Option<String> =
        sqlx::query_scalar("SELECT merchant_id FROM channel_settings WHERE account_id = ?")
            .bind(account.id)
            .fetch_optional(desk.db().pool())
            .await?;
    if let (Some(ours), Some(theirs)) = (merchant, totals.merchant_id.as_deref())
        && format == StatementFormat::WechatTrade
        && ours != theirs
    {
        return Err(Error::Validation(format!(
            "{file_name} is the statement of merchant {theirs}; '{}' is merchant {ours}",
            account.name
        )));
    }
    if format != StatementFormat::WechatTrade {
        alipay_account_matches(desk, account, file_name, totals.merchant_id.as_deref()).await?;
    }
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let existing: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT s.id, s.account_id, a.name FROM statements s JOIN collection_accounts a ON a.id = s.account_id WHERE sha256 = ?",
    )
    .bind(sha)
    .fetch_optional(desk.db().pool())
    .await?;
    let mut report = StatementImport {
        statement_id: 0,
        account: account.name.clone(),
        format,
        file: file_name.to_string(),
        sha256: sha.to_string(),
        lines_read: totals.lines_read,
        payments: totals.payments,
        refunds: totals.refunds,
        new: 0,
        duplicate_lines: totals.payments + totals.refunds,
        duplicate_file: true,
        first_day: day(totals.first_day),
        last_day: day(totals.last_day),
    };
    if let Some((id, account_id, name)) = existing {
        if account_id != account.id {
            return Err(Error::Conflict(format!(
                "{file_name} was already imported into account '{name}' (statement {id})"
            )));
        }
        report.statement_id = id;
        return Ok(report);
    }
    let stored =
        PathBuf::from(STATEMENTS_DIR).join(format!("{sha}.{}", extension(packing, format)));
    let known = known_lines(desk, account.id, &totals).await?;
    let new = match &known {
        None => totals.payments + totals.refunds,
        Some(keys) => {
            let mut new = 0;
            each_line(copy, format, packing, |line| {
                if !keys.contains(&line.key()) {
                    new += 1;
                }
                Ok(())
            })?;
            new
        }
    };
    let target = desk.data_dir().join(&stored);
    std::fs::rename(copy, &target).map_err(|e| Error::io(&target, e))?;
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO statements (account_id, sha256, format, file_name, stored_path, lines, payments,
             refunds, first_day, last_day, imported_at, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(account.id)
    .bind(sha)
    .bind(format.as_str())
    .bind(file_name)
    .bind(stored.to_string_lossy().replace('\\', "/"))
    .bind(totals.lines_read as i64)
    .bind(totals.payments as i64)
    .bind(totals.refunds as i64)
    .bind(&report.first_day)
    .bind(&report.last_day)
    .bind(&now)
    .bind(desk.actor())
    .fetch_one(&mut *tx)
    .await?;
    report.statement_id = id;
    report.new = new;
    report.duplicate_lines = totals.payments + totals.refunds - new;
    report.duplicate_file = false;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "statement.import",
            entity: "statement",
            entity_id: id.to_string(),
            before: None,
            after: Some(json!(report)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// The line keys of the account's earlier statements overlapping `totals`' days, or `None`
/// when there are none (the common case, which costs nothing).
async fn known_lines(
    desk: &FeeDesk,
    account_id: i64,
    totals: &StatementTotals,
) -> Result<Option<FxHashSet<String>>> {
    let (Some(first), Some(last)) = (totals.first_day, totals.last_day) else {
        return Ok(None);
    };
    let overlapping = stored_statements(desk, account_id, first, last).await?;
    if overlapping.is_empty() {
        return Ok(None);
    }
    let mut keys = FxHashSet::default();
    for s in overlapping {
        each_line(
            &desk.data_dir().join(&s.stored_path),
            s.format,
            s.packing(),
            |line| {
                keys.insert(line.key());
                Ok(())
            },
        )?;
    }
    Ok(Some(keys))
}

/// An imported statement as stored.
#[derive(Debug, Clone)]
pub(crate) struct StoredStatement {
    pub id: i64,
    pub format: StatementFormat,
    pub stored_path: String,
    /// Its payment and refund lines (to size buffers).
    pub lines: u64,
}

impl StoredStatement {
    fn packing(&self) -> Packing {
        if self.stored_path.ends_with(".zip") {
            Packing::Zip
        } else if self.stored_path.ends_with(".gz") {
            Packing::Gzip
        } else {
            Packing::Plain(self.format)
        }
    }
}

/// The account's statements with lines on days within `[from, to]`, oldest import first.
pub(crate) async fn stored_statements(
    desk: &FeeDesk,
    account_id: i64,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<StoredStatement>> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT id, format, stored_path, payments + refunds FROM statements
         WHERE account_id = ? AND first_day <= ? AND last_day >= ? ORDER BY id",
    )
    .bind(account_id)
    .bind(to.format("%Y-%m-%d").to_string())
    .bind(from.format("%Y-%m-%d").to_string())
    .fetch_all(desk.db().pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, format, stored_path, lines)| StoredStatement {
            id,
            format: if format == "alipay-detail" {
                StatementFormat::AlipayDetail
            } else {
                StatementFormat::WechatTrade
            },
            stored_path,
            lines: lines.max(0) as u64,
        })
        .collect())
}

/// Streams every line of a stored statement to `each`.
pub(crate) fn stored_lines(
    desk: &FeeDesk,
    s: &StoredStatement,
    each: impl FnMut(super::statement::StatementLine) -> Result<()>,
) -> Result<StatementTotals> {
    each_line(
        &desk.data_dir().join(&s.stored_path),
        s.format,
        s.packing(),
        each,
    )
}

fn each_line(
    path: &Path,
    format: StatementFormat,
    packing: Packing,
    each: impl FnMut(super::statement::StatementLine) -> Result<()>,
) -> Result<StatementTotals> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let stored = |e: Error| {
        Error::Internal(format!(
            "the stored statement {} cannot be read again: {e}",
            path.display()
        ))
    };
    match packing {
        Packing::Plain(_) => read_statement(format, BufReader::with_capacity(1 << 20, file), each),
        Packing::Gzip => read_statement(
            format,
            BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(file)),
            each,
        ),
        Packing::Zip => {
            let mut bytes = vec![];
            let mut file = file;
            file.read_to_end(&mut bytes)
                .map_err(|e| Error::io(path, e))?;
            let csv = crate::channels::alipay::business_detail_csv(&bytes)?;
            read_statement(format, csv.gbk.as_slice(), each)
        }
    }
    .map_err(stored)
}
