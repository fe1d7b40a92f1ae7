//! The trial balance of one unit's books, or of a subtree's books rolled up by account code.

use serde::Serialize;

use super::chart::AccountKind;
use crate::money::Money;
use crate::org::{find_unit, subtree_ids};
use crate::{FeeDesk, Result};

/// One account's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrialLine {
    pub code: String,
    pub name: String,
    pub kind: AccountKind,
    pub debit: Money,
    pub credit: Money,
    /// Debit minus credit: positive for a debit balance.
    pub balance: Money,
}

/// A trial balance: the totals of every account, and whether debits equal credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrialBalance {
    pub unit: String,
    pub unit_name: String,
    pub rollup: bool,
    pub total_debit: Money,
    pub total_credit: Money,
    pub balanced: bool,
    pub lines: Vec<TrialLine>,
}

/// The trial balance of `unit_code`'s own books, or with `rollup` of every unit in its subtree.
pub async fn trial_balance(desk: &FeeDesk, unit_code: &str, rollup: bool) -> Result<TrialBalance> {
    let unit = find_unit(desk, unit_code).await?;
    let ids = if rollup {
        subtree_ids(desk, &unit.code).await?
    } else {
        vec![unit.id]
    };
    let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT a.code, min(a.name), min(a.kind), sum(b.debit_fen), sum(b.credit_fen)
         FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
         WHERE a.unit_id IN (SELECT value FROM json_each(?))
         GROUP BY a.code ORDER BY a.code",
    )
    .bind(&ids_json)
    .fetch_all(desk.db().pool())
    .await?;
    let mut lines = Vec::with_capacity(rows.len());
    let (mut total_debit, mut total_credit) = (0i64, 0i64);
    for (code, name, kind, debit, credit) in rows {
        total_debit += debit;
        total_credit += credit;
        lines.push(TrialLine {
            code,
            name,
            kind: AccountKind::parse(&kind),
            debit: Money::from_fen(debit)?,
            credit: Money::from_fen(credit)?,
            balance: Money::from_fen(debit - credit)?,
        });
    }
    // By code as an accountant reads it: 1001.2 before 1001.11.
    lines.sort_by_key(|l| {
        let (head, tail) = l.code.split_once('.').unwrap_or((&l.code, ""));
        (head.to_string(), tail.parse::<i64>().unwrap_or(-1))
    });
    Ok(TrialBalance {
        unit: unit.code,
        unit_name: unit.name,
        rollup,
        total_debit: Money::from_fen(total_debit)?,
        total_credit: Money::from_fen(total_credit)?,
        balanced: total_debit == total_credit,
        lines,
    })
}
