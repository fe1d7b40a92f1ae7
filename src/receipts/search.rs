//! Finding receipts: by member, class, term, date range, number, payment or bill.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::content::ReceiptKind;
use crate::clock::LOCAL_OFFSET;
use crate::money::Money;
use crate::org::{find_class, find_term};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A receipt as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Receipt {
    pub id: i64,
    pub number: String,
    pub kind: ReceiptKind,
    /// `issued` (valid), `voided` (reversed by a 红冲 record), or `reversal` (the 红冲 record).
    pub status: String,
    pub store: String,
    pub member_no: String,
    pub member_name: String,
    pub payer: String,
    pub class: Option<String>,
    pub term: Option<String>,
    pub fee_item: String,
    /// Negative on a reversal.
    pub amount: Money,
    /// RFC 3339 UTC.
    pub issued_at: String,
    pub operator: String,
    pub payment_id: i64,
    pub bill_id: i64,
    /// A reversal: the receipt it cancels; a reissue: the one it replaces.
    pub original: Option<String>,
    /// The reversal that voided this receipt.
    pub reversed_by: Option<String>,
    pub note: Option<String>,
    /// The archived PDF's SHA-256; `None` while the PDF is pending.
    pub sha256: Option<String>,
    /// The record's chain hash (what the QR code carries).
    pub hash: String,
}

/// What to look for; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptFilter {
    /// A member number (in any store).
    pub member_no: Option<String>,
    /// A class: `NAME` or `STORE/NAME`.
    pub class_name: Option<String>,
    pub term_name: Option<String>,
    /// Issued on or after this local date.
    pub from: Option<NaiveDate>,
    /// Issued on or before this local date.
    pub to: Option<NaiveDate>,
    /// Part of a receipt number, or a member's name.
    pub search: Option<String>,
    pub payment_id: Option<i64>,
    pub bill_id: Option<i64>,
}

/// A page of receipts, newest first, with the count of all that match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptPage {
    pub total: u64,
    pub offset: u64,
    pub receipts: Vec<Receipt>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    number: String,
    kind: String,
    store: String,
    member_no: String,
    member_name: String,
    payer: String,
    class: Option<String>,
    term: Option<String>,
    fee_item: String,
    amount_fen: i64,
    issued_at: String,
    operator: String,
    payment_id: i64,
    bill_id: i64,
    original: Option<String>,
    reversed_by: Option<String>,
    note: Option<String>,
    sha256: Option<String>,
    hash: String,
}

const SELECT: &str = "SELECT r.id, r.number, r.kind, u.code AS store, m.member_no,
        json_extract(r.content_json, '$.member_name') AS member_name,
        json_extract(r.content_json, '$.payer') AS payer,
        c.name AS class, t.name AS term,
        json_extract(r.content_json, '$.fee_item') AS fee_item,
        r.amount_fen, r.issued_at, r.actor AS operator, r.payment_id, r.bill_id,
        json_extract(r.content_json, '$.original') AS original,
        v.number AS reversed_by,
        json_extract(r.content_json, '$.note') AS note,
        f.sha256, r.hash
     FROM receipts r
     JOIN units u ON u.id = r.unit_id
     JOIN members m ON m.id = r.member_id
     LEFT JOIN classes c ON c.id = r.class_id
     LEFT JOIN terms t ON t.id = r.term_id
     LEFT JOIN receipts v ON v.original_id = r.id
     LEFT JOIN receipt_files f ON f.receipt_id = r.id";

enum Param {
    Int(i64),
    Text(String),
}

/// The UTC instant a local date starts at, as stored text.
fn local_day_start(date: NaiveDate) -> String {
    let start = date
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(LOCAL_OFFSET).single())
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_default();
    start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn clauses(desk: &FeeDesk, f: &ReceiptFilter) -> Result<(String, Vec<Param>)> {
    let mut clauses: Vec<&str> = vec![];
    let mut params = vec![];
    let given = |o: &Option<String>| o.as_deref().map(normalize).filter(|s| !s.is_empty());
    if let Some(no) = given(&f.member_no) {
        clauses.push("m.member_no = ?");
        params.push(Param::Text(no));
    }
    if let Some(class) = given(&f.class_name) {
        let (store, name) = match class.split_once('/') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, class.clone()),
        };
        let class = find_class(desk, &name, store.as_deref(), f.term_name.as_deref()).await?;
        clauses.push("r.class_id = ?");
        params.push(Param::Int(class.id));
    }
    if let Some(term) = given(&f.term_name) {
        let term = find_term(desk, &term).await?;
        clauses.push("r.term_id = ?");
        params.push(Param::Int(term.id));
    }
    if let (Some(from), Some(to)) = (f.from, f.to)
        && from > to
    {
        return Err(Error::Validation(format!(
            "the date range is empty: {from} is after {to}"
        )));
    }
    if let Some(from) = f.from {
        clauses.push("r.issued_at >= ?");
        params.push(Param::Text(local_day_start(from)));
    }
    if let Some(to) = f.to.and_then(|d| d.succ_opt()) {
        clauses.push("r.issued_at < ?");
        params.push(Param::Text(local_day_start(to)));
    }
    if let Some(search) = given(&f.search) {
        clauses.push(
            "(r.number LIKE ? ESCAPE '\\' OR json_extract(r.content_json, '$.member_name') LIKE ? ESCAPE '\\')",
        );
        let escaped = search
            .to_ascii_uppercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        params.push(Param::Text(format!("%{escaped}%")));
        params.push(Param::Text(format!("%{escaped}%")));
    }
    if let Some(id) = f.payment_id {
        clauses.push("r.payment_id = ?");
        params.push(Param::Int(id));
    }
    if let Some(id) = f.bill_id {
        clauses.push("r.bill_id = ?");
        params.push(Param::Int(id));
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    Ok((sql, params))
}

fn bind<'q>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Sqlite, Row, sqlx::sqlite::SqliteArguments>,
    params: &'q [Param],
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, Row, sqlx::sqlite::SqliteArguments> {
    for p in params {
        q = match p {
            Param::Int(i) => q.bind(*i),
            Param::Text(t) => q.bind(t.as_str()),
        };
    }
    q
}

fn to_receipt(r: Row) -> Result<Receipt> {
    let kind = ReceiptKind::parse(&r.kind)
        .ok_or_else(|| Error::Internal(format!("receipt {}: unknown kind", r.number)))?;
    let status = match (kind, &r.reversed_by) {
        (ReceiptKind::Reversal, _) => "reversal",
        (ReceiptKind::Receipt, Some(_)) => "voided",
        (ReceiptKind::Receipt, None) => "issued",
    };
    Ok(Receipt {
        id: r.id,
        number: r.number,
        kind,
        status: status.into(),
        store: r.store,
        member_no: r.member_no,
        member_name: r.member_name,
        payer: r.payer,
        class: r.class,
        term: r.term,
        fee_item: r.fee_item,
        amount: Money::from_fen(r.amount_fen)?,
        issued_at: r.issued_at,
        operator: r.operator,
        payment_id: r.payment_id,
        bill_id: r.bill_id,
        original: r.original,
        reversed_by: r.reversed_by,
        note: r.note,
        sha256: r.sha256,
        hash: r.hash,
    })
}

/// Every receipt the filter matches, oldest first (numbering order).
pub async fn list_receipts(desk: &FeeDesk, filter: &ReceiptFilter) -> Result<Vec<Receipt>> {
    let (sql, params) = clauses(desk, filter).await?;
    let sql = format!("{SELECT}{sql} ORDER BY r.id");
    let rows = bind(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &params)
        .fetch_all(desk.db().pool())
        .await?;
    rows.into_iter().map(to_receipt).collect()
}

/// A page of the receipts the filter matches, newest first.
pub async fn receipt_page(
    desk: &FeeDesk,
    filter: &ReceiptFilter,
    offset: u64,
    limit: u64,
) -> Result<ReceiptPage> {
    let (sql, params) = clauses(desk, filter).await?;
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM receipts r JOIN members m ON m.id = r.member_id{sql}"
    )));
    for p in &params {
        count = match p {
            Param::Int(i) => count.bind(*i),
            Param::Text(t) => count.bind(t.as_str()),
        };
    }
    let total = count.fetch_one(desk.db().pool()).await?;
    let limit = limit.clamp(1, 1000) as i64;
    let page_sql = format!(
        "{SELECT}{sql} ORDER BY r.id DESC LIMIT {limit} OFFSET {}",
        offset.min(i64::MAX as u64)
    );
    let rows = bind(sqlx::query_as(sqlx::AssertSqlSafe(page_sql)), &params)
        .fetch_all(desk.db().pool())
        .await?;
    Ok(ReceiptPage {
        total: total.max(0) as u64,
        offset,
        receipts: rows.into_iter().map(to_receipt).collect::<Result<_>>()?,
    })
}

/// One receipt by number.
pub async fn get_receipt(desk: &FeeDesk, number: &str) -> Result<Receipt> {
    let number = normalize(number).to_ascii_uppercase();
    let row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE r.number = ?")))
        .bind(&number)
        .fetch_optional(desk.db().pool())
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no receipt {number}; `feedesk receipt list` shows them"
            ))
        })?;
    to_receipt(row)
}

/// A receipt with everything it prints, for a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptDetail {
    pub receipt: Receipt,
    pub content: super::ReceiptContent,
    /// What the printed QR code carries (number and record hash).
    pub qr_text: String,
}

/// One receipt by number, with its printed content.
pub async fn receipt_detail(desk: &FeeDesk, number: &str) -> Result<ReceiptDetail> {
    let receipt = get_receipt(desk, number).await?;
    let json: String = sqlx::query_scalar("SELECT content_json FROM receipts WHERE id = ?")
        .bind(receipt.id)
        .fetch_one(desk.db().pool())
        .await?;
    let content = serde_json::from_str(&json).map_err(|e| {
        Error::Internal(format!(
            "receipt {}: unreadable record: {e}",
            receipt.number
        ))
    })?;
    let qr_text = super::content::qr_text(&receipt.number, &receipt.hash);
    Ok(ReceiptDetail {
        receipt,
        content,
        qr_text,
    })
}
