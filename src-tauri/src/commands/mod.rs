//! IPC commands, one module per capability of the core.
//!
//! A command is listed three times: here, in `build.rs` (which generates its permission),
//! and in a capability under `capabilities/`.

pub mod app;
