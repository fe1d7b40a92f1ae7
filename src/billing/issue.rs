//! Issuing a plan: one bill per targeted member, idempotently. Issuing again after the roster
//! changed adds bills for members who joined and voids the unpaid bills of members who left
//! (withdrawn, or no longer in the class or term); a bill with money on it is never touched, and
//! the report names it so a person can decide. [`preview_issue`] computes exactly what
//! [`issue_plan`] would write, without writing.
//!
//! A member whose bill was voided because they left, and who comes back, is billed again (a new
//! bill; the voided one stays as it was). A bill a person voided by hand is an exemption: that
//! member is not billed again by the plan.
//!
//! A split plan's shares are fixed by its first issue; a new member cannot join the split later
//! (the shares already charged would all have to change), so that is refused with a way out.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::json;
use sqlx::SqliteConnection;

use super::plans::{Plan, plan_in};
use super::rule::{AmountRule, DiscountValue};
use crate::audit::{self, Entry};
use crate::clock::local_date;
use crate::db::bulk::{Bind, execute_each};
use crate::ledger::{Journal, LedgerCode, Line, Posting};
use crate::money::Money;
use crate::{Error, FeeDesk, Result};

/// A bill the issue would create, as previewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewBill {
    pub member_no: String,
    pub member_name: String,
    pub unit_code: String,
    pub gross: Money,
    pub discount: Money,
    pub amount_due: Money,
}

/// The bills per store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UnitBills {
    pub unit_code: String,
    pub bills: u64,
    pub amount_due: Money,
}

/// A bill left alone although its member left: it has money on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeptBill {
    pub bill_id: i64,
    pub member_no: String,
    pub status: String,
    pub note: String,
}

/// What issuing did (or, previewed, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct IssueReport {
    pub plan_id: i64,
    pub committed: bool,
    /// Members the plan targets now.
    pub targeted: u64,
    pub new_bills: u64,
    pub new_gross: Money,
    pub new_discounts: Money,
    pub new_amount_due: Money,
    /// Members who already had a bill.
    pub already_billed: u64,
    pub voided: u64,
    pub voided_amount: Money,
    pub kept: Vec<KeptBill>,
    pub by_unit: Vec<UnitBills>,
    /// The first bills, for the preview.
    pub sample: Vec<PreviewBill>,
}

const SAMPLE: usize = 50;

struct Target {
    member_id: i64,
    unit_id: i64,
    unit_code: String,
    member_no: String,
    name: String,
}

struct NewBill {
    id: i64,
    member: usize,
    gross: Money,
    discount: Money,
    due: Money,
}

#[derive(sqlx::FromRow)]
struct ExistingBill {
    id: i64,
    member_id: i64,
    unit_id: i64,
    status: String,
    void_reason: Option<String>,
    paid_fen: i64,
    gross_fen: i64,
    discount_fen: i64,
    due_fen: i64,
    member_no: String,
}

struct Work {
    plan: Plan,
    targets: Vec<Target>,
    new_bills: Vec<NewBill>,
    /// (bill id, unit id, member_no, gross, discount, due) of unpaid bills to void.
    voids: Vec<(i64, i64, String, i64, i64, i64)>,
    kept: Vec<KeptBill>,
    already: u64,
}

/// What issuing `plan_id` now would do.
pub async fn preview_issue(desk: &FeeDesk, plan_id: i64) -> Result<IssueReport> {
    let mut conn = desk.db().pool().acquire().await?;
    let work = plan_work(desk, &mut conn, plan_id).await?;
    Ok(report(&work, false))
}

/// Issues `plan_id`: creates the missing bills and voids those of members who left, posting
/// each in its store's books, in one transaction.
pub async fn issue_plan(desk: &FeeDesk, plan_id: i64) -> Result<IssueReport> {
    let mut tx = desk.db().write().await?;
    let work = plan_work(desk, &mut tx, plan_id).await?;
    let now = desk.now_text();
    let due_on = work.plan.due_on.clone();
    let fee = LedgerCode::FeeIncome {
        fee_item_id: work.plan.fee_item_id,
        name: work.plan.fee.clone(),
    };
    let mut journal = Journal::begin(&mut tx).await?;
    execute_each(
        &mut tx,
        "INSERT INTO bills (id, plan_id, member_id, unit_id, gross_fen, discount_fen, due_fen, status, due_on, issued_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        work.new_bills.iter().map(|b| {
            let t = &work.targets[b.member];
            [
                Bind::Int(b.id),
                Bind::Int(plan_id),
                Bind::Int(t.member_id),
                Bind::Int(t.unit_id),
                Bind::Int(b.gross.fen()),
                Bind::Int(b.discount.fen()),
                Bind::Int(b.due.fen()),
                Bind::Text(if b.due == Money::ZERO { "paid" } else { "open" }),
                Bind::Text(&due_on),
                Bind::Text(&now),
            ]
        }),
    )
    .await?;
    for b in &work.new_bills {
        let t = &work.targets[b.member];
        journal
            .post(
                &mut tx,
                Posting {
                    unit_id: t.unit_id,
                    kind: "bill.issue",
                    bill_id: Some(b.id),
                    payment_id: None,
                    refund_id: None,
                    memo: format!("{} · {}", work.plan.fee, t.member_no),
                    lines: vec![
                        Line::debit(LedgerCode::Receivable, b.due.fen()),
                        Line::debit(LedgerCode::Discounts, b.discount.fen()),
                        Line::credit(fee.clone(), b.gross.fen()),
                    ],
                },
            )
            .await?;
    }
    crate::fault::point("issue.after_bills");
    for (bill_id, unit_id, member_no, gross, discount, due) in &work.voids {
        sqlx::query(
            "UPDATE bills SET status = 'voided', void_reason = 'left', closed_at = ?, note = ?
             WHERE id = ? AND status = 'open'",
        )
        .bind(&now)
        .bind("成员已退出，未付账单作废 (member left; unpaid bill voided)")
        .bind(bill_id)
        .execute(&mut *tx)
        .await?;
        journal
            .post(
                &mut tx,
                Posting {
                    unit_id: *unit_id,
                    kind: "bill.void",
                    bill_id: Some(*bill_id),
                    payment_id: None,
                    refund_id: None,
                    memo: format!("{} · {} · void", work.plan.fee, member_no),
                    lines: vec![
                        Line::debit(fee.clone(), *gross),
                        Line::credit(LedgerCode::Receivable, *due),
                        Line::credit(LedgerCode::Discounts, *discount),
                    ],
                },
            )
            .await?;
    }
    journal.write(&mut tx, &now).await?;
    sqlx::query("UPDATE fee_plans SET last_issued_at = ? WHERE id = ?")
        .bind(&now)
        .bind(plan_id)
        .execute(&mut *tx)
        .await?;
    let report = report(&work, true);
    audit::append(
        &mut tx,
        &now,
        Entry {
            actor: desk.actor(),
            action: "plan.issue",
            entity: "fee_plan",
            entity_id: plan_id.to_string(),
            before: None,
            after: Some(json!({
                "new_bills": report.new_bills,
                "new_amount_due": report.new_amount_due,
                "voided": report.voided,
                "voided_amount": report.voided_amount,
                "kept": report.kept,
            })),
        },
    )
    .await?;
    crate::fault::point("issue.before_commit");
    tx.commit().await?;
    desk.db().checkpoint_in_background();
    Ok(report)
}

async fn plan_work(desk: &FeeDesk, conn: &mut SqliteConnection, plan_id: i64) -> Result<Work> {
    let plan = plan_in(&mut *conn, plan_id).await?;
    let rule: AmountRule = plan
        .rule
        .parse()
        .map_err(|_| Error::Internal(format!("plan {plan_id} has an unreadable rule")))?;
    let targets = targets(&mut *conn, &plan).await?;
    let existing: Vec<ExistingBill> = sqlx::query_as(
        "SELECT b.id, b.member_id, b.unit_id, b.status, b.void_reason, b.paid_fen, b.gross_fen,
                b.discount_fen, b.due_fen, m.member_no
         FROM bills b JOIN members m ON m.id = b.member_id WHERE b.plan_id = ?",
    )
    .bind(plan_id)
    .fetch_all(&mut *conn)
    .await?;
    // A member counts as billed while they have a live bill, or one a person voided (an
    // exemption). A bill voided because the member left does not count: if they come back,
    // they are billed again.
    let billed: HashSet<i64> = existing
        .iter()
        .filter(|b| b.status != "voided" || b.void_reason.as_deref() == Some("manual"))
        .map(|b| b.member_id)
        .collect();
    let targeted: HashSet<i64> = targets.iter().map(|t| t.member_id).collect();
    let newcomers: Vec<usize> = (0..targets.len())
        .filter(|i| !billed.contains(&targets[*i].member_id))
        .collect();
    if matches!(rule, AmountRule::Split(_)) && !existing.is_empty() && !newcomers.is_empty() {
        return Err(Error::Conflict(format!(
            "plan {plan_id} splits a total and its shares were fixed when it was first issued; \
             {} new member(s) cannot join the split. Charge them with a new plan",
            newcomers.len()
        )));
    }
    let discounts: HashMap<i64, DiscountValue> = {
        let rows: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT member_id, kind, value FROM plan_discounts WHERE plan_id = ?")
                .bind(plan_id)
                .fetch_all(&mut *conn)
                .await?;
        rows.into_iter()
            .map(|(m, k, v)| Ok((m, DiscountValue::from_stored(&k, v)?)))
            .collect::<Result<_>>()?
    };
    let today = local_date(desk.clock().now());
    let gross = rule.gross(newcomers.len(), today)?;
    let next_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM bills")
        .fetch_one(&mut *conn)
        .await?;
    let mut new_bills = Vec::with_capacity(newcomers.len());
    for (n, (member, gross)) in newcomers.into_iter().zip(gross).enumerate() {
        let discount = match discounts.get(&targets[member].member_id) {
            Some(d) => d.on(gross)?,
            None => Money::ZERO,
        };
        new_bills.push(NewBill {
            id: next_id + n as i64,
            member,
            gross,
            discount,
            due: gross.checked_sub(discount)?,
        });
    }
    let already = targets
        .iter()
        .filter(|t| billed.contains(&t.member_id))
        .count() as u64;
    let mut voids = vec![];
    let mut kept = vec![];
    for b in existing {
        if targeted.contains(&b.member_id) || b.status == "voided" {
            continue;
        }
        if b.status == "open" && b.paid_fen == 0 {
            voids.push((
                b.id,
                b.unit_id,
                b.member_no,
                b.gross_fen,
                b.discount_fen,
                b.due_fen,
            ));
        } else {
            kept.push(KeptBill {
                bill_id: b.id,
                note: format!(
                    "the member left but bill {} is {}; it is kept — refund or keep it by hand",
                    b.id, b.status
                ),
                member_no: b.member_no,
                status: b.status,
            });
        }
    }
    Ok(Work {
        plan,
        targets,
        new_bills,
        voids,
        kept,
        already,
    })
}

/// The active members the plan charges, ordered by store code then member number (the order a
/// split hands out its leftover fen in).
async fn targets(conn: &mut SqliteConnection, plan: &Plan) -> Result<Vec<Target>> {
    // `?1` is the plan's unit: `subtree` is it and every unit below.
    let select = "WITH RECURSIVE subtree(id) AS (
            SELECT ?1 UNION ALL SELECT u.id FROM units u JOIN subtree s ON u.parent_id = s.id)
        SELECT m.id, m.unit_id, u.code, m.member_no, m.name FROM members m JOIN units u ON u.id = m.unit_id";
    let order = "ORDER BY u.code, m.member_no";
    let rows: Vec<(i64, i64, String, String, String)> = match plan.target_kind.as_str() {
        "class" => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{select} WHERE m.status = 'active'
                   AND m.id IN (SELECT member_id FROM enrolments WHERE class_id = ?2) {order}"
            )))
            .bind(plan.unit_id)
            .bind(plan.class_id)
            .fetch_all(&mut *conn)
            .await?
        }
        "term" => {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{select} WHERE m.status = 'active' AND m.id IN (
                     SELECT e.member_id FROM enrolments e JOIN classes c ON c.id = e.class_id
                     WHERE c.term_id = ?2 AND c.unit_id IN (SELECT id FROM subtree))
                 {order}"
            )))
            .bind(plan.unit_id)
            .bind(plan.term_id)
            .fetch_all(&mut *conn)
            .await?
        }
        _ => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{select} WHERE m.status = 'active' AND m.unit_id IN (SELECT id FROM subtree) {order}"
        )))
        .bind(plan.unit_id)
        .fetch_all(&mut *conn)
        .await?,
    };
    Ok(rows
        .into_iter()
        .map(|(member_id, unit_id, unit_code, member_no, name)| Target {
            member_id,
            unit_id,
            unit_code,
            member_no,
            name,
        })
        .collect())
}

fn report(work: &Work, committed: bool) -> IssueReport {
    let sum = |it: &mut dyn Iterator<Item = Money>| {
        it.fold(Money::ZERO, |a, b| a.checked_add(b).unwrap_or(a))
    };
    let mut by_unit: Vec<UnitBills> = vec![];
    for b in &work.new_bills {
        let code = &work.targets[b.member].unit_code;
        match by_unit.iter_mut().find(|u| &u.unit_code == code) {
            Some(u) => {
                u.bills += 1;
                u.amount_due = u.amount_due.checked_add(b.due).unwrap_or(u.amount_due);
            }
            None => by_unit.push(UnitBills {
                unit_code: code.clone(),
                bills: 1,
                amount_due: b.due,
            }),
        }
    }
    IssueReport {
        plan_id: work.plan.id,
        committed,
        targeted: work.targets.len() as u64,
        new_bills: work.new_bills.len() as u64,
        new_gross: sum(&mut work.new_bills.iter().map(|b| b.gross)),
        new_discounts: sum(&mut work.new_bills.iter().map(|b| b.discount)),
        new_amount_due: sum(&mut work.new_bills.iter().map(|b| b.due)),
        already_billed: work.already,
        voided: work.voids.len() as u64,
        voided_amount: sum(&mut work
            .voids
            .iter()
            .map(|v| Money::from_fen(v.5).unwrap_or(Money::ZERO))),
        kept: work.kept.clone(),
        by_unit,
        sample: work
            .new_bills
            .iter()
            .take(SAMPLE)
            .map(|b| {
                let t = &work.targets[b.member];
                PreviewBill {
                    member_no: t.member_no.clone(),
                    member_name: t.name.clone(),
                    unit_code: t.unit_code.clone(),
                    gross: b.gross,
                    discount: b.discount,
                    amount_due: b.due,
                }
            })
            .collect(),
    }
}
