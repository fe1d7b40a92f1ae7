//! The dashboard's money figures for any subtree: billed, collected, refunded, outstanding,
//! collection rate, aging of what is overdue, the collection trend, and the same figures per
//! unit as a drill-down tree. All read the running totals the database keeps per unit and due
//! date (`bill_totals`, `collection_days`), so they cost the same at a million bills as at ten.
//!
//! Definitions: billed is what non-voided bills charge; collected is everything paid (refunds
//! are shown apart, not netted); outstanding is what open and partly paid bills still owe; the
//! collection rate is collected / billed. Aging counts days past the due date of what is
//! outstanding, in the institution's calendar.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::clock::local_date;
use crate::money::Money;
use crate::org::{Unit, UnitKind, list_units, subtree};
use crate::text::normalize;
use crate::{Error, FeeDesk, Result};

/// Money figures of a unit (with its subtree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MoneyFigures {
    pub bills: u64,
    pub billed: Money,
    pub collected: Money,
    pub refunded: Money,
    pub outstanding: Money,
    /// collected / billed, as a fraction with four places ("0.8750"); zero when nothing is billed.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub collection_rate: Decimal,
}

/// Outstanding money by how late it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgingBucket {
    /// not_due, 0_30, 31_60, 61_90 or 90_plus.
    pub bucket: String,
    pub bills: u64,
    pub amount: Money,
}

/// Money collected on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrendDay {
    pub day: String,
    pub payments: u64,
    pub amount: Money,
}

/// The dashboard's money tiles for one subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MoneySummary {
    pub unit: String,
    pub unit_name: String,
    pub as_of: String,
    pub figures: MoneyFigures,
    pub aging: Vec<AgingBucket>,
    /// The last 30 days, oldest first, days without payments included.
    pub trend: Vec<TrendDay>,
}

/// A unit's figures with its children's, for the drill-down tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MoneyNode {
    pub code: String,
    pub name: String,
    pub kind: UnitKind,
    pub figures: MoneyFigures,
    pub children: Vec<MoneyNode>,
}

pub(crate) const BUCKETS: [&str; 5] = ["not_due", "0_30", "31_60", "61_90", "90_plus"];

pub(crate) fn bucket(days_late: i64) -> usize {
    match days_late {
        ..=0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// Per-unit sums of the running totals: (unit id, bills, billed, paid, refunded, outstanding).
type UnitSums = HashMap<i64, [i64; 5]>;

async fn unit_sums(desk: &FeeDesk) -> Result<UnitSums> {
    let rows: Vec<(i64, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT unit_id,
                sum(CASE WHEN status <> 'voided' THEN bills ELSE 0 END),
                sum(CASE WHEN status <> 'voided' THEN due_fen ELSE 0 END),
                sum(paid_fen), sum(refunded_fen),
                sum(CASE WHEN status IN ('open', 'partial') THEN due_fen - paid_fen ELSE 0 END)
         FROM bill_totals GROUP BY unit_id",
    )
    .fetch_all(desk.db().pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(u, n, d, p, r, o)| (u, [n, d, p, r, o]))
        .collect())
}

fn figures(sums: [i64; 5]) -> Result<MoneyFigures> {
    let [bills, billed, paid, refunded, outstanding] = sums;
    let mut rate = if billed > 0 {
        (Decimal::from(paid) / Decimal::from(billed)).round_dp(4)
    } else {
        Decimal::ZERO
    };
    rate.rescale(4);
    Ok(MoneyFigures {
        bills: bills as u64,
        billed: Money::from_fen(billed)?,
        collected: Money::from_fen(paid)?,
        refunded: Money::from_fen(refunded)?,
        outstanding: Money::from_fen(outstanding)?,
        collection_rate: rate,
    })
}

fn add(a: [i64; 5], b: [i64; 5]) -> [i64; 5] {
    std::array::from_fn(|i| a[i] + b[i])
}

fn root<'a>(all: &'a [Unit], code: &str) -> Result<&'a Unit> {
    let code = normalize(code).to_ascii_uppercase();
    all.iter().find(|u| u.code == code).ok_or_else(|| {
        Error::NotFound(format!(
            "no unit with code '{code}'; `feedesk org list` shows the codes"
        ))
    })
}

/// The money tiles for `unit_code`'s subtree, as of `today` (default: the institution's today).
pub async fn money_summary(
    desk: &FeeDesk,
    unit_code: &str,
    today: Option<NaiveDate>,
) -> Result<MoneySummary> {
    let today = today.unwrap_or_else(|| local_date(desk.clock().now()));
    let all = list_units(desk).await?;
    let unit = root(&all, unit_code)?;
    let ids = subtree(&all, unit.id);
    let ids_json = serde_json::to_string(&ids).unwrap_or_default();
    let sums = unit_sums(desk).await?;
    let total = ids
        .iter()
        .filter_map(|id| sums.get(id))
        .fold([0; 5], |a, b| add(a, *b));

    let owed: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT due_on, sum(bills), sum(due_fen - paid_fen) FROM bill_totals
         WHERE status IN ('open', 'partial') AND unit_id IN (SELECT value FROM json_each(?))
         GROUP BY due_on",
    )
    .bind(&ids_json)
    .fetch_all(desk.db().pool())
    .await?;
    let mut aging = [(0i64, 0i64); 5];
    for (due_on, bills, fen) in owed {
        let due = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d")
            .map_err(|_| Error::Internal(format!("stored due date '{due_on}'")))?;
        let slot = &mut aging[bucket((today - due).num_days())];
        slot.0 += bills;
        slot.1 += fen;
    }

    let from = today - chrono::Duration::days(29);
    let days: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT day, sum(payments), sum(paid_fen) FROM collection_days
         WHERE day BETWEEN ? AND ? AND unit_id IN (SELECT value FROM json_each(?))
         GROUP BY day",
    )
    .bind(from.format("%Y-%m-%d").to_string())
    .bind(today.format("%Y-%m-%d").to_string())
    .bind(&ids_json)
    .fetch_all(desk.db().pool())
    .await?;
    let days: HashMap<String, (i64, i64)> = days.into_iter().map(|(d, n, f)| (d, (n, f))).collect();
    let trend = (0..30)
        .map(|i| {
            let day = (from + chrono::Duration::days(i))
                .format("%Y-%m-%d")
                .to_string();
            let (n, fen) = days.get(&day).copied().unwrap_or((0, 0));
            Ok(TrendDay {
                day,
                payments: n as u64,
                amount: Money::from_fen(fen)?,
            })
        })
        .collect::<Result<_>>()?;

    Ok(MoneySummary {
        unit: unit.code.clone(),
        unit_name: unit.name.clone(),
        as_of: today.format("%Y-%m-%d").to_string(),
        figures: figures(total)?,
        aging: BUCKETS
            .iter()
            .zip(aging)
            .map(|(name, (bills, fen))| {
                Ok(AgingBucket {
                    bucket: (*name).into(),
                    bills: bills as u64,
                    amount: Money::from_fen(fen)?,
                })
            })
            .collect::<Result<_>>()?,
        trend,
    })
}

/// The figures of `unit_code` and of every unit below it, as a tree.
pub async fn money_tree(desk: &FeeDesk, unit_code: &str) -> Result<MoneyNode> {
    let all = list_units(desk).await?;
    let unit = root(&all, unit_code)?;
    let sums = unit_sums(desk).await?;
    fn build(all: &[Unit], unit: &Unit, sums: &UnitSums) -> Result<(MoneyNode, [i64; 5])> {
        let mut total = sums.get(&unit.id).copied().unwrap_or([0; 5]);
        let mut children = vec![];
        for child in all.iter().filter(|u| u.parent_id == Some(unit.id)) {
            let (node, sub) = build(all, child, sums)?;
            total = add(total, sub);
            children.push(node);
        }
        Ok((
            MoneyNode {
                code: unit.code.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
                figures: figures(total)?,
                children,
            },
            total,
        ))
    }
    Ok(build(&all, unit, &sums)?.0)
}
