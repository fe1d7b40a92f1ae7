//! FeeDesk's desktop shell: a Tauri 2 window over the `feedesk` core.
//!
//! The shell holds no business logic. Each command in [`commands`] is a few lines that call
//! the core and map its result to IPC types; errors cross as [`error::IpcError`]
//! (`{ code, message }`) so the UI can branch on `code`.

pub mod commands;
pub mod error;
pub mod paths;

/// Builds and runs the application until its last window closes.
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app::app_info])
        .run(tauri::generate_context!())
        .expect("FeeDesk could not start its window");
}
