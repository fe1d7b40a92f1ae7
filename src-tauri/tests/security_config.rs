//! Guards the desktop security settings: an explicit CSP without `unsafe-eval` or remote
//! origins, and a main-window capability that grants only core defaults and our commands.

use serde_json::Value;

fn read_json(relative: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn csp_is_explicit_and_local_only() {
    let conf = read_json("tauri.conf.json");
    let csp = conf["app"]["security"]["csp"]
        .as_object()
        .expect("csp must be an explicit map, not null");
    assert_eq!(csp["default-src"], "'self'");
    assert_eq!(csp["script-src"], "'self'");
    for (directive, value) in csp {
        let value = value.as_str().expect("csp values are strings");
        assert!(
            !value.contains("unsafe-eval"),
            "{directive} allows unsafe-eval"
        );
        for source in value.split_whitespace() {
            let remote = source.starts_with("http") && !source.ends_with(".localhost");
            assert!(
                !remote && source != "*" && source != "https:",
                "{directive} allows remote origin {source}"
            );
        }
    }
}

#[test]
fn main_window_gets_only_core_defaults_and_app_commands() {
    let capability = read_json("capabilities/main.json");
    assert_eq!(capability["windows"], serde_json::json!(["main"]));
    let permissions: Vec<&str> = capability["permissions"]
        .as_array()
        .expect("permissions list")
        .iter()
        .map(|p| p.as_str().expect("plain permission identifiers"))
        .collect();
    // No `dialog:*` or `fs:*`: the open/save dialogs are opened by our commands, which
    // remember the picked files (src/commands/roster.rs).
    let mut expected = vec!["core:default".to_owned()];
    expected.extend(
        feedesk_desktop::commands::COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-"))),
    );
    assert_eq!(
        permissions, expected,
        "exactly core defaults and our commands"
    );
    assert!(
        !permissions.iter().any(|p| p.starts_with("shell:")),
        "no shell plugin"
    );
}

#[test]
fn every_command_has_a_generated_permission() {
    let build =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs"))
            .unwrap();
    for command in feedesk_desktop::commands::COMMANDS {
        assert!(
            build.contains(&format!("\"{command}\"")),
            "{command} missing from build.rs"
        );
    }
}

#[test]
fn no_shell_plugin_dependency() {
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
    )
    .unwrap();
    assert!(!manifest.contains("tauri-plugin-shell"));
}
