//! The integration tests of the core and the CLI, as one test binary: each module is one
//! capability's story on a real SQLite file in a temp folder (and the built `feedesk` CLI where
//! the module name ends in `_cli`). One binary instead of one per file: each separate test
//! binary linked the whole dependency tree again (300-400 MB apiece), which dominated CI.
//!
//! Run one module with `cargo test --test it billing::`; `support/` holds the shared set-ups.

mod support;

mod backup;
mod billing;
mod billing_cli;
mod billing_rejoin_and_dashboard;
mod bounds;
mod channel_account_configure;
mod channels_alipay;
mod channels_bills;
mod channels_cli;
mod channels_protocol;
mod channels_wechat;
mod cli;
mod collection;
mod collection_crash;
mod collection_faults;
mod fonts;
mod formats;
mod idempotency_concurrency;
mod ledger_crash;
mod ledger_properties;
mod monthly_report;
mod org;
mod receipts;
mod receipts_cli;
mod reconcile_cli;
mod reconciliation;
mod reminders;
mod reminders_cli;
mod reminders_providers;
mod roster_edge_cases;
mod roster_import;
mod secret_scan;
mod secrets_keyring;
mod layers;
mod hostile_amounts;
mod hostile_http;
mod hostile_output;
mod hostile_spreadsheets;
mod hostile_statements;
mod messy_classes;
mod at_rest;
mod money_paths;
mod window_edges;
mod plan_edit;
mod plan_edit_cli;
