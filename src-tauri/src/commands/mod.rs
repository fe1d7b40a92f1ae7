//! IPC commands, one module per capability of the core.
//!
//! A command is named in its module here, in `lib.rs` (`generate_handler!`), in `names.rs`
//! ([`COMMANDS`], which `build.rs` includes to generate its permission) and in
//! `capabilities/main.json`; the tests check that these agree.

pub mod app;
pub mod bills;
pub mod channels;
pub mod classes;
pub mod collection;
pub mod fees;
pub mod members;
pub mod money;
pub mod org;
pub mod receipts;
pub mod reconciliation;
pub mod reminders;
pub mod reports;
pub mod roster;
pub mod job_progress;
mod open_dialog;
mod save_dialog;

mod names;
/// Every command the window may call (`names.rs`, which `build.rs` includes too).
pub use names::COMMANDS;
