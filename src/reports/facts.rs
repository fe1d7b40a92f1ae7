//! The monthly report's figures, gathered per unit in a handful of grouped queries (each one
//! pass over the month's bills, payments or refunds), then summed over any subtree in memory.
//!
//! Definitions (a month is Beijing-time calendar days):
//! - **billed**: what non-voided bills issued in the month charge;
//! - **collected** / **refunded**: payments received / refunds made in the month;
//! - **collection rate**: what has been paid so far on the month's bills / what they charge;
//! - **outstanding** and **aging**: what bills issued by the month's end still owe, aged by days
//!   past their due date at the month's last day (or today, for the month in progress), in the
//!   dashboard's buckets (not due, 0–30, 31–60, 61–90, 90+);
//! - **channel fees**: the fees the reconciliation recorded for the month (per account and day,
//!   in the unit that owns the account).

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::billing::{AGING_BUCKETS, aging_bucket};
use crate::{Error, FeeDesk, Result};

/// Money figures of a unit (or a subtree, summed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub bills: i64,
    pub billed: i64,
    /// Paid so far on the month's bills (the rate's numerator).
    pub billed_paid: i64,
    pub collected: i64,
    pub payments: i64,
    pub refunded: i64,
    pub outstanding: i64,
    pub fees: i64,
    pub aging: [i64; 5],
}

impl Figures {
    pub fn add(&mut self, o: &Figures) {
        self.bills += o.bills;
        self.billed += o.billed;
        self.billed_paid += o.billed_paid;
        self.collected += o.collected;
        self.payments += o.payments;
        self.refunded += o.refunded;
        self.outstanding += o.outstanding;
        self.fees += o.fees;
        for (a, b) in self.aging.iter_mut().zip(o.aging) {
            *a += b;
        }
    }

    /// billed_paid / billed, four places.
    pub fn rate(&self) -> rust_decimal::Decimal {
        if self.billed == 0 {
            return rust_decimal::Decimal::ZERO;
        }
        (rust_decimal::Decimal::from(self.billed_paid) / rust_decimal::Decimal::from(self.billed))
            .round_dp(4)
    }
}

/// [billed, collected, refunded, outstanding] of one row of a breakdown.
pub type Row4 = [i64; 4];

/// A large overdue bill, for the store's follow-up list (personal data masked when written).
#[derive(Debug, Clone)]
pub struct Overdue {
    pub member_no: String,
    pub name: String,
    pub phone: Option<String>,
    pub fee: String,
    pub owed: i64,
    pub due_on: String,
    pub days_late: i64,
}

/// Everything the report needs, per unit id.
#[derive(Debug, Default)]
pub struct Facts {
    pub figures: HashMap<i64, Figures>,
    pub by_fee: HashMap<(i64, String), Row4>,
    pub by_class: HashMap<(i64, String), Row4>,
    pub by_term: HashMap<(i64, String), Row4>,
    /// [collected, refunded, fees, payments]
    pub by_channel: HashMap<(i64, String), Row4>,
    pub trend: HashMap<(i64, String), i64>,
    pub overdue: HashMap<i64, Vec<Overdue>>,
}

impl Facts {
    /// Adds `fen` to `column` of the unit's row for its fee item, its class and its term.
    fn add_breakdowns(
        &mut self,
        unit: i64,
        fee: String,
        class: String,
        term: String,
        column: usize,
        fen: i64,
    ) {
        self.by_fee.entry((unit, fee)).or_default()[column] += fen;
        self.by_class.entry((unit, class)).or_default()[column] += fen;
        self.by_term.entry((unit, term)).or_default()[column] += fen;
    }
}

/// Beijing midnight starting `day`, as stored (UTC text).
pub(crate) fn utc_start(day: NaiveDate) -> String {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let utc = local - chrono::Duration::seconds(i64::from(crate::clock::LOCAL_OFFSET_SECONDS));
    format!("{}Z", utc.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

const DIMENSIONS: &str = "b.unit_id, f.name AS fee,
        coalesce(cu.code || '/' || c.name, '-') AS class, coalesce(t.name, '-') AS term";
const JOINS: &str = "JOIN fee_plans p ON p.id = b.plan_id
     JOIN fee_items f ON f.id = p.fee_item_id
     LEFT JOIN classes c ON c.id = p.class_id
     LEFT JOIN units cu ON cu.id = c.unit_id
     LEFT JOIN terms t ON t.id = coalesce(c.term_id, p.term_id)";

type Grouped = (i64, String, String, String, i64, i64, i64);

/// Gathers the facts of `units` for the month `[first, last]`, aging at `as_of`.
pub async fn gather(
    desk: &FeeDesk,
    units: &[i64],
    first: NaiveDate,
    last: NaiveDate,
    as_of: NaiveDate,
) -> Result<Facts> {
    let pool = desk.db().pool();
    let ids = serde_json::to_string(units).map_err(|e| Error::Internal(e.to_string()))?;
    let (start, end) = (
        utc_start(first),
        utc_start(last + chrono::Duration::days(1)),
    );
    let mut facts = Facts::default();
    let in_units = "b.unit_id IN (SELECT value FROM json_each(?3))";

    let billed: Vec<Grouped> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DIMENSIONS}, count(*), sum(b.due_fen), sum(b.paid_fen) FROM bills b {JOINS}
         WHERE b.issued_at >= ?1 AND b.issued_at < ?2 AND b.status <> 'voided' AND {in_units}
         GROUP BY 1, 2, 3, 4"
    )))
    .bind(&start)
    .bind(&end)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (unit, fee, class, term, n, due, paid) in billed {
        let f = facts.figures.entry(unit).or_default();
        f.bills += n;
        f.billed += due;
        f.billed_paid += paid;
        facts.add_breakdowns(unit, fee, class, term, 0, due);
    }

    let paid: Vec<(i64, String, String, String, String, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DIMENSIONS}, a.channel, count(*), sum(x.amount_fen) FROM payments x
         JOIN bills b ON b.id = x.bill_id JOIN collection_accounts a ON a.id = x.account_id {JOINS}
         WHERE x.received_at >= ?1 AND x.received_at < ?2 AND {in_units}
         GROUP BY 1, 2, 3, 4, 5"
        )))
        .bind(&start)
        .bind(&end)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    for (unit, fee, class, term, channel, n, fen) in paid {
        let f = facts.figures.entry(unit).or_default();
        f.collected += fen;
        f.payments += n;
        facts.add_breakdowns(unit, fee, class, term, 1, fen);
        let c = facts.by_channel.entry((unit, channel)).or_default();
        c[0] += fen;
        c[3] += n;
    }

    let refunded: Vec<(i64, String, String, String, String, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DIMENSIONS}, a.channel, count(*), sum(r.amount_fen) FROM refunds r
         JOIN payments x ON x.id = r.payment_id JOIN bills b ON b.id = x.bill_id
         JOIN collection_accounts a ON a.id = x.account_id {JOINS}
         WHERE r.refunded_at >= ?1 AND r.refunded_at < ?2 AND {in_units}
         GROUP BY 1, 2, 3, 4, 5"
        )))
        .bind(&start)
        .bind(&end)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    for (unit, fee, class, term, channel, _, fen) in refunded {
        facts.figures.entry(unit).or_default().refunded += fen;
        facts.add_breakdowns(unit, fee, class, term, 2, fen);
        facts.by_channel.entry((unit, channel)).or_default()[1] += fen;
    }

    let owed: Vec<(i64, String, String, String, String, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DIMENSIONS}, b.due_on, count(*), sum(b.due_fen - b.paid_fen) FROM bills b {JOINS}
         WHERE b.issued_at < ?2 AND b.status IN ('open', 'partial') AND {in_units}
         GROUP BY 1, 2, 3, 4, 5"
    )))
        .bind(&start)
        .bind(&end)
        .bind(&ids)
        .fetch_all(pool)
        .await?;
    for (unit, fee, class, term, due_on, _, fen) in owed {
        let due = NaiveDate::parse_from_str(&due_on, "%Y-%m-%d")
            .map_err(|_| Error::Internal(format!("stored due date '{due_on}'")))?;
        let f = facts.figures.entry(unit).or_default();
        f.outstanding += fen;
        f.aging[aging_bucket((as_of - due).num_days())] += fen;
        facts.add_breakdowns(unit, fee, class, term, 3, fen);
    }

    // The dashboard's running totals per unit and day.
    let days: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT unit_id, day, paid_fen FROM collection_days
         WHERE day BETWEEN ?1 AND ?2 AND unit_id IN (SELECT value FROM json_each(?3))",
    )
    .bind(first.format("%Y-%m-%d").to_string())
    .bind(last.format("%Y-%m-%d").to_string())
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (unit, day, fen) in days {
        facts.trend.insert((unit, day), fen);
    }

    let fees: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT a.unit_id, a.channel, sum(d.fee_fen) FROM channel_fee_days d
         JOIN collection_accounts a ON a.id = d.account_id
         WHERE d.day BETWEEN ?1 AND ?2 AND a.unit_id IN (SELECT value FROM json_each(?3))
         GROUP BY 1, 2",
    )
    .bind(first.format("%Y-%m-%d").to_string())
    .bind(last.format("%Y-%m-%d").to_string())
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (unit, channel, fen) in fees {
        facts.figures.entry(unit).or_default().fees += fen;
        facts.by_channel.entry((unit, channel)).or_default()[2] += fen;
    }

    type OverdueRow = (i64, String, String, Option<String>, String, i64, String);
    let overdue: Vec<OverdueRow> = sqlx::query_as(
        "SELECT unit_id, member_no, name, guardian_phone, fee, owed, due_on FROM (
            SELECT b.unit_id, m.member_no, m.name, m.guardian_phone, f.name AS fee,
                   b.due_fen - b.paid_fen AS owed, b.due_on,
                   row_number() OVER (PARTITION BY b.unit_id ORDER BY b.due_fen - b.paid_fen DESC, b.due_on, b.id) AS n
            FROM bills b JOIN members m ON m.id = b.member_id
            JOIN fee_plans p ON p.id = b.plan_id JOIN fee_items f ON f.id = p.fee_item_id
            WHERE b.status IN ('open', 'partial') AND b.issued_at < ?1 AND b.due_on < ?2
              AND b.unit_id IN (SELECT value FROM json_each(?3)))
         WHERE n <= 20",
    )
    .bind(&end)
    .bind(as_of.format("%Y-%m-%d").to_string())
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    for (unit, member_no, name, phone, fee, owed, due_on) in overdue {
        let days_late =
            NaiveDate::parse_from_str(&due_on, "%Y-%m-%d").map_or(0, |d| (as_of - d).num_days());
        facts.overdue.entry(unit).or_default().push(Overdue {
            member_no,
            name,
            phone,
            fee,
            owed,
            due_on,
            days_late,
        });
    }
    Ok(facts)
}

/// The aging buckets' labels, in the dashboard's order.
pub fn aging_labels() -> [&'static str; 5] {
    let _ = AGING_BUCKETS;
    ["未到期", "0-30天", "31-60天", "61-90天", "90天以上"]
}

/// `张三明` -> `张*明`, `张三` -> `张*`, `Alice` -> `A***e`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
    }
}
