//! Generates the Tauri context and the ACL for this app's own commands.
//!
//! Every command the window may call is listed in `src/commands/names.rs`: tauri-build generates
//! `allow-<command>` / `deny-<command>` permissions, and a command missing from this list
//! cannot be granted by a capability at all.
// The command list lives in one file, shared with the shell.
include!("src/commands/names.rs");

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
