//! The demo's money: collection accounts for HQ and every store, tuition and materials plans for
//! every class (one with an early-bird tier, one self-declared, a few sibling discounts), and a
//! month of offline payments, a few refunds and a void, so the dashboard, the bills and the books
//! have something true to show. Everything goes through the real billing calls.
//!
//! Which member pays what is decided by a fixed formula on the bill id, so two demo runs build
//! the same figures; payments are spread over the 30 days before today.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::{CLASSES, STORES, TERM};
use crate::billing::{
    self, BillFilter, Channel, PaymentRequest, PlanRequest, PlanTarget, RefundRequest,
};
use crate::clock::FixedClock;
use crate::money::Money;
use crate::{FeeDesk, Result};

/// What the demo's billing built.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DemoBilling {
    pub accounts: usize,
    pub plans: usize,
    pub bills: u64,
    pub payments: usize,
    pub refunds: usize,
    pub billed: Money,
    pub collected: Money,
}

/// Tuition per class, by the class's position in [`CLASSES`].
const TUITION: [&str; 4] = [
    "fixed:3200",
    "fixed:2400",
    "fixed:2400",
    "tiers:2026-08-31=2600,2800",
];
/// Materials split per class.
const MATERIALS: [&str; 4] = ["split:1500", "split:3000", "split:3000", "split:800"];

const HQ_BANK: &str = "集团招商银行对公户";

fn cash(store: &str) -> String {
    format!("{store}前台现金")
}

pub async fn build(desk: &FeeDesk) -> Result<DemoBilling> {
    let mut accounts = 1;
    billing::add_account(desk, "HQ", Channel::OfflineBank, HQ_BANK).await?;
    for (_, store, _) in STORES {
        billing::add_account(desk, store, Channel::OfflineCash, &cash(store)).await?;
        billing::add_account(desk, store, Channel::Wechat, &format!("{store}微信支付")).await?;
        billing::add_account(desk, store, Channel::Alipay, &format!("{store}支付宝")).await?;
        accounts += 3;
    }
    billing::add_fee(desk, "HQ", "学费").await?;
    billing::add_fee(desk, "HQ", "材料费").await?;
    billing::add_fee(desk, "CD", "研学活动AA").await?;

    let today = crate::clock::local_date(desk.clock().now());
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
    let mut plans = vec![];
    for (_, store, _) in STORES {
        for (i, class) in CLASSES.iter().enumerate() {
            let discounts = if i == 0 {
                // Siblings in the piano class get 10% off tuition.
                vec![
                    format!("{store}0001=10%:兄弟姐妹同报"),
                    format!("{store}0005=500:奖学金"),
                ]
            } else {
                vec![]
            };
            let tuition = billing::add_plan(
                desk,
                &PlanRequest {
                    fee: "学费".into(),
                    target: PlanTarget::Class(format!("{store}/{class}")),
                    rule: TUITION[i].into(),
                    due_on: date(2026, 9, 15),
                    allow_partial: true,
                    account: HQ_BANK.into(),
                    discounts,
                },
            )
            .await?;
            let materials = billing::add_plan(
                desk,
                &PlanRequest {
                    fee: "材料费".into(),
                    target: PlanTarget::Class(format!("{store}/{class}")),
                    rule: MATERIALS[i].into(),
                    due_on: date(2026, 10, 31),
                    allow_partial: false,
                    account: cash(store),
                    discounts: vec![],
                },
            )
            .await?;
            plans.push(tuition.id);
            plans.push(materials.id);
        }
    }
    let trip = billing::add_plan(
        desk,
        &PlanRequest {
            fee: "CD/研学活动AA".into(),
            target: PlanTarget::Class("CD/英语口语班".into()),
            rule: "declared:100-300".into(),
            due_on: date(2026, 12, 10),
            allow_partial: false,
            account: cash("CD"),
            discounts: vec![],
        },
    )
    .await?;
    plans.push(trip.id);
    let _ = TERM;
    for id in &plans {
        billing::issue_plan(desk, *id).await?;
    }

    // A month of payments: most pay in full, some in part, some not yet. Tuition goes to HQ's
    // bank account with a transfer reference; materials and the trip are paid in cash.
    let bills = billing::list_bills(desk, &BillFilter::default()).await?;
    let mut by_day: Vec<Vec<PaymentRequest>> = vec![vec![]; 30];
    for bill in &bills {
        let roll = (bill.id * 7919) % 100;
        let amount = match roll {
            0..=64 => bill.amount_due,
            65..=74 if bill.allow_partial => Money::from_fen((bill.amount_due.fen() / 2).max(1))?,
            _ => continue,
        };
        if amount == Money::ZERO {
            continue;
        }
        let amount = if bill.fee == "研学活动AA" {
            // Each family declares what it can: 100-300.
            Money::from_fen(10_000 + (bill.id % 5) * 5_000)?
        } else {
            amount
        };
        let bank = bill.account == HQ_BANK;
        by_day[(bill.id as usize * 31) % 30].push(PaymentRequest {
            bill_id: bill.id,
            amount,
            account: bill.account_id.to_string(),
            reference: bank.then(|| format!("CMB20260{:07}", bill.id * 13)),
            key: format!("demo-pay-{}", bill.id),
        });
    }
    let mut payments = vec![];
    for (back, batch) in by_day.into_iter().enumerate() {
        if batch.is_empty() {
            continue;
        }
        let day = desk.clock().now() - Duration::days(30 - back as i64);
        let at = desk.with_clock(Arc::new(FixedClock(day)));
        payments.extend(billing::record_payments(&at, &batch).await?);
    }

    // A family moved away (full refund), two materials overcharges (partial), a transfer (void).
    let mut refunds = 0;
    let mut refunded_bills = vec![];
    for (n, p) in payments
        .iter()
        .filter(|p| p.status == "paid")
        .take(3)
        .enumerate()
    {
        let (amount, reason) = if n == 0 {
            (p.amount, "家庭搬迁，全额退费")
        } else {
            (
                Money::from_fen(p.amount.fen().min(5_000))?,
                "教材未发放部分退费",
            )
        };
        billing::refund(
            desk,
            &RefundRequest {
                payment_id: p.payment_id,
                amount,
                reason: reason.into(),
                key: format!("demo-refund-{}", p.payment_id),
            },
        )
        .await?;
        refunded_bills.push(p.bill_id);
        refunds += 1;
    }
    if let Some(open) = bills.iter().find(|b| {
        b.status == "open"
            && !refunded_bills.contains(&b.id)
            && !payments.iter().any(|p| p.bill_id == b.id)
    }) {
        billing::void_bill(desk, open.id, "学员转班，账单作废").await?;
    }

    let summary = billing::money_summary(desk, "HQ", None).await?;
    Ok(DemoBilling {
        accounts,
        plans: plans.len(),
        bills: summary.figures.bills,
        payments: payments.len(),
        refunds,
        billed: summary.figures.billed,
        collected: summary.figures.collected,
    })
}
