//! The desktop shell's own tests, as one test binary (each separate binary linked the whole
//! Tauri stack again): the committed TypeScript bindings are current (`bindings`), and the
//! window's CSP and capabilities stay tight (`security_config`).

mod bindings;
mod security_config;
