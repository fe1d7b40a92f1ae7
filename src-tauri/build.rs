//! Generates the Tauri context and the ACL for this app's own commands.
//!
//! Every command the window may call is listed here: tauri-build then generates
//! `allow-<command>` / `deny-<command>` permissions, and a command missing from this list
//! cannot be granted by a capability at all.
/// Kept equal to `src/commands/mod.rs`'s `COMMANDS` (tests/security_config.rs checks).
const COMMANDS: &[&str] = &[
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

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
