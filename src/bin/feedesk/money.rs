//! The money commands: accounts, fee items, plans, bills, payments, refunds, the ledger and the
//! dashboard figures. Each is one call into the core and one print.

use std::process::ExitCode;

use feedesk::billing::{
    self, BillFilter, Channel, IssueReport, MoneyNode, PaymentRequest, PlanRequest, PlanTarget,
    RefundRequest,
};
use feedesk::money::Money;
use feedesk::{FeeDesk, Result, ledger};

use crate::cli::*;
use crate::output::{self, table};

fn channel(arg: ChannelArg) -> Channel {
    match arg {
        ChannelArg::Wechat => Channel::Wechat,
        ChannelArg::Alipay => Channel::Alipay,
        ChannelArg::Unionpay => Channel::Unionpay,
        ChannelArg::OfflineCash => Channel::OfflineCash,
        ChannelArg::OfflineBank => Channel::OfflineBank,
    }
}

pub async fn account(desk: &FeeDesk, cmd: AccountCommand, json: bool) -> Result<()> {
    let account = match cmd {
        AccountCommand::Add {
            unit,
            channel: ch,
            name,
            keys,
        } => {
            if keys.any() {
                return crate::channels::add_account(desk, &unit, channel(ch), &name, keys, json)
                    .await;
            }
            billing::add_account(desk, &unit, channel(ch), &name).await?
        }
        AccountCommand::Configure { account, keys } => {
            return crate::channels::configure_account(desk, &account, keys, json).await;
        }
        AccountCommand::Test { account } => {
            return crate::channels::test_account(desk, &account, json).await;
        }
        AccountCommand::Archive { account } => billing::archive_account(desk, &account).await?,
        AccountCommand::List => {
            let accounts = billing::list_accounts(desk).await?;
            if json {
                return output::json(&accounts);
            }
            let rows: Vec<Vec<String>> = accounts
                .iter()
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        a.unit_code.clone(),
                        a.channel.as_str().into(),
                        a.name.clone(),
                        if a.archived {
                            "archived".into()
                        } else {
                            String::new()
                        },
                    ]
                })
                .collect();
            table(&["id", "unit", "channel", "name", ""], &rows);
            return Ok(());
        }
    };
    if json {
        output::json(&account)
    } else {
        say!(
            "Account {} {} ({}) of {}{}",
            account.id,
            account.name,
            account.channel.as_str(),
            account.unit_code,
            if account.archived { ", archived" } else { "" }
        );
        Ok(())
    }
}

pub async fn fee(desk: &FeeDesk, cmd: FeeCommand, json: bool) -> Result<()> {
    match cmd {
        FeeCommand::Add { unit, name } => {
            let fee = billing::add_fee(desk, &unit, &name).await?;
            if json {
                return output::json(&fee);
            }
            say!("Fee item {} {} of {}", fee.id, fee.name, fee.unit_code);
        }
        FeeCommand::List => {
            let fees = billing::list_fees(desk).await?;
            if json {
                return output::json(&fees);
            }
            let rows: Vec<Vec<String>> = fees
                .iter()
                .map(|f| vec![f.id.to_string(), f.unit_code.clone(), f.name.clone()])
                .collect();
            table(&["id", "unit", "name"], &rows);
        }
    }
    Ok(())
}

/// A plan's rule for people: an early-bird rule as its price schedule.
fn rule_text(rule: &str) -> String {
    rule.parse::<billing::AmountRule>()
        .ok()
        .and_then(|r| r.schedule())
        .unwrap_or_else(|| rule.to_string())
}

/// The plan `plan add` and `plan edit` describe.
fn plan_request(args: PlanArgs) -> PlanRequest {
    let target = match (args.class, args.term, args.unit) {
        (Some(class), _, _) => PlanTarget::Class(class),
        (_, Some(term), _) => PlanTarget::Term(term),
        (_, _, Some(unit)) => PlanTarget::Unit(unit),
        _ => unreachable!("clap requires one target"),
    };
    PlanRequest {
        fee: args.fee,
        target,
        rule: args.rule,
        due_on: args.due,
        allow_partial: args.partial,
        account: args.account,
        discounts: args.discounts,
    }
}

pub async fn plan(desk: &FeeDesk, cmd: PlanCommand, json: bool) -> Result<()> {
    match cmd {
        PlanCommand::Add(args) => {
            let plan = billing::add_plan(desk, &plan_request(args)).await?;
            if json {
                return output::json(&plan);
            }
            say!(
                "Plan {}: {} for {} {}, {} due {}, into '{}'. Issue it with `feedesk plan issue {}`",
                plan.id,
                plan.fee,
                plan.target_kind,
                plan.target,
                rule_text(&plan.rule),
                plan.due_on,
                plan.account,
                plan.id
            );
        }
        PlanCommand::Edit { plan_id, args } => {
            let plan = billing::edit_plan(desk, plan_id, &plan_request(args)).await?;
            if json {
                return output::json(&plan);
            }
            say!(
                "Plan {} rewritten: {} for {} {}, {} due {}, into '{}', {} discounts",
                plan.id,
                plan.fee,
                plan.target_kind,
                plan.target,
                plan.rule,
                plan.due_on,
                plan.account,
                plan.discounts
            );
        }
        PlanCommand::Delete { plan_id } => {
            let plan = billing::delete_plan(desk, plan_id).await?;
            if json {
                return output::json(&plan);
            }
            say!(
                "Plan {} deleted ({} for {} {})",
                plan.id,
                plan.fee,
                plan.target_kind,
                plan.target
            );
        }
        PlanCommand::List { unit } => {
            let plans = billing::list_plans(desk, unit.as_deref()).await?;
            if json {
                return output::json(&plans);
            }
            let rows: Vec<Vec<String>> = plans
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.unit_code.clone(),
                        p.fee.clone(),
                        format!("{} {}", p.target_kind, p.target),
                        rule_text(&p.rule),
                        p.due_on.clone(),
                        p.account.clone(),
                        p.bills.to_string(),
                    ]
                })
                .collect();
            table(
                &[
                    "id", "unit", "fee", "charges", "rule", "due", "account", "bills",
                ],
                &rows,
            );
        }
        PlanCommand::Preview { plan_id } => {
            let report = billing::preview_issue(desk, plan_id).await?;
            if json {
                return output::json(&report);
            }
            print_issue(&report);
        }
        PlanCommand::Issue { plan_id } => {
            let report = billing::issue_plan(desk, plan_id).await?;
            if json {
                return output::json(&report);
            }
            print_issue(&report);
        }
    }
    Ok(())
}

fn print_issue(r: &IssueReport) {
    let verb = if r.committed { "Issued" } else { "Would issue" };
    say!(
        "{verb} plan {}: {} new bill(s), {} due (gross {}, discounts {}); {} already billed; {} voided ({})",
        r.plan_id,
        r.new_bills,
        r.new_amount_due,
        r.new_gross,
        r.new_discounts,
        r.already_billed,
        r.voided,
        r.voided_amount
    );
    for u in &r.by_unit {
        say!("  {}: {} bill(s), {}", u.unit_code, u.bills, u.amount_due);
    }
    for k in &r.kept {
        say!("  kept: {}", k.note);
    }
}

pub async fn bill(desk: &FeeDesk, cmd: BillCommand, json: bool) -> Result<()> {
    match cmd {
        BillCommand::List {
            unit,
            term,
            class,
            status,
            plan,
            search,
        } => {
            let filter = BillFilter {
                unit_code: unit,
                term_name: term,
                class_name: class,
                status,
                plan_id: plan,
                search,
            };
            let bills = billing::list_bills(desk, &filter).await?;
            if json {
                return output::json(&bills);
            }
            let rows: Vec<Vec<String>> = bills
                .iter()
                .map(|b| {
                    vec![
                        b.id.to_string(),
                        b.unit_code.clone(),
                        b.member_no.clone(),
                        b.member_name.clone(),
                        b.fee.clone(),
                        b.amount_due.to_string(),
                        b.amount_paid.to_string(),
                        b.amount_refunded.to_string(),
                        b.status.clone(),
                        b.due_date.clone(),
                    ]
                })
                .collect();
            table(
                &[
                    "id",
                    "store",
                    "member_no",
                    "name",
                    "fee",
                    "due",
                    "paid",
                    "refunded",
                    "status",
                    "due_date",
                ],
                &rows,
            );
            say!("{} bill(s)", bills.len());
        }
        BillCommand::Show { bill_id } => {
            let detail = billing::get_bill(desk, bill_id).await?;
            if json {
                return output::json(&detail);
            }
            let b = &detail.bill;
            say!(
                "Bill {} · {} {} ({}) · {} · due {} on {} · paid {} · refunded {} · {}",
                b.id,
                b.member_no,
                b.member_name,
                b.unit_code,
                b.fee,
                b.amount_due,
                b.due_date,
                b.amount_paid,
                b.amount_refunded,
                b.status
            );
            // An early-bird plan: the price depends on the day it is paid.
            if b.amount_paid == Money::ZERO
                && let Ok(plan) = billing::get_plan(desk, b.plan).await
                && let Some(schedule) = plan
                    .rule
                    .parse::<billing::AmountRule>()
                    .ok()
                    .and_then(|r| r.schedule())
            {
                say!("  price: {schedule} (by the day it is paid)");
            }
            for p in &detail.payments {
                say!(
                    "  payment {}: {} into {} ({}) {} at {}{}",
                    p.payment_id,
                    p.amount,
                    p.account,
                    p.channel,
                    p.reference.as_deref().unwrap_or(""),
                    feedesk::clock::local_display(&p.received_at),
                    if p.refunded > Money::ZERO {
                        format!(", refunded {}", p.refunded)
                    } else {
                        String::new()
                    }
                );
            }
        }
        BillCommand::Void { bill_id, reason } => {
            let bill = billing::void_bill(desk, bill_id, &reason).await?;
            if json {
                return output::json(&bill);
            }
            say!("Bill {} is {}", bill.id, bill.status);
        }
    }
    Ok(())
}

pub async fn pay(desk: &FeeDesk, args: PayArgs, json: bool) -> Result<()> {
    let req = PaymentRequest {
        bill_id: args.bill,
        amount: args.amount.parse()?,
        account: args.account,
        reference: args.reference,
        key: args.key,
    };
    let result = match &args.cash_fallback {
        Some(reason) => billing::record_cash_fallback(desk, &req, reason).await?,
        None => billing::record_payment(desk, &req).await?,
    };
    if json {
        return output::json(&result);
    }
    say!(
        "Payment {}: {} on bill {}; bill is {}, {} outstanding",
        result.payment_id,
        result.amount,
        result.bill_id,
        result.status,
        result.outstanding
    );
    if let Some(number) = &result.receipt_no {
        say!("Receipt {number} issued (`feedesk receipt pdf {number} --out FILE`)");
    }
    Ok(())
}

pub async fn refund(desk: &FeeDesk, args: RefundArgs, json: bool) -> Result<()> {
    let result = billing::refund(
        desk,
        &RefundRequest {
            payment_id: args.payment,
            amount: args.amount.parse()?,
            reason: args.reason,
            key: args.key,
        },
    )
    .await?;
    if json {
        return output::json(&result);
    }
    say!(
        "Refund {}: {} of payment {}; bill {} is {}; {} left to refund",
        result.refund_id,
        result.amount,
        result.payment_id,
        result.bill_id,
        result.status,
        result.refundable
    );
    Ok(())
}

/// Exit code when `ledger verify` finds the books disagree.
const EXIT_BOOKS_DISAGREE: u8 = 3;

pub async fn ledger(desk: &FeeDesk, cmd: LedgerCommand, json: bool) -> Result<ExitCode> {
    match cmd {
        LedgerCommand::TrialBalance { unit, rollup } => {
            let tb = ledger::trial_balance(desk, &unit, rollup).await?;
            if json {
                output::json(&tb)?;
            } else {
                let rows: Vec<Vec<String>> = tb
                    .lines
                    .iter()
                    .map(|l| {
                        vec![
                            l.code.clone(),
                            l.name.clone(),
                            l.debit.to_string(),
                            l.credit.to_string(),
                            l.balance.to_string(),
                        ]
                    })
                    .collect();
                say!(
                    "Trial balance of {} {}{}",
                    tb.unit,
                    tb.unit_name,
                    if tb.rollup { " (rolled up)" } else { "" }
                );
                table(&["code", "account", "debit", "credit", "balance"], &rows);
                say!(
                    "Total debit {} · total credit {} · {}",
                    tb.total_debit,
                    tb.total_credit,
                    if tb.balanced {
                        "balanced"
                    } else {
                        "NOT BALANCED"
                    }
                );
            }
        }
        LedgerCommand::Verify => {
            let check = ledger::verify(desk).await?;
            if json {
                output::json(&serde_json::json!({"ok": check.ok(), "check": check}))?;
            } else if check.ok() {
                say!(
                    "Books sound: {} entries, {} lines, {} bills agree",
                    check.entries,
                    check.lines,
                    check.bills
                );
            } else {
                for p in &check.problems {
                    say!("{p}");
                }
            }
            if !check.ok() {
                return Ok(ExitCode::from(EXIT_BOOKS_DISAGREE));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn dashboard(
    desk: &FeeDesk,
    unit: &str,
    as_of: Option<chrono::NaiveDate>,
    json: bool,
) -> Result<()> {
    let summary = billing::money_summary(desk, unit, as_of).await?;
    let tree = billing::money_tree(desk, unit).await?;
    if json {
        return output::json(&serde_json::json!({"summary": summary, "tree": tree}));
    }
    let f = &summary.figures;
    say!(
        "{} {} as of {}: billed {} · collected {} · refunded {} · outstanding {} · collection rate {}%",
        summary.unit,
        summary.unit_name,
        summary.as_of,
        f.billed,
        f.collected,
        f.refunded,
        f.outstanding,
        (f.collection_rate * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1)
    );
    let aging: Vec<String> = summary
        .aging
        .iter()
        .map(|a| format!("{} {} ({})", a.bucket, a.amount, a.bills))
        .collect();
    say!("Outstanding by days overdue: {}", aging.join(" · "));
    let mut rows = vec![];
    fn walk(node: &MoneyNode, depth: usize, rows: &mut Vec<Vec<String>>) {
        let f = &node.figures;
        rows.push(vec![
            format!("{}{} {}", "  ".repeat(depth), node.code, node.name),
            f.billed.to_string(),
            f.collected.to_string(),
            f.outstanding.to_string(),
            format!(
                "{}%",
                (f.collection_rate * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1)
            ),
        ]);
        for child in &node.children {
            walk(child, depth + 1, rows);
        }
    }
    walk(&tree, 0, &mut rows);
    table(
        &["unit", "billed", "collected", "outstanding", "rate"],
        &rows,
    );
    Ok(())
}
