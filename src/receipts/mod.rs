//! E-receipts: every successful payment issues one receipt a parent or patient can keep and an
//! auditor can trust.
//!
//! - [`issue`]: inside the payment's (or refund's) own write transaction, a receipt record is
//!   numbered gap-free per issuing store and year (`XH-2026-000123`, a counter row updated in
//!   the same transaction, so an aborted payment consumes no number) and chained to the
//!   store's previous record by SHA-256. Everything the receipt shows is frozen in the record.
//! - [`archive`]: right after commit the PDF is rendered from the record ([`render`]: the CJK
//!   font embedded as a subset, a real text layer) and archived under the data folder with its
//!   SHA-256. Rendering is deterministic and outside the transaction, so a day's batch of
//!   payments is not held up by typesetting; a receipt not yet archived (the process died
//!   between commit and archive, or the font is missing) is shown as `pending` and archived by
//!   the next reprint, export or `feedesk receipt archive`, never confused with a tampered one.
//! - [`void`]: corrections are 红冲 — a reversal record that points to the original, then a new
//!   receipt — never edits. A refund does the same in its own transaction (see [`issue`]).
//! - [`search`] and [`export`]: by member, class, term, date range and number; zips per class or
//!   term.
//! - [`verify`]: the chains, the numbering, the archived files and the audit log's anchors.

pub(crate) mod issue;

mod archive;
mod content;
mod export;
mod font;
mod render;
mod search;
mod settings;
mod verify;
mod void;

pub use archive::{ArchiveReport, archive_pending, receipt_pdf};
pub(crate) use archive::{archive_after_commit, archive_oldest};
pub use content::{ReceiptContent, ReceiptKind};
pub use export::{ExportReport, export_zip};
pub use font::{FONT_ENV, FONT_PACKAGE};
pub(crate) use render::yuan_figures;
pub use render::{Paper, render_pdf};
pub use search::{
    Receipt, ReceiptDetail, ReceiptFilter, ReceiptPage, get_receipt, list_receipts, receipt_detail,
    receipt_page,
};
pub use settings::{ReceiptSettings, receipt_settings, set_paper};
pub use verify::{VerifyReport, verify};
pub use void::{VoidResult, void_receipt};

/// The folder under the data folder where receipt PDFs are archived.
pub const ARCHIVE_DIR: &str = "receipts";
