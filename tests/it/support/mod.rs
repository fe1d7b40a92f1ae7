//! Shared set-ups of the integration tests: a FeeDesk on a real SQLite file (`common`), and one
//! module per capability with the worlds its stories start from.

pub mod common;
pub mod billing_support;
pub mod channels_support;
pub mod collection_support;
pub mod receipts_support;
pub mod reconcile_support;
pub mod reminders_support;
pub mod hostile_support;
