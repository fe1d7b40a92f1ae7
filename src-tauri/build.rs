//! Generates the Tauri context and the ACL for this app's own commands.
//!
//! Every command the window may call is listed here: tauri-build then generates
//! `allow-<command>` / `deny-<command>` permissions, and a command missing from this list
//! cannot be granted by a capability at all.
fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"])),
    )
    .expect("failed to run tauri-build");
}
