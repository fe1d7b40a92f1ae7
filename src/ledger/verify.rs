//! Recomputes the books from first principles and reports every disagreement: each entry's lines
//! against its declared total, the running balances against the lines, each unit's receivable
//! against its bills, each bill against its payments and refunds, and the dashboard totals
//! against the bills. An empty report is what a crash, a bug or a hand edit must never break.

use serde::Serialize;

use crate::{FeeDesk, Result};

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LedgerCheck {
    pub entries: i64,
    pub lines: i64,
    pub bills: i64,
    /// One sentence per disagreement; empty when the books are sound.
    pub problems: Vec<String>,
}

impl LedgerCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the books and the bills behind them.
pub async fn verify(desk: &FeeDesk) -> Result<LedgerCheck> {
    let pool = desk.db().pool();
    let mut check = LedgerCheck {
        entries: sqlx::query_scalar("SELECT count(*) FROM journal_entries")
            .fetch_one(pool)
            .await?,
        lines: sqlx::query_scalar("SELECT count(*) FROM journal_lines")
            .fetch_one(pool)
            .await?,
        bills: sqlx::query_scalar("SELECT count(*) FROM bills")
            .fetch_one(pool)
            .await?,
        problems: vec![],
    };
    let queries: [(&str, &str); 13] = [
        (
            "journal entry {} does not balance or does not match its total",
            "SELECT e.id FROM journal_entries e
             LEFT JOIN (SELECT entry_id, sum(debit_fen) d, sum(credit_fen) c FROM journal_lines GROUP BY entry_id) l
               ON l.entry_id = e.id
             WHERE coalesce(l.d, 0) <> e.total_fen OR coalesce(l.c, 0) <> e.total_fen",
        ),
        (
            "the running balance of ledger account {} disagrees with its lines",
            "SELECT a.id FROM ledger_accounts a
             LEFT JOIN ledger_balances b ON b.account_id = a.id
             LEFT JOIN (SELECT account_id, sum(debit_fen) d, sum(credit_fen) c FROM journal_lines GROUP BY account_id) l
               ON l.account_id = a.id
             WHERE coalesce(b.debit_fen, 0) <> coalesce(l.d, 0) OR coalesce(b.credit_fen, 0) <> coalesce(l.c, 0)",
        ),
        (
            "the receivable in the books of unit {} disagrees with its open bills",
            "SELECT u.id FROM units u
             WHERE coalesce((SELECT sum(b.debit_fen - b.credit_fen) FROM ledger_balances b
                             JOIN ledger_accounts a ON a.id = b.account_id
                             WHERE a.unit_id = u.id AND a.code = '1122'), 0)
                <> coalesce((SELECT sum(due_fen - paid_fen) FROM bills
                             WHERE unit_id = u.id AND status IN ('open', 'partial')), 0)",
        ),
        (
            "the amount paid on bill {} disagrees with its payments",
            "SELECT b.id FROM bills b
             WHERE b.paid_fen <> coalesce((SELECT sum(amount_fen) FROM payments WHERE bill_id = b.id), 0)
                OR b.refunded_fen <> coalesce((SELECT sum(refunded_fen) FROM payments WHERE bill_id = b.id), 0)",
        ),
        (
            "the amount refunded on payment {} disagrees with its refunds",
            "SELECT p.id FROM payments p
             WHERE p.refunded_fen <> coalesce((SELECT sum(amount_fen) FROM refunds WHERE payment_id = p.id), 0)",
        ),
        (
            "refund {} was recorded by hand, but its payment came through a channel: the channel never paid it back (or it was paid back twice)",
            "SELECT r.id FROM refunds r
             JOIN payments p ON p.id = r.payment_id
             JOIN collection_accounts ca ON ca.id = p.account_id
             WHERE ca.channel IN ('wechat', 'alipay', 'unionpay')
               AND NOT EXISTS (SELECT 1 FROM channel_refunds cr WHERE cr.refund_id = r.id)",
        ),
        (
            "payment {} has more refunded and still being refunded through the channel than was paid: a refund is recorded twice",
            "SELECT p.id FROM payments p
             WHERE p.refunded_fen + coalesce((SELECT sum(cr.amount_fen) FROM channel_refunds cr
                                             JOIN channel_orders o ON o.id = cr.order_id
                                             WHERE o.payment_id = p.id AND cr.status = 'pending'), 0)
                   > p.amount_fen",
        ),
        (
            "refund {} is recorded for more than one channel refund",
            "SELECT refund_id FROM channel_refunds WHERE refund_id IS NOT NULL
             GROUP BY refund_id HAVING count(*) > 1",
        ),
        (
            "the status of bill {} disagrees with its amounts",
            "SELECT id FROM bills WHERE NOT CASE status
                 WHEN 'open' THEN paid_fen = 0 AND due_fen > 0
                 WHEN 'partial' THEN paid_fen > 0 AND paid_fen < due_fen AND refunded_fen < paid_fen
                 WHEN 'paid' THEN paid_fen = due_fen AND (refunded_fen < paid_fen OR paid_fen = 0)
                 WHEN 'refunded' THEN refunded_fen = paid_fen AND paid_fen > 0
                 WHEN 'voided' THEN paid_fen = 0
                 ELSE 0 END",
        ),
        (
            "the money accounts of unit {} disagree with its payments less refunds and channel fees",
            "SELECT u.id FROM units u
             WHERE coalesce((SELECT sum(b.debit_fen - b.credit_fen) FROM ledger_balances b
                             JOIN ledger_accounts a ON a.id = b.account_id
                             WHERE a.unit_id = u.id
                               AND (a.code LIKE '1001.%' OR a.code LIKE '1002.%' OR a.code LIKE '1012.%')), 0)
                <> coalesce((SELECT sum(p.amount_fen - p.refunded_fen) FROM payments p
                             JOIN collection_accounts ca ON ca.id = p.account_id
                             WHERE ca.unit_id = u.id), 0)
                   - coalesce((SELECT sum(d.posted_fen) FROM channel_fee_days d
                             JOIN collection_accounts ca ON ca.id = d.account_id
                             WHERE ca.unit_id = u.id), 0)",
        ),
        (
            "the channel fees (6603) of unit {} disagree with the fees reconciliation posted",
            "SELECT u.id FROM units u
             WHERE coalesce((SELECT sum(b.debit_fen - b.credit_fen) FROM ledger_balances b
                             JOIN ledger_accounts a ON a.id = b.account_id
                             WHERE a.unit_id = u.id AND a.code = '6603'), 0)
                <> coalesce((SELECT sum(d.posted_fen) FROM channel_fee_days d
                             JOIN collection_accounts ca ON ca.id = d.account_id
                             WHERE ca.unit_id = u.id), 0)",
        ),
        (
            "the inter-unit balances do not cancel out (off by {} fen)",
            "SELECT sum(b.debit_fen - b.credit_fen) FROM ledger_balances b
             JOIN ledger_accounts a ON a.id = b.account_id
             WHERE a.code = '1901' HAVING sum(b.debit_fen - b.credit_fen) <> 0",
        ),
        (
            "the dashboard totals of unit {} disagree with its bills",
            "SELECT DISTINCT coalesce(x.unit_id, t.unit_id) FROM (
                 SELECT unit_id, due_on, status, count(*) n, sum(due_fen) d, sum(paid_fen) p, sum(refunded_fen) r
                 FROM bills GROUP BY unit_id, due_on, status) x
             FULL JOIN (SELECT * FROM bill_totals
                        WHERE bills <> 0 OR due_fen <> 0 OR paid_fen <> 0 OR refunded_fen <> 0) t
               ON t.unit_id = x.unit_id AND t.due_on = x.due_on AND t.status = x.status
             WHERE x.n IS NOT t.bills OR x.d IS NOT t.due_fen OR x.p IS NOT t.paid_fen
                OR x.r IS NOT t.refunded_fen",
        ),
    ];
    for (sentence, sql) in queries {
        let ids: Vec<Option<i64>> = sqlx::query_scalar(sql).fetch_all(pool).await?;
        for id in ids {
            let id = id.map_or_else(|| "?".to_string(), |i| i.to_string());
            check.problems.push(sentence.replacen("{}", &id, 1));
        }
    }
    Ok(check)
}
