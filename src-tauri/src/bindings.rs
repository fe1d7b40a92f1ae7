//! The TypeScript bindings of every IPC type, as committed in `ui/src/ipc/bindings/`.
//!
//! `tests/bindings.rs` renders them and fails when the committed files are stale;
//! `UPDATE_BINDINGS=1 cargo test -p feedesk-desktop --test shell bindings` rewrites them.

use std::path::Path;

use ts_rs::{Config, ExportError, TS};

/// i64/u64 cross as JSON numbers (ids and counts stay far below 2^53).
pub fn config(out_dir: &Path) -> Config {
    Config::new().with_large_int("number").with_out_dir(out_dir)
}

/// Writes every IPC type (and what it depends on) into `out_dir`.
pub fn export_all(out_dir: &Path) -> Result<(), ExportError> {
    let cfg = config(out_dir);
    // Core types (the `ts` feature of the feedesk crate).
    feedesk::ErrorCode::export_all(&cfg)?;
    feedesk::org::Unit::export_all(&cfg)?;
    feedesk::org::UnitKind::export_all(&cfg)?;
    feedesk::org::UnitNode::export_all(&cfg)?;
    feedesk::org::Term::export_all(&cfg)?;
    feedesk::org::Class::export_all(&cfg)?;
    feedesk::org::Member::export_all(&cfg)?;
    feedesk::org::MemberPage::export_all(&cfg)?;
    feedesk::org::Overview::export_all(&cfg)?;
    feedesk::roster::ImportMode::export_all(&cfg)?;
    feedesk::roster::ImportReport::export_all(&cfg)?;
    feedesk::roster::Column::export_all(&cfg)?;
    feedesk::roster::Field::export_all(&cfg)?;
    feedesk::roster::RowError::export_all(&cfg)?;
    feedesk::roster::Batch::export_all(&cfg)?;
    feedesk::roster::UndoReport::export_all(&cfg)?;
    feedesk::progress::Progress::export_all(&cfg)?;
    feedesk::demo::DemoReport::export_all(&cfg)?;
    feedesk::billing::Channel::export_all(&cfg)?;
    feedesk::billing::CollectionAccount::export_all(&cfg)?;
    feedesk::billing::FeeItem::export_all(&cfg)?;
    feedesk::billing::Plan::export_all(&cfg)?;
    feedesk::billing::PlanTarget::export_all(&cfg)?;
    feedesk::billing::IssueReport::export_all(&cfg)?;
    feedesk::billing::KeptBill::export_all(&cfg)?;
    feedesk::billing::PreviewBill::export_all(&cfg)?;
    feedesk::billing::UnitBills::export_all(&cfg)?;
    feedesk::billing::Bill::export_all(&cfg)?;
    feedesk::billing::BillDetail::export_all(&cfg)?;
    feedesk::billing::BillFilter::export_all(&cfg)?;
    feedesk::billing::BillPage::export_all(&cfg)?;
    feedesk::billing::BillPayment::export_all(&cfg)?;
    feedesk::billing::PaymentResult::export_all(&cfg)?;
    feedesk::billing::RefundResult::export_all(&cfg)?;
    feedesk::billing::MoneySummary::export_all(&cfg)?;
    feedesk::billing::MoneyFigures::export_all(&cfg)?;
    feedesk::billing::AgingBucket::export_all(&cfg)?;
    feedesk::billing::TrendDay::export_all(&cfg)?;
    feedesk::billing::MoneyNode::export_all(&cfg)?;
    feedesk::ledger::TrialBalance::export_all(&cfg)?;
    feedesk::ledger::TrialLine::export_all(&cfg)?;
    feedesk::ledger::AccountKind::export_all(&cfg)?;
    feedesk::collection::CollectOrder::export_all(&cfg)?;
    feedesk::collection::ChannelOrder::export_all(&cfg)?;
    feedesk::collection::QrExport::export_all(&cfg)?;
    feedesk::collection::SyncReport::export_all(&cfg)?;
    feedesk::receipts::Receipt::export_all(&cfg)?;
    feedesk::receipts::ReceiptKind::export_all(&cfg)?;
    feedesk::receipts::ReceiptFilter::export_all(&cfg)?;
    feedesk::receipts::ReceiptPage::export_all(&cfg)?;
    feedesk::receipts::ReceiptDetail::export_all(&cfg)?;
    feedesk::receipts::ReceiptContent::export_all(&cfg)?;
    feedesk::receipts::VoidResult::export_all(&cfg)?;
    feedesk::receipts::VerifyReport::export_all(&cfg)?;
    feedesk::receipts::ExportReport::export_all(&cfg)?;
    feedesk::receipts::ReceiptSettings::export_all(&cfg)?;
    feedesk::reconcile::StatementImport::export_all(&cfg)?;
    feedesk::reconcile::RunSummary::export_all(&cfg)?;
    feedesk::reconcile::ReconItem::export_all(&cfg)?;
    feedesk::reconcile::ItemFilter::export_all(&cfg)?;
    feedesk::reconcile::Resolution::export_all(&cfg)?;
    feedesk::reconcile::ReconExport::export_all(&cfg)?;
    feedesk::reports::MonthlyReport::export_all(&cfg)?;
    feedesk::reports::charts::DashboardCharts::export_all(&cfg)?;
    feedesk::reminders::Policy::export_all(&cfg)?;
    feedesk::reminders::Tier::export_all(&cfg)?;
    feedesk::reminders::Tone::export_all(&cfg)?;
    feedesk::reminders::ReminderChannel::export_all(&cfg)?;
    feedesk::reminders::PolicyRequest::export_all(&cfg)?;
    feedesk::reminders::Preview::export_all(&cfg)?;
    feedesk::reminders::DuePlan::export_all(&cfg)?;
    feedesk::reminders::PlannedMessage::export_all(&cfg)?;
    feedesk::reminders::PlannedGroup::export_all(&cfg)?;
    feedesk::reminders::PlannedEscalation::export_all(&cfg)?;
    feedesk::reminders::OutboxRow::export_all(&cfg)?;
    feedesk::reminders::LogFilter::export_all(&cfg)?;
    feedesk::reminders::RunReport::export_all(&cfg)?;
    feedesk::reminders::Counts::export_all(&cfg)?;
    feedesk::reminders::TierChannelCounts::export_all(&cfg)?;
    feedesk::reminders::FollowUp::export_all(&cfg)?;
    feedesk::reminders::FollowUpEvent::export_all(&cfg)?;
    feedesk::reminders::FollowUpUpdate::export_all(&cfg)?;
    feedesk::reminders::BillTier::export_all(&cfg)?;
    feedesk::reminders::NotifyChannel::export_all(&cfg)?;
    feedesk::reminders::ChannelConfig::export_all(&cfg)?;
    feedesk::reminders::SmtpSecurity::export_all(&cfg)?;
    feedesk::reminders::Hold::export_all(&cfg)?;
    feedesk::channels::accounts::ChannelAccount::export_all(&cfg)?;
    feedesk::channels::accounts::AccountTest::export_all(&cfg)?;
    // The shell's own argument and result types.
    crate::error::IpcError::export_all(&cfg)?;
    crate::commands::app::AppInfo::export_all(&cfg)?;
    crate::commands::members::MemberQuery::export_all(&cfg)?;
    crate::commands::roster::RosterRequest::export_all(&cfg)?;
    crate::commands::roster::ColumnOverride::export_all(&cfg)?;
    crate::commands::job_progress::JobProgress::export_all(&cfg)?;
    crate::commands::fees::PlanForm::export_all(&cfg)?;
    crate::commands::bills::PaymentForm::export_all(&cfg)?;
    crate::commands::bills::RefundForm::export_all(&cfg)?;
    crate::commands::channels::ChannelKeysForm::export_all(&cfg)?;
    crate::commands::channels::ChannelAccountForm::export_all(&cfg)?;
    crate::commands::channels::ChannelConfigureForm::export_all(&cfg)?;
    crate::commands::collection::CollectView::export_all(&cfg)?;
    crate::commands::receipts::ReceiptView::export_all(&cfg)?;
    crate::commands::reconciliation::ReconPeriod::export_all(&cfg)?;
    Ok(())
}
