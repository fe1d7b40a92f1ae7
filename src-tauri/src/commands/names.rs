// Every command the window may call: the one list that `build.rs` (which generates each
// command's permission) and the shell (`commands::COMMANDS`, checked by the tests) both read.
// Included as source by build.rs, so plain comments only.
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
