//! Directed-fee billing (定向收费): collection accounts, fee items, fee plans with their amount
//! rules and designated account, bills issued per member, offline payments and refunds under
//! idempotency keys, and the dashboard's money figures. Every change to money posts a balanced
//! entry in the [`crate::ledger`] in the same transaction.

mod accounts;
mod bills;
mod dashboard;
mod fees;
mod idempotency;
mod issue;
mod payments;
mod plan_edit;
mod plans;
mod refunds;
mod rule;

pub(crate) use accounts::insert_account;
pub use accounts::{
    Channel, CollectionAccount, add_account, archive_account, find_account, list_accounts,
};
pub use bills::{
    Bill, BillDetail, BillFilter, BillPage, BillPayment, bill_page, get_bill, list_bills, void_bill,
};
pub use dashboard::{
    AgingBucket, MoneyFigures, MoneyNode, MoneySummary, TrendDay, money_summary, money_tree,
};
pub(crate) use dashboard::{BUCKETS as AGING_BUCKETS, bucket as aging_bucket};
pub use fees::{FeeItem, add_fee, find_fee, list_fees};
pub use issue::{IssueReport, KeptBill, PreviewBill, UnitBills, issue_plan, preview_issue};
pub use payments::{
    PaymentRequest, PaymentResult, record_cash_fallback, record_payment, record_payments,
};
pub(crate) use payments::{payable_on, record_channel_payment};
pub use plan_edit::{PlanDiscount, delete_plan, edit_plan, plan_discounts};
pub use plans::{Plan, PlanRequest, PlanTarget, add_plan, get_plan, list_plans};
pub use refunds::{RefundRequest, RefundResult, refund};
pub(crate) use refunds::{RefundRoute, refund_by};
pub use rule::{AmountRule, Discount, DiscountValue};
