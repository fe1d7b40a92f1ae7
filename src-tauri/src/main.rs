//! The `feedesk-desktop` binary: everything lives in the library so it can be tested.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    feedesk_desktop::run();
}
