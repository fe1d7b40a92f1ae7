//! The demo's reconciliation: today's WeChat Pay trade bill of 西湖校区's sandbox account, written
//! in the channel's format from what the channel collected, with one of every discrepancy a
//! real day brings — a payment the channel reports a yuan higher, one it does not report, a
//! POS payment FeeDesk never recorded, a refund it reports for less — imported, reconciled (the
//! fees posted to the books), the POS line explained; the rest stay open on the
//! Reconciliation page for the user to try.
//!
//! Needs the channel part of the demo (the keyring); skipped with it.

use serde::Serialize;

use crate::clock::{LOCAL_OFFSET, local_date};
use crate::progress::{CancelToken, ignore_progress};
use crate::reconcile::{self, Resolution, ResolveRequest};
use crate::{FeeDesk, Result};

/// What the demo reconciled.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoReconciliation {
    /// Why this part was skipped, if it was.
    pub skipped: Option<String>,
    pub account: String,
    pub day: String,
    pub lines: u64,
    pub matched: u64,
    pub amount_mismatch: u64,
    pub ours_only: u64,
    pub channel_only: u64,
    pub refund_mismatch: u64,
    pub fees_total: String,
}

const HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.abs() / 100, fen.abs() % 100)
}

fn fee(fen: i64) -> i64 {
    (fen * 6 + 500) / 1000
}

/// A line of the bill: (time, transaction id, order no, refund no or "", fen).
type Row = (String, String, String, String, i64);

fn wechat_bill(mch_id: &str, rows: &[Row]) -> String {
    let tick = |fields: Vec<String>| {
        let mut line = fields
            .iter()
            .map(|f| format!("`{f}"))
            .collect::<Vec<_>>()
            .join(",");
        line.push_str("\r\n");
        line
    };
    let mut out = format!("{HEADER}\r\n");
    let (mut settle, mut refunded, mut fees) = (0, 0, 0);
    for (time, txn, order, refund_no, fen) in rows {
        let f = fee(*fen);
        let common = |state: &str| {
            vec![
                time.clone(),
                "wxdemo0000000000".into(),
                mch_id.into(),
                "0".into(),
                String::new(),
                txn.clone(),
                order.clone(),
                "oDemoPayer".into(),
                "NATIVE".into(),
                state.into(),
                "OTHERS".into(),
                "CNY".into(),
            ]
        };
        let fields = if refund_no.is_empty() {
            settle += fen;
            fees += f;
            let mut v = common("SUCCESS");
            v.extend([
                yuan(*fen),
                "0.00".into(),
                "0".into(),
                "0".into(),
                "0.00".into(),
                "0.00".into(),
                String::new(),
                String::new(),
                "考级报名费".into(),
                String::new(),
                format!("{}000", yuan(f)),
                "0.60%".into(),
                yuan(*fen),
                "0.00".into(),
                String::new(),
            ]);
            v
        } else {
            refunded += fen;
            fees -= f;
            let mut v = common("REFUND");
            v.extend([
                "0.00".into(),
                "0.00".into(),
                format!("50{refund_no}"),
                refund_no.clone(),
                yuan(*fen),
                "0.00".into(),
                "ORIGINAL".into(),
                "SUCCESS".into(),
                "考级报名费".into(),
                String::new(),
                format!("{}000", yuan(-f)),
                "0.60%".into(),
                "0.00".into(),
                yuan(*fen),
                String::new(),
            ]);
            v
        };
        out.push_str(&tick(fields));
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    out.push_str(&tick(vec![
        rows.len().to_string(),
        yuan(settle),
        yuan(refunded),
        "0.00".into(),
        format!("{}000", yuan(fees)),
        yuan(settle),
        yuan(refunded),
    ]));
    out
}

fn beijing_time(stored: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(stored)
        .map(|t| {
            t.with_timezone(&LOCAL_OFFSET)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

pub async fn build(desk: &FeeDesk, channels_skipped: Option<&str>) -> Result<DemoReconciliation> {
    if let Some(why) = channels_skipped {
        return Ok(DemoReconciliation {
            skipped: Some(format!(
                "needs the channel collection, which was skipped: {why}"
            )),
            ..Default::default()
        });
    }
    let account: Option<(i64, String, String)> = sqlx::query_as(
        "SELECT a.id, a.name, s.merchant_id FROM collection_accounts a
         JOIN channel_settings s ON s.account_id = a.id WHERE a.channel = 'wechat' ORDER BY a.id LIMIT 1",
    )
    .fetch_optional(desk.db().pool())
    .await?;
    let Some((account_id, name, mch_id)) = account else {
        return Ok(DemoReconciliation {
            skipped: Some("no WeChat Pay account with channel settings".into()),
            ..Default::default()
        });
    };
    let paid: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT o.out_trade_no, o.transaction_id, p.amount_fen, p.received_at FROM channel_orders o
         JOIN payments p ON p.id = o.payment_id WHERE o.account_id = ? ORDER BY p.id",
    )
    .bind(account_id)
    .fetch_all(desk.db().pool())
    .await?;
    let refunds: Vec<(String, String, String, i64, String)> = sqlx::query_as(
        "SELECT o.out_trade_no, o.transaction_id, cr.out_refund_no, r.amount_fen, r.refunded_at
         FROM channel_refunds cr JOIN channel_orders o ON o.id = cr.order_id
         JOIN refunds r ON r.id = cr.refund_id WHERE o.account_id = ? AND cr.status = 'done'",
    )
    .bind(account_id)
    .fetch_all(desk.db().pool())
    .await?;
    let day = local_date(desk.clock().now());
    let mut rows: Vec<Row> = vec![];
    for (n, (order, txn, fen, at)) in paid.iter().enumerate() {
        match n {
            0 => rows.push((
                beijing_time(at),
                txn.clone(),
                order.clone(),
                String::new(),
                fen + 100,
            )),
            1 => {} // the channel does not report it: ours only
            _ => rows.push((
                beijing_time(at),
                txn.clone(),
                order.clone(),
                String::new(),
                *fen,
            )),
        }
    }
    rows.push((
        format!("{day} 12:05:00"),
        format!("4200000000{}0000001", day.format("%Y%m%d")),
        "POS-DEMO-0001".into(),
        String::new(),
        6_600,
    ));
    for (order, txn, refund_no, fen, at) in &refunds {
        // The channel reports the refund a yuan short.
        rows.push((
            beijing_time(at),
            txn.clone(),
            order.clone(),
            refund_no.clone(),
            fen - 100,
        ));
    }
    rows.sort();
    let bill = wechat_bill(&mch_id, &rows);
    let file = format!("demo-wechat-{}.csv", day.format("%Y%m%d"));
    reconcile::import_statement_bytes(desk, &name, &file, bill.as_bytes()).await?;
    let summary =
        reconcile::run_reconciliation(desk, &name, day, day, &ignore_progress, &CancelToken::new())
            .await?;
    let pos = reconcile::list_items(
        desk,
        &reconcile::ItemFilter {
            class: Some("channel_only".into()),
            account: Some(name.clone()),
            ..Default::default()
        },
    )
    .await?;
    if let Some(item) = pos
        .iter()
        .find(|i| i.out_trade_no.as_deref() == Some("POS-DEMO-0001"))
    {
        // An explanation asks no channel: the keyring is not touched.
        reconcile::resolve_item(
            desk,
            &crate::secrets::SecretStore::from_env(),
            &ResolveRequest {
                item_id: item.id,
                action: Resolution::Explain,
                note: "前台POS机误用了校区的微信商户号，款项已当日原路退回".into(),
                bill_id: None,
            },
        )
        .await?;
    }
    Ok(DemoReconciliation {
        skipped: None,
        account: name,
        day: day.format("%Y-%m-%d").to_string(),
        lines: summary.lines,
        matched: summary.matched.count,
        amount_mismatch: summary.amount_mismatch.count,
        ours_only: summary.ours_only.count,
        channel_only: summary.channel_only.count,
        refund_mismatch: summary.refund_mismatch.count,
        fees_total: summary.fees_total.to_string(),
    })
}
