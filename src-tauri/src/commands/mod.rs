//! IPC commands, one module per capability of the core.
//!
//! A command is listed four times: in its module here, in `lib.rs` (`generate_handler!`), in
//! `build.rs` (which generates its permission), and in `capabilities/main.json`.
//! [`COMMANDS`] is the list `build.rs` and the tests check against.

pub mod app;
pub mod classes;
pub mod members;
pub mod org;
pub mod roster;

/// Every command the window may call.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "org_overview",
    "org_tree",
    "org_init",
    "org_add_unit",
    "org_rename",
    "org_move",
    "org_archive",
    "demo_load",
    "term_list",
    "term_add",
    "class_list",
    "class_add",
    "member_page",
    "roster_pick_file",
    "e2e_use_file",
    "roster_preview",
    "roster_import",
    "roster_history",
    "roster_undo",
    "job_cancel",
    "save_error_workbook",
];
