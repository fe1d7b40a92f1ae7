//! Bills: one per member per plan. Listing with filters and totals, one bill's detail with its
//! payments, and voiding an unpaid bill.

use serde::Serialize;
use serde_json::json;

use super::payments::{bill_state, fee_code};
use crate::audit::{self, Entry};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::org::{find_class, find_term, subtree_ids};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// A bill as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Bill {
    pub id: i64,
    /// The plan's id.
    pub plan: i64,
    pub fee: String,
    pub member_no: String,
    pub member_name: String,
    pub unit_code: String,
    pub gross: Money,
    pub discount: Money,
    pub amount_due: Money,
    pub amount_paid: Money,
    pub amount_refunded: Money,
    pub outstanding: Money,
    /// open, partial, paid, voided or refunded.
    pub status: String,
    pub due_date: String,
    pub account_id: i64,
    pub account: String,
    pub allow_partial: bool,
    pub note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BillRow {
    id: i64,
    plan: i64,
    fee: String,
    member_no: String,
    member_name: String,
    unit_code: String,
    gross_fen: i64,
    discount_fen: i64,
    due_fen: i64,
    paid_fen: i64,
    refunded_fen: i64,
    status: String,
    due_on: String,
    account_id: i64,
    account: String,
    allow_partial: bool,
    note: Option<String>,
}

impl TryFrom<BillRow> for Bill {
    type Error = Error;
    fn try_from(r: BillRow) -> Result<Bill> {
        let open = matches!(r.status.as_str(), "open" | "partial");
        Ok(Bill {
            id: r.id,
            plan: r.plan,
            fee: r.fee,
            member_no: r.member_no,
            member_name: r.member_name,
            unit_code: r.unit_code,
            gross: Money::from_fen(r.gross_fen)?,
            discount: Money::from_fen(r.discount_fen)?,
            amount_due: Money::from_fen(r.due_fen)?,
            amount_paid: Money::from_fen(r.paid_fen)?,
            amount_refunded: Money::from_fen(r.refunded_fen)?,
            outstanding: Money::from_fen(if open { r.due_fen - r.paid_fen } else { 0 })?,
            status: r.status,
            due_date: r.due_on,
            account_id: r.account_id,
            account: r.account,
            allow_partial: r.allow_partial,
            note: r.note,
        })
    }
}

/// Which bills to list.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BillFilter {
    /// Bills in the books of this unit's subtree.
    pub unit_code: Option<String>,
    /// Bills of plans for this term.
    pub term_name: Option<String>,
    /// A class (`NAME` or `STORE/NAME`): its plans' bills, and the term- and unit-wide bills
    /// of its members.
    pub class_name: Option<String>,
    pub status: Option<String>,
    pub plan_id: Option<i64>,
    /// A member number prefix or part of a name.
    pub search: Option<String>,
}

/// A page of bills, with the count and totals of everything the filter matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BillPage {
    pub total: u64,
    /// How many of `total` are voided: the dashboard counts bills without them, so the window
    /// says which count it shows.
    pub voided: u64,
    pub offset: u64,
    pub amount_due: Money,
    pub amount_paid: Money,
    pub amount_refunded: Money,
    pub outstanding: Money,
    pub bills: Vec<Bill>,
}

pub(crate) const STATUSES: [&str; 5] = ["open", "partial", "paid", "voided", "refunded"];

const FROM: &str = "FROM bills b
     JOIN members m ON m.id = b.member_id
     JOIN units u ON u.id = b.unit_id
     JOIN fee_plans p ON p.id = b.plan_id
     JOIN fee_items f ON f.id = p.fee_item_id
     JOIN collection_accounts a ON a.id = p.account_id";

const COLUMNS: &str = "b.id, b.plan_id AS plan, f.name AS fee, m.member_no, m.name AS member_name,
     u.code AS unit_code, b.gross_fen, b.discount_fen, b.due_fen, b.paid_fen, b.refunded_fen,
     b.status, b.due_on, p.account_id, a.name AS account, p.allow_partial = 1 AS allow_partial, b.note";

/// How a query reads the bills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Sums everything that matches.
    Totals,
    /// Takes the first rows in id order.
    Rows,
}

/// A filter resolved against the database once (subtree, term, class), to be written as the
/// WHERE clause each query of a page needs.
struct Conditions {
    /// The subtree's unit ids, and whether they are every unit there is.
    units: Option<(Vec<i64>, bool)>,
    /// The other clauses, and their parameters in order.
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Conditions {
    /// The WHERE clause and its parameters for `reading`.
    fn sql(&self, reading: Reading) -> (String, Vec<Param>) {
        let mut clauses = vec![];
        let mut params = vec![];
        if let Some((ids, all)) = &self.units {
            // For the first rows in id order: one store's bills come from its index; several
            // units' are found walking the bills in id order (the `+` keeps SQLite from
            // fetching every bill of the subtree through the index only to sort them); the
            // whole tree needs no condition at all.
            let clause = match (reading, ids.len()) {
                (Reading::Rows, _) if *all => None,
                (Reading::Rows, n) if n > 1 => {
                    Some("+b.unit_id IN (SELECT value FROM json_each(?))")
                }
                _ => Some("b.unit_id IN (SELECT value FROM json_each(?))"),
            };
            if let Some(clause) = clause {
                clauses.push(clause.to_string());
                params.push(Param::Text(serde_json::to_string(ids).unwrap_or_default()));
            }
        }
        clauses.extend(self.clauses.iter().cloned());
        params.extend(self.params.iter().cloned());
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (sql, params)
    }
}

/// Resolves the filter: the subtree, the term and the class it names.
async fn conditions(desk: &FeeDesk, filter: &BillFilter) -> Result<Conditions> {
    let mut clauses: Vec<String> = vec![];
    let mut params = vec![];
    let mut units = None;
    if let Some(code) = filter.unit_code.as_deref().filter(|c| !c.trim().is_empty()) {
        let ids = subtree_ids(desk, code).await?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM units")
            .fetch_one(desk.db().pool())
            .await?;
        let all = ids.len() as i64 == count;
        units = Some((ids, all));
    }
    if let Some(term) = filter.term_name.as_deref().filter(|t| !t.trim().is_empty()) {
        let term = find_term(desk, term).await?;
        clauses.push("p.term_id = ?".into());
        params.push(Param::Int(term.id));
    }
    if let Some(class) = filter
        .class_name
        .as_deref()
        .filter(|c| !c.trim().is_empty())
    {
        let text = normalize(class);
        let (store, name) = match text.split_once('/') {
            Some((s, n)) => (Some(s.to_string()), n.to_string()),
            None => (None, text.clone()),
        };
        let class = find_class(desk, &name, store.as_deref(), None).await?;
        clauses.push(
            "(p.class_id = ? OR (p.target_kind <> 'class'
                AND b.member_id IN (SELECT member_id FROM enrolments WHERE class_id = ?)))"
                .into(),
        );
        params.push(Param::Int(class.id));
        params.push(Param::Int(class.id));
    }
    if let Some(status) = filter.status.as_deref().filter(|s| !s.trim().is_empty()) {
        let status = status.trim().to_ascii_lowercase();
        if !STATUSES.contains(&status.as_str()) {
            return Err(Error::Validation(format!(
                "'{status}' is not a bill status; use open, partial, paid, voided or refunded"
            )));
        }
        clauses.push("b.status = ?".into());
        params.push(Param::Text(status));
    }
    if let Some(plan) = filter.plan_id {
        clauses.push("b.plan_id = ?".into());
        params.push(Param::Int(plan));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(normalize)
        .filter(|s| !s.is_empty())
    {
        clauses.push("(m.member_no LIKE ? ESCAPE '\\' OR m.name LIKE ? ESCAPE '\\')".into());
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        params.push(Param::Text(format!("{escaped}%")));
        params.push(Param::Text(format!("%{escaped}%")));
    }
    Ok(Conditions {
        units,
        clauses,
        params,
    })
}

#[derive(Clone)]
enum Param {
    Int(i64),
    Text(String),
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments>,
    params: &'q [Param],
) -> sqlx::query::QueryAs<'q, sqlx::Sqlite, O, sqlx::sqlite::SqliteArguments> {
    for p in params {
        q = match p {
            Param::Int(i) => q.bind(*i),
            Param::Text(t) => q.bind(t.as_str()),
        };
    }
    q
}

/// Every bill the filter matches, in the order issued.
pub async fn list_bills(desk: &FeeDesk, filter: &BillFilter) -> Result<Vec<Bill>> {
    Ok(bill_page(desk, filter, 0, u32::MAX).await?.bills)
}

/// One page of the bills the filter matches, with their count and totals.
pub async fn bill_page(
    desk: &FeeDesk,
    filter: &BillFilter,
    offset: u64,
    limit: u32,
) -> Result<BillPage> {
    let conditions = conditions(desk, filter).await?;
    let (where_sql, params) = conditions.sql(Reading::Totals);
    let by_unit_and_status_only = filter
        .term_name
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
        && filter
            .class_name
            .as_deref()
            .is_none_or(|c| c.trim().is_empty())
        && filter.plan_id.is_none()
        && filter.search.as_deref().is_none_or(|s| s.trim().is_empty());
    // The totals: from the running totals when the filter is only by unit and status (the
    // conditions name b.unit_id and b.status, which bill_totals has too), else by scanning the
    // matching bills with only the joins the conditions need.
    let totals_sql = if by_unit_and_status_only {
        format!(
            "SELECT coalesce(sum(b.bills), 0),
                    coalesce(sum(CASE WHEN b.status <> 'voided' THEN b.due_fen END), 0),
                    coalesce(sum(b.paid_fen), 0), coalesce(sum(b.refunded_fen), 0),
                    coalesce(sum(CASE WHEN b.status IN ('open', 'partial') THEN b.due_fen - b.paid_fen END), 0),
                    coalesce(sum(CASE WHEN b.status = 'voided' THEN b.bills END), 0)
             FROM bill_totals b {where_sql}"
        )
    } else {
        format!(
            "SELECT count(*), coalesce(sum(CASE WHEN b.status <> 'voided' THEN b.due_fen END), 0),
                    coalesce(sum(b.paid_fen), 0), coalesce(sum(b.refunded_fen), 0),
                    coalesce(sum(CASE WHEN b.status IN ('open', 'partial') THEN b.due_fen - b.paid_fen END), 0),
                    count(CASE WHEN b.status = 'voided' THEN 1 END)
             FROM bills b JOIN fee_plans p ON p.id = b.plan_id JOIN members m ON m.id = b.member_id
             {where_sql}"
        )
    };
    let (total, due, paid, refunded, outstanding, voided): (i64, i64, i64, i64, i64, i64) =
        bind_all(sqlx::query_as(sqlx::AssertSqlSafe(totals_sql)), &params)
            .fetch_one(desk.db().pool())
            .await?;
    // In the order bills were issued (within a plan: by store, then member
    // number), which the primary key gives without sorting a million rows.
    let (where_sql, params) = conditions.sql(Reading::Rows);
    let rows_sql = format!(
        "SELECT {COLUMNS} {FROM} {where_sql} ORDER BY b.id LIMIT {} OFFSET {}",
        i64::from(limit),
        offset.min(i64::MAX as u64)
    );
    let rows: Vec<BillRow> = bind_all(sqlx::query_as(sqlx::AssertSqlSafe(rows_sql)), &params)
        .fetch_all(desk.db().pool())
        .await?;
    Ok(BillPage {
        total: total as u64,
        voided: voided as u64,
        offset,
        amount_due: Money::from_fen(due)?,
        amount_paid: Money::from_fen(paid)?,
        amount_refunded: Money::from_fen(refunded)?,
        outstanding: Money::from_fen(outstanding)?,
        bills: rows
            .into_iter()
            .map(Bill::try_from)
            .collect::<Result<_>>()?,
    })
}

/// A payment on a bill, with what was refunded of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BillPayment {
    pub payment_id: i64,
    pub amount: Money,
    pub refunded: Money,
    pub account: String,
    pub channel: String,
    pub reference: Option<String>,
    pub received_at: String,
}

/// One bill and its payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BillDetail {
    pub bill: Bill,
    pub payments: Vec<BillPayment>,
}

/// A bill with its payments.
pub async fn get_bill(desk: &FeeDesk, bill_id: i64) -> Result<BillDetail> {
    let row: BillRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} {FROM} WHERE b.id = ?"
    )))
    .bind(bill_id)
    .fetch_optional(desk.db().pool())
    .await?
    .ok_or_else(|| Error::NotFound(format!("no bill {bill_id}; `feedesk bill list` shows them")))?;
    // (id, amount, refunded, account, channel, reference, received at)
    type PaymentRow = (i64, i64, i64, String, String, Option<String>, String);
    let payments: Vec<PaymentRow> = sqlx::query_as(
        "SELECT p.id, p.amount_fen, p.refunded_fen, a.name, a.channel, p.reference, p.received_at
         FROM payments p JOIN collection_accounts a ON a.id = p.account_id
         WHERE p.bill_id = ? ORDER BY p.id",
    )
    .bind(bill_id)
    .fetch_all(desk.db().pool())
    .await?;
    Ok(BillDetail {
        bill: row.try_into()?,
        payments: payments
            .into_iter()
            .map(|(id, amount, refunded, account, channel, reference, at)| {
                Ok(BillPayment {
                    payment_id: id,
                    amount: Money::from_fen(amount)?,
                    refunded: Money::from_fen(refunded)?,
                    account,
                    channel,
                    reference,
                    received_at: at,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// Voids an unpaid bill with a reason, reversing its posting. Voiding a voided bill changes
/// nothing; a bill with money on it must be refunded first.
pub async fn void_bill(desk: &FeeDesk, bill_id: i64, reason: &str) -> Result<Bill> {
    let reason = crate::text::normalize_prose(reason);
    if reason.is_empty() {
        return Err(Error::Validation(
            "voiding a bill needs a reason (--reason)".into(),
        ));
    }
    let mut tx = desk.db().write().await?;
    let bill = bill_state(&mut tx, bill_id).await?;
    match bill.status.as_str() {
        "voided" => {
            drop(tx);
            return Ok(get_bill(desk, bill_id).await?.bill);
        }
        "open" => {}
        "refunded" => {
            return Err(Error::Validation(format!(
                "bill {bill_id} was refunded and is already closed"
            )));
        }
        _ if bill.paid_fen == 0 => {}
        _ => {
            return Err(Error::Validation(format!(
                "bill {bill_id} has {} paid on it; refund the payments first",
                Money::from_fen(bill.paid_fen)?
            )));
        }
    }
    let (gross, discount) = (bill.gross_fen, bill.discount_fen);
    let now = desk.now_text();
    sqlx::query(
        "UPDATE bills SET status = 'voided', void_reason = 'manual', closed_at = ?, note = ? WHERE id = ?",
    )
        .bind(&now)
        .bind(&reason)
        .bind(bill_id)
        .execute(&mut *tx)
        .await?;
    let mut journal = Journal::begin(&mut tx).await?;
    journal
        .post(
            &mut tx,
            Posting {
                unit_id: bill.unit_id,
                kind: "bill.void",
                bill_id: Some(bill_id),
                payment_id: None,
                refund_id: None,
                memo: format!("{} · {} · void: {reason}", bill.fee, bill.member_no),
                lines: vec![
                    Line::debit(fee_code(&bill), gross),
                    Line::credit(LedgerCode::Receivable, bill.due_fen),
                    Line::credit(LedgerCode::Discounts, discount),
                ],
            },
        )
        .await?;
    journal.write(&mut tx, &now).await?;
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "bill.void",
            entity: "bill",
            entity_id: bill_id.to_string(),
            before: Some(json!({"status": bill.status})),
            after: Some(json!({"status": "voided", "reason": reason})),
        },
    )
    .await?;
    tx.commit().await?;
    // Checkpoints are ours to schedule (db/mod.rs): keep the log short through a day of
    // payments in a window that stays open.
    desk.db().checkpoint_in_background();
    Ok(get_bill(desk, bill_id).await?.bill)
}
