//! FeeDesk core: the domain, storage and use cases behind both faces of the product,
//! the `feedesk` CLI and the desktop shell. Nothing here knows about a window or a terminal.
//!
//! Crate map, one module per capability:
//! - [`error`]: the crate's error type and the stable [`ErrorCode`] every surface branches on.
//! - [`clock`]: the injectable clock, so tests and dry runs control time.
//! - [`columns`]: spreadsheet column letters, as Excel and WPS show them.
//! - [`http`]: the one HTTPS client builder and bounded answer reads.
//! - [`money`]: yuan as decimals, fen at the edges, exact allocation.
//! - [`db`]: the SQLite store: pragmas, migrations, backups, write transactions.
//! - [`audit`]: the append-only, hash-chained audit log every change writes to.
//! - [`desk`]: [`FeeDesk`], an open data folder plus who is acting and what time it is.
//! - [`org`]: the organisation tree (HQ -> regions -> stores), terms, classes and members.
//! - [`roster`]: roster import from Excel/ODS/CSV: detect, map, normalise, validate, commit, undo.
//! - [`billing`]: collection accounts, fee items and plans, bills, payments, refunds, dashboard money.
//! - [`collection`]: QR-code orders at the channels for bills, settling them once, channel refunds.
//! - [`receipts`]: e-receipts issued with each payment: gap-free numbers, a hash chain, PDFs.
//! - [`anchor`]: the audit and receipt chain heads signed with a key in the OS keyring.
//! - [`reminders`]: tiered overdue reminders through an outbox, real senders, the follow-up list.
//! - [`ledger`]: each unit's double-entry books: journal, trial balance, verification.
//! - [`secrets`]: channel secrets in the OS keyring; [`secrets::Sensitive`] values never print.
//! - [`channels`]: WeChat Pay v3 and Alipay protocols, and the loopback sandbox speaking both.
//! - [`fonts`]: the Chinese font for receipts, notices and charts, found on Linux, Windows or macOS.
//! - [`fault`]: injected crash points for the crash-safety tests.
//! - [`progress`]: progress reporting and cancellation for long work.
//! - [`reconcile`]: channel statements imported and matched against the books; discrepancies, fees.
//! - [`reports`]: the monthly report workbook and its charts.
//! - [`backup`]: backup archives of the whole book, daily rotation, verified restore.
//! - [`demo`]: the sample institution `feedesk demo` builds.

// Modules by layer (docs/architecture.md, "Layers"; tests/it/layers.rs keeps them): a module
// imports only from its own layer's allowed list or below.

// Foundation: no capability.
pub mod audit;
pub mod clock;
pub mod columns;
pub mod db;
pub mod desk;
pub mod error;
pub mod fault;
pub mod fonts;
pub mod http;
pub mod money;
pub mod progress;
pub mod secrets;
pub mod text;

// Capabilities, lowest first.
pub mod org;
pub mod ledger;
pub mod receipts;
pub mod anchor;
pub mod billing;
pub mod channels;
pub mod roster;
pub mod reminders;
pub mod collection;
pub mod reports;
pub mod reconcile;

// Backups and restore: the whole book, checked by every capability's verifier.
pub mod backup;

// The sample institution, built through every capability.
pub mod demo;

pub use desk::FeeDesk;
pub use error::{Error, ErrorCode, Result};

/// The version of the FeeDesk core, shown by both surfaces.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
