//! Reconciliation (对账): proving, line by line, that what the channels' statements say and what
//! the books say agree, and explaining every difference.
//!
//! - [`statement`]: the statement line model and format detection; [`wechat_bill`] and
//!   [`alipay_bill`] stream each channel's file one line at a time.
//! - [`import`]: a statement file stored once (by SHA-256), checked line by line.
//! - [`matching`]: the matcher (order number, transaction id, amount within a date window).
//! - [`run`]: a run over an account and period: discrepancy items, fees posted to the books.
//! - [`items`]: listing and resolving discrepancies (audited).
//! - [`workbook`]: the reconciliation workbook.

pub mod alipay_bill;
pub mod import;
pub mod items;
pub mod matching;
pub mod run;
pub mod statement;
pub mod wechat_bill;
pub mod workbook;

pub use import::{STATEMENTS_DIR, StatementImport, import_statement, import_statement_bytes};
pub use items::{
    ItemFilter, ReconItem, Resolution, ResolveRequest, get_item, list_items, resolve_item,
};
pub use matching::MatchClass;
pub use run::{ClassTotal, RunSummary, run_reconciliation};
pub use statement::{LineKind, StatementFormat, StatementLine};
pub use workbook::{ReconExport, export_reconciliation};
