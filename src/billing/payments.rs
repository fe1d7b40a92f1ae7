//! Payments. Offline payments (cash, bank transfer with its reference) are recorded here; channel
//! payments arrive through the same core call from the channels module. A payment goes only into
//! the plan's designated collection account; partial payment only where the plan allows it; never
//! more than is owed. Each call carries an idempotency key, so a retry never charges twice.
//!
//! A call is a batch (one payment is a batch of one): everything it needs is loaded in a few
//! queries, each payment is decided in memory against the bills as the batch leaves them, and
//! the payments, bills, keys and journal entries are written together, all or nothing.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::SqliteConnection;

use super::accounts::{CollectionAccount, all_accounts, named, no_account};
use super::idempotency::Keys;
use super::rule::AmountRule;
use crate::audit::{self, Entry};
use crate::db::bulk::{Bind, execute_each};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// Money received against a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PaymentRequest {
    pub bill_id: i64,
    pub amount: Money,
    /// The collection account: its id or name.
    pub account: String,
    /// A bank transfer's reference (required for bank accounts), or a receipt number for cash.
    pub reference: Option<String>,
    /// The idempotency key.
    pub key: String,
}

/// A recorded payment and the bill's status right after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PaymentResult {
    pub payment_id: i64,
    pub bill_id: i64,
    pub amount: Money,
    /// The bill's status after the payment.
    pub status: String,
    pub amount_paid: Money,
    pub outstanding: Money,
    /// The receipt issued with the payment (`XH-2026-000123`), issued in the same transaction.
    #[serde(default)]
    pub receipt_no: Option<String>,
}

/// A bill with what the money rules need from its plan.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BillState {
    pub id: i64,
    pub unit_id: i64,
    pub member_no: String,
    pub status: String,
    pub gross_fen: i64,
    pub discount_fen: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub fee_item_id: i64,
    pub fee: String,
    pub account_id: i64,
    pub account: String,
    pub allow_partial: bool,
    pub rule: String,
    /// The member's discount on the plan, as stored (to reprice a tier bill).
    pub discount_kind: Option<String>,
    pub discount_value: Option<i64>,
}

const BILL_STATE: &str = "SELECT b.id, b.unit_id, m.member_no, b.status, b.gross_fen,
        b.discount_fen, b.due_fen, b.paid_fen, b.refunded_fen, p.fee_item_id, f.name AS fee,
        p.account_id, a.name AS account, p.allow_partial = 1 AS allow_partial, p.rule,
        d.kind AS discount_kind, d.value AS discount_value
     FROM bills b
     JOIN members m ON m.id = b.member_id
     JOIN fee_plans p ON p.id = b.plan_id
     LEFT JOIN plan_discounts d ON d.plan_id = b.plan_id AND d.member_id = b.member_id
     JOIN fee_items f ON f.id = p.fee_item_id
     JOIN collection_accounts a ON a.id = p.account_id";

fn no_bill(bill_id: i64) -> Error {
    Error::NotFound(format!("no bill {bill_id}; `feedesk bill list` shows them"))
}

pub(crate) async fn bill_state(conn: &mut SqliteConnection, bill_id: i64) -> Result<BillState> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{BILL_STATE} WHERE b.id = ?")))
        .bind(bill_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| no_bill(bill_id))
}

async fn bill_states(conn: &mut SqliteConnection, ids: &[i64]) -> Result<HashMap<i64, BillState>> {
    let json = serde_json::to_string(ids).map_err(|e| Error::Internal(e.to_string()))?;
    let rows: Vec<BillState> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{BILL_STATE} WHERE b.id IN (SELECT value FROM json_each(?))"
    )))
    .bind(json)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

pub(crate) fn fee_code(bill: &BillState) -> LedgerCode {
    LedgerCode::FeeIncome {
        fee_item_id: bill.fee_item_id,
        name: bill.fee.clone(),
    }
}

pub(crate) fn money_code(account: &CollectionAccount) -> LedgerCode {
    LedgerCode::Money {
        account_id: account.id,
        place: account.channel.ledger_place(),
        name: account.name.clone(),
    }
}

/// The postings that move `fen` between a bill's books and a collection account: in the bill's
/// unit, `counterpart` (receivable for a payment) against the money account; when the account
/// belongs to another unit (central collection), the money sits in that unit's books and each
/// side records what it owes the other (内部往来). For a refund, the same with the sides
/// swapped (`counterpart` is the refunds account).
#[allow(clippy::too_many_arguments)]
pub(crate) fn money_postings(
    kind: &'static str,
    bill: &BillState,
    account: &CollectionAccount,
    payment_id: Option<i64>,
    refund_id: Option<i64>,
    memo: String,
    counterpart: LedgerCode,
    fen: i64,
) -> Vec<Posting> {
    let inflow = kind == "payment";
    // (debit, credit) as money comes in; swapped as it goes back out.
    let pair = |money_side: LedgerCode, other: LedgerCode| {
        if inflow {
            vec![Line::debit(money_side, fen), Line::credit(other, fen)]
        } else {
            vec![Line::debit(other, fen), Line::credit(money_side, fen)]
        }
    };
    let posting = |unit_id, lines| Posting {
        unit_id,
        kind,
        bill_id: Some(bill.id),
        payment_id,
        refund_id,
        memo: memo.clone(),
        lines,
    };
    if account.unit_id == bill.unit_id {
        return vec![posting(
            bill.unit_id,
            pair(money_code(account), counterpart),
        )];
    }
    vec![
        posting(bill.unit_id, pair(LedgerCode::InterUnit, counterpart)),
        posting(
            account.unit_id,
            pair(money_code(account), LedgerCode::InterUnit),
        ),
    ]
}

/// Records one offline payment.
pub async fn record_payment(desk: &FeeDesk, req: &PaymentRequest) -> Result<PaymentResult> {
    let mut results = record_payments(desk, std::slice::from_ref(req)).await?;
    Ok(results.remove(0))
}

/// A payment decided in memory, to write.
struct NewPayment {
    id: i64,
    bill_id: i64,
    account_id: i64,
    amount_fen: i64,
    reference: Option<String>,
}

/// How the money arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Recorded by a person: only cash and bank accounts.
    ByHand,
    /// Confirmed by a channel's verified answer (the collection module): only channel accounts.
    Channel,
    /// Cash taken at the counter for a bill whose plan collects through a channel, because the
    /// channel is down: into a cash account of the bill's unit (or of the plan's account's
    /// unit), with a reason the audit log keeps, and never while the bill has a QR order that
    /// can still be paid.
    CashFallback,
}

/// Records offline payments in one transaction: all are recorded or, if any is refused, none
/// (the error names the bill). Used for a day's cash sheet or a bank statement.
pub async fn record_payments(
    desk: &FeeDesk,
    reqs: &[PaymentRequest],
) -> Result<Vec<PaymentResult>> {
    record(desk, reqs, Arrival::ByHand, None).await
}

/// Takes cash at the counter for a bill whose plan collects through WeChat Pay or Alipay, when
/// the channel cannot be used (down, or the payer cannot scan). `req.account` names a cash
/// account of the bill's unit (or of the unit that owns the plan's account); `reason` is
/// required and kept in the audit log (action `payment.cash_fallback`). Refused while the bill
/// has a QR order that can still be paid: close it first, or wait until it expires, so the
/// bill is never paid twice. The roles issue assigns who may do this.
pub async fn record_cash_fallback(
    desk: &FeeDesk,
    req: &PaymentRequest,
    reason: &str,
) -> Result<PaymentResult> {
    let reason = normalize(reason);
    if reason.is_empty() {
        return Err(Error::Validation(
            "cash taken instead of the channel needs a reason (why the channel could not be used)"
                .into(),
        ));
    }
    let mut results = record(
        desk,
        std::slice::from_ref(req),
        Arrival::CashFallback,
        Some(&reason),
    )
    .await?;
    Ok(results.remove(0))
}

/// Records a payment a channel confirmed: the same rules and books as a payment by hand, into
/// the plan's designated channel account; `req.reference` is the channel's transaction id and
/// `req.key` derives from our order number, so settling the same order twice records it once.
/// `price_day` is the day the payer was offered the amount (the day the order was opened),
/// which prices an early-bird tier.
pub(crate) async fn record_channel_payment(
    desk: &FeeDesk,
    req: &PaymentRequest,
    price_day: NaiveDate,
) -> Result<PaymentResult> {
    let mut results = record_on(
        desk,
        std::slice::from_ref(req),
        Arrival::Channel,
        None,
        price_day,
    )
    .await?;
    Ok(results.remove(0))
}

async fn record(
    desk: &FeeDesk,
    reqs: &[PaymentRequest],
    arrival: Arrival,
    fallback_reason: Option<&str>,
) -> Result<Vec<PaymentResult>> {
    let today = crate::clock::local_date(desk.clock().now());
    record_on(desk, reqs, arrival, fallback_reason, today).await
}

async fn record_on(
    desk: &FeeDesk,
    reqs: &[PaymentRequest],
    arrival: Arrival,
    fallback_reason: Option<&str>,
    price_day: NaiveDate,
) -> Result<Vec<PaymentResult>> {
    let mut tx = desk.db().write().await?;
    let now = desk.now_text();
    let mut keys = Keys::load(&mut tx, "payment", reqs.iter().map(|r| r.key.as_str())).await?;
    let mut ids: Vec<i64> = reqs.iter().map(|r| r.bill_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut bills = bill_states(&mut tx, &ids).await?;
    let accounts = all_accounts(&mut tx).await?;
    let mut next_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM payments")
        .fetch_one(&mut *tx)
        .await?;
    let mut references = known_references(&mut tx, reqs).await?;
    if arrival == Arrival::CashFallback {
        open_order_blocks(&mut tx, reqs, &now).await?;
    }

    let mut results = Vec::with_capacity(reqs.len());
    let mut payments = vec![];
    let mut postings = vec![];
    let mut touched = vec![];
    for req in reqs {
        let claim = match keys.check(&req.key, req)? {
            Ok(first) => {
                results.push(first);
                continue;
            }
            Err(claim) => claim,
        };
        let bill = bills
            .get_mut(&req.bill_id)
            .ok_or_else(|| no_bill(req.bill_id));
        let decided = bill.and_then(|bill| {
            let ctx = Decide {
                accounts: &accounts,
                arrival,
                payment_id: next_id,
                price_day,
            };
            decide(bill, &ctx, req, &mut references, &mut postings).map(|(payment, result)| {
                touched.push(bill.id);
                (payment, result)
            })
        });
        let (payment, result) = decided.map_err(|e| in_batch(e, reqs.len(), req.bill_id))?;
        next_id += 1;
        keys.complete(claim, &result)?;
        payments.push(payment);
        results.push(result);
    }

    execute_each(
        &mut tx,
        "INSERT INTO payments (id, bill_id, account_id, amount_fen, reference, received_at, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        payments.iter().map(|p| {
            [
                Bind::Int(p.id),
                Bind::Int(p.bill_id),
                Bind::Int(p.account_id),
                Bind::Int(p.amount_fen),
                p.reference.as_deref().into(),
                Bind::Text(&now),
                Bind::Text(desk.actor()),
            ]
        }),
    )
    .await?;
    // One receipt per payment, in this transaction: numbered, chained, printed after commit.
    let issued = crate::receipts::issue::issue(
        &mut tx,
        &now,
        desk.actor(),
        &payments
            .iter()
            .map(|p| crate::receipts::issue::ToIssue::Payment {
                payment_id: p.id,
                replaces: None,
                note: None,
            })
            .collect::<Vec<_>>(),
    )
    .await?;
    let numbers: HashMap<i64, String> = issued
        .iter()
        .map(|r| (r.payment_id, r.number.clone()))
        .collect();
    // The results (and what a retry under the same key returns) carry the receipt number.
    for (req, result) in reqs.iter().zip(results.iter_mut()) {
        if let Some(number) = numbers.get(&result.payment_id) {
            result.receipt_no = Some(number.clone());
            keys.restate(&req.key, result)?;
        }
    }
    crate::fault::point("payment.after_receipts");
    touched.sort_unstable();
    touched.dedup();
    execute_each(
        &mut tx,
        "UPDATE bills SET discount_fen = ?1, gross_fen = ?2, due_fen = ?3, paid_fen = ?4,
                status = ?5, closed_at = CASE WHEN ?5 = 'paid' THEN ?6 ELSE closed_at END
         WHERE id = ?7",
        touched.iter().filter_map(|id| bills.get(id)).map(|b| {
            [
                // An early-bird bill repriced at payment recomputes its discount.
                Bind::Int(b.discount_fen),
                Bind::Int(b.gross_fen),
                Bind::Int(b.due_fen),
                Bind::Int(b.paid_fen),
                Bind::Text(&b.status),
                Bind::Text(&now),
                Bind::Int(b.id),
            ]
        }),
    )
    .await?;
    keys.write(&mut tx, &now).await?;
    let mut journal = Journal::begin(&mut tx).await?;
    for posting in postings {
        journal.post(&mut tx, posting).await?;
    }
    crate::fault::point("payment.before_journal");
    journal.write(&mut tx, &now).await?;
    if !payments.is_empty() {
        let total = payments.iter().map(|p| p.amount_fen).sum::<i64>();
        let (action, entity_id, after) = if let Some(reason) = fallback_reason {
            let result = results.iter().find(|r| r.payment_id == payments[0].id);
            (
                "payment.cash_fallback",
                payments[0].id.to_string(),
                json!({"payment": result, "request": reqs.first(), "reason": reason}),
            )
        } else if payments.len() == 1 {
            let req = reqs.iter().find(|r| r.bill_id == payments[0].bill_id);
            let result = results.iter().find(|r| r.payment_id == payments[0].id);
            (
                "payment.record",
                payments[0].id.to_string(),
                json!({"payment": result, "request": req}),
            )
        } else {
            (
                "payment.record_batch",
                format!("{}-{}", payments[0].id, payments[payments.len() - 1].id),
                json!({"payments": payments.len(), "total": Money::from_fen(total)?}),
            )
        };
        audit::append(
            &mut tx,
            &now,
            Entry {
                actor: desk.actor(),
                action,
                entity: "payment",
                entity_id,
                before: None,
                after: Some(after),
            },
        )
        .await?;
    }
    crate::fault::point("payment.before_commit");
    tx.commit().await?;
    // The receipts' PDFs, now that the payments stand; a failure here (no CJK font) leaves
    // them pending, never the payment undone.
    crate::receipts::archive_after_commit(desk, issued.iter().map(|r| r.id).collect()).await;
    // Checkpoints are ours to schedule (db/mod.rs): keep the log short through a day of
    // payments in a window that stays open.
    desk.db().checkpoint_in_background();
    Ok(results)
}

fn in_batch(err: Error, batch: usize, bill_id: i64) -> Error {
    if batch == 1 {
        return err;
    }
    let msg = format!("bill {bill_id}: {err}; nothing in this batch was recorded");
    match err {
        Error::Validation(_) => Error::Validation(msg),
        Error::NotFound(_) => Error::NotFound(msg),
        Error::Conflict(_) => Error::Conflict(msg),
        other => other,
    }
}

/// Checks one payment against the bill as the batch has left it; on success updates the bill in
/// memory and adds its postings.
struct Decide<'a> {
    accounts: &'a [CollectionAccount],
    arrival: Arrival,
    payment_id: i64,
    /// The day that prices an early-bird tier: the day the money is paid.
    price_day: NaiveDate,
}

/// What a bill still owes if paid on `day` (fen): its outstanding, with an unpaid early-bird
/// bill priced by `day`. A QR order is opened for this amount.
pub(crate) async fn payable_on(desk: &FeeDesk, bill_id: i64, day: NaiveDate) -> Result<i64> {
    let mut conn = desk.db().pool().acquire().await?;
    let mut bill = bill_state(&mut conn, bill_id).await?;
    let rule: AmountRule = bill
        .rule
        .parse()
        .map_err(|_| Error::Internal(format!("bill {}: unreadable plan rule", bill.id)))?;
    reprice(&mut bill, &rule, day, &mut vec![])?;
    Ok(bill.due_fen - bill.paid_fen)
}

/// Prices a tier bill by the day it is first paid: bills are issued at the price after the
/// last tier (what is owed if paid late), and a first payment on or before a tier's day brings
/// the bill down to that tier's price (less the member's discount, recomputed), posted as
/// `bill.reprice` before the payment. A bill issued at an earlier tier price by an older
/// FeeDesk and paid late is brought up the same way.
fn reprice(
    bill: &mut BillState,
    rule: &AmountRule,
    day: NaiveDate,
    postings: &mut Vec<Posting>,
) -> Result<()> {
    if !matches!(rule, AmountRule::Tiers { .. }) || bill.paid_fen > 0 {
        return Ok(());
    }
    let gross = rule.price_on(day);
    let discount = match (&bill.discount_kind, bill.discount_value) {
        (Some(kind), Some(value)) => super::rule::DiscountValue::from_stored(kind, value)?
            .on(gross)?
            .fen(),
        _ => 0,
    };
    let due = gross.fen() - discount;
    let delta = due - bill.due_fen;
    if delta == 0 {
        return Ok(());
    }
    bill.gross_fen = gross.fen();
    bill.discount_fen = discount;
    bill.due_fen = due;
    let lines = if delta < 0 {
        vec![
            Line::debit(fee_code(bill), -delta),
            Line::credit(LedgerCode::Receivable, -delta),
        ]
    } else {
        vec![
            Line::debit(LedgerCode::Receivable, delta),
            Line::credit(fee_code(bill), delta),
        ]
    };
    postings.push(Posting {
        unit_id: bill.unit_id,
        kind: "bill.reprice",
        bill_id: Some(bill.id),
        payment_id: None,
        refund_id: None,
        memo: format!(
            "{} · {} · tier price on {day}: {gross}",
            bill.fee, bill.member_no
        ),
        lines,
    });
    Ok(())
}

/// Bank references already recorded, by (account, reference): (payment, bill).
type References = HashMap<(i64, String), (i64, i64)>;

/// The payments already recorded under the references this batch carries.
async fn known_references(
    conn: &mut SqliteConnection,
    reqs: &[PaymentRequest],
) -> Result<References> {
    let refs: Vec<String> = reqs
        .iter()
        .filter_map(|r| r.reference.as_deref().map(normalize))
        .filter(|r| !r.is_empty())
        .collect();
    if refs.is_empty() {
        return Ok(References::default());
    }
    let json = serde_json::to_string(&refs).map_err(|e| Error::Internal(e.to_string()))?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, bill_id, account_id, reference FROM payments
         WHERE reference IN (SELECT value FROM json_each(?)) ORDER BY id",
    )
    .bind(json)
    .fetch_all(&mut *conn)
    .await?;
    let mut known = References::default();
    for (id, bill_id, account_id, reference) in rows {
        known
            .entry((account_id, reference))
            .or_insert((id, bill_id));
    }
    Ok(known)
}

/// Refuses cash instead of the channel while a bill's QR order can still be paid.
async fn open_order_blocks(
    conn: &mut SqliteConnection,
    reqs: &[PaymentRequest],
    now: &str,
) -> Result<()> {
    for req in reqs {
        let open: Option<(String, String)> = sqlx::query_as(
            "SELECT out_trade_no, expires_at FROM channel_orders
             WHERE bill_id = ? AND status = 'open' AND expires_at > ?",
        )
        .bind(req.bill_id)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((no, expires)) = open {
            return Err(Error::Conflict(format!(
                "refused: bill {} has QR order {no}, which the payer can still pay until {expires}; \
                 close it first (`feedesk orders close {no}`) or wait until it expires, so the bill \
                 is never paid twice",
                req.bill_id
            )));
        }
    }
    Ok(())
}

/// The account cash is taken into when the channel cannot be used: a cash account of the
/// bill's unit or of the unit owning the plan's channel account.
fn fallback_account<'a>(
    bill: &BillState,
    accounts: &'a [CollectionAccount],
    candidates: &[&'a CollectionAccount],
) -> Result<&'a CollectionAccount> {
    let designated = accounts
        .iter()
        .find(|a| a.id == bill.account_id)
        .ok_or_else(|| Error::Internal(format!("bill {}: plan without account", bill.id)))?;
    if designated.channel.is_offline() {
        return Err(Error::Validation(format!(
            "bill {} is collected into '{}', a {} account: record the payment by hand as usual; \
             cash instead of the channel is only for bills collected through a channel",
            bill.id,
            designated.name,
            designated.channel.as_str()
        )));
    }
    candidates
        .iter()
        .copied()
        .find(|a| {
            a.channel == super::Channel::OfflineCash
                && (a.unit_id == bill.unit_id || a.unit_id == designated.unit_id)
        })
        .ok_or_else(|| {
            Error::Validation(format!(
                "refused: cash for bill {} instead of '{}' goes into a cash account of the bill's \
                 store or of the account's unit; '{}' is not one",
                bill.id, designated.name, candidates[0].name
            ))
        })
}

fn decide(
    bill: &mut BillState,
    ctx: &Decide<'_>,
    req: &PaymentRequest,
    references: &mut References,
    postings: &mut Vec<Posting>,
) -> Result<(NewPayment, PaymentResult)> {
    let (accounts, arrival, payment_id) = (ctx.accounts, ctx.arrival, ctx.payment_id);
    if req.amount.is_negative() || req.amount == Money::ZERO {
        return Err(Error::Validation("a payment must be above zero".into()));
    }
    let candidates = named(accounts, &req.account);
    if candidates.is_empty() {
        return Err(no_account(&req.account));
    }
    let designated = if arrival == Arrival::CashFallback {
        Some(fallback_account(bill, accounts, &candidates)?)
    } else {
        candidates.iter().copied().find(|a| a.id == bill.account_id)
    };
    let Some(account) = designated else {
        return Err(Error::Validation(format!(
            "refused: bill {} ({}) is collected only into its plan's designated account '{}' (id {}); \
             '{}' (id {}) is not it",
            bill.id, bill.fee, bill.account, bill.account_id, candidates[0].name, candidates[0].id
        )));
    };
    match (arrival, account.channel.is_offline()) {
        (Arrival::ByHand | Arrival::CashFallback, false) => {
            return Err(Error::Validation(format!(
                "'{}' is a {} account: its payments arrive through the channel, not by hand",
                account.name,
                account.channel.as_str()
            )));
        }
        (Arrival::Channel, true) => {
            return Err(Error::Internal(format!(
                "a channel confirmed a payment into '{}', which is not a channel account",
                account.name
            )));
        }
        _ => {}
    }
    let reference = req
        .reference
        .as_deref()
        .map(normalize)
        .filter(|r| !r.is_empty());
    if account.channel == super::Channel::OfflineBank && reference.is_none() {
        return Err(Error::Validation(
            "a bank transfer needs its reference (--reference) so it can be reconciled".into(),
        ));
    }
    // One transfer, one payment: a bank reference is recorded once per account.
    if account.channel == super::Channel::OfflineBank
        && let Some(r) = &reference
        && let Some((first, first_bill)) = references.get(&(account.id, r.clone()))
    {
        return Err(Error::Conflict(format!(
            "refused: bank reference '{r}' on '{}' was already recorded as payment {first} \
             (bill {first_bill}); a transfer is recorded once — check the reference on the statement",
            account.name
        )));
    }
    match bill.status.as_str() {
        "voided" => {
            return Err(Error::Validation(format!(
                "refused: bill {} is voided; nothing is owed",
                bill.id
            )));
        }
        "refunded" => {
            return Err(Error::Validation(format!(
                "refused: bill {} was refunded and is closed",
                bill.id
            )));
        }
        _ => {}
    }
    let amount = req.amount.fen();
    let rule: AmountRule = bill
        .rule
        .parse()
        .map_err(|_| Error::Internal(format!("bill {}: unreadable plan rule", bill.id)))?;
    reprice(bill, &rule, ctx.price_day, postings)?;
    let mut declare = None;
    let mut due = bill.due_fen;
    if let Some((min, max)) = rule.declared_range() {
        if bill.paid_fen > 0 {
            return Err(Error::Validation(format!(
                "refused: bill {} is a self-declared amount and was already paid",
                bill.id
            )));
        }
        if amount < min.fen() || amount > max.fen() {
            return Err(Error::Validation(format!(
                "refused: a self-declared amount for bill {} must be between {min} and {max}",
                bill.id
            )));
        }
        if amount > due {
            // The payer declared more than the minimum the bill was issued at.
            declare = Some(amount - due);
            due = amount;
        }
    }
    let outstanding = due - bill.paid_fen;
    if outstanding == 0 {
        return Err(Error::Validation(format!(
            "refused: bill {} is already paid in full",
            bill.id
        )));
    }
    if amount > outstanding {
        return Err(Error::Validation(format!(
            "refused: {} is more than the {} still owed on bill {}; overpayment is not accepted",
            req.amount,
            Money::from_fen(outstanding)?,
            bill.id
        )));
    }
    if amount < outstanding && !bill.allow_partial {
        return Err(Error::Validation(format!(
            "refused: bill {} must be paid in full ({}); its plan does not allow partial payment",
            bill.id,
            Money::from_fen(outstanding)?
        )));
    }
    if let Some(more) = declare {
        bill.gross_fen += more;
        bill.due_fen += more;
        postings.push(Posting {
            unit_id: bill.unit_id,
            kind: "bill.declare",
            bill_id: Some(bill.id),
            payment_id: None,
            refund_id: None,
            memo: format!(
                "{} · {} · declared {}",
                bill.fee, bill.member_no, req.amount
            ),
            lines: vec![
                Line::debit(LedgerCode::Receivable, more),
                Line::credit(fee_code(bill), more),
            ],
        });
    }
    if account.channel == super::Channel::OfflineBank
        && let Some(r) = &reference
    {
        references.insert((account.id, r.clone()), (payment_id, bill.id));
    }
    bill.paid_fen += amount;
    bill.status = if bill.paid_fen == bill.due_fen {
        "paid"
    } else {
        "partial"
    }
    .into();
    postings.extend(money_postings(
        "payment",
        bill,
        account,
        Some(payment_id),
        None,
        format!("{} · {} · {}", bill.fee, bill.member_no, account.name),
        LedgerCode::Receivable,
        amount,
    ));
    Ok((
        NewPayment {
            id: payment_id,
            bill_id: bill.id,
            account_id: account.id,
            amount_fen: amount,
            reference,
        },
        PaymentResult {
            payment_id,
            bill_id: bill.id,
            amount: req.amount,
            status: bill.status.clone(),
            amount_paid: Money::from_fen(bill.paid_fen)?,
            outstanding: Money::from_fen(bill.due_fen - bill.paid_fen)?,
            receipt_no: None,
        },
    ))
}
