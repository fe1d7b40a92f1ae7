//! The layers of the core point one way (docs/architecture.md, "Layers"): every `crate::`
//! path in `src/<module>/` is checked against the modules that module may import, and a
//! forbidden import fails naming the file, the line and the rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Foundation modules: they may import one another, and nothing else.
const FOUNDATION: &[&str] = &[
    "error", "clock", "money", "text", "columns", "fault", "fonts", "progress", "secrets", "http",
    "db", "audit", "desk",
];

/// Capabilities and what each may import besides the foundation. `demo` may import anything.
const CAPABILITIES: &[(&str, &[&str])] = &[
    ("org", &[]),
    ("ledger", &["org"]),
    ("receipts", &["org"]),
    ("anchor", &["receipts"]),
    ("billing", &["org", "ledger", "receipts"]),
    ("channels", &["billing"]),
    ("roster", &["org"]),
    ("reminders", &["org", "billing", "collection"]),
    ("collection", &["billing", "channels", "receipts"]),
    ("reports", &["org", "billing", "anchor"]),
    (
        "reconcile",
        &[
            "org",
            "billing",
            "channels",
            "ledger",
            "reports",
            "collection",
        ],
    ),
    ("backup", &["ledger", "receipts", "reconcile"]),
];

/// The crate root's re-exports, by the module they come from.
fn root_item(name: &str) -> Option<&'static str> {
    match name {
        "FeeDesk" => Some("desk"),
        "Error" | "ErrorCode" | "Result" => Some("error"),
        "VERSION" => Some("version"),
        _ => None,
    }
}

fn allowed(module: &str) -> Option<Vec<&'static str>> {
    if module == "demo" {
        return None;
    }
    let mut out: Vec<&'static str> = FOUNDATION.to_vec();
    out.push("version");
    if FOUNDATION.contains(&module) {
        return Some(out);
    }
    let (_, extra) = CAPABILITIES
        .iter()
        .find(|(name, _)| *name == module)
        .unwrap_or_else(|| {
            panic!("src/{module} is in no layer: add it to docs/architecture.md and this test")
        });
    out.extend_from_slice(extra);
    Some(out)
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

/// The first path segment after each `crate::` in `text`, expanding `crate::{a, b::c}` (also
/// across lines), each with the byte offset where it was found.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before = &rest[..at];
        let offset = text.len() - rest.len() + at;
        rest = &rest[at + "crate::".len()..];
        // `$crate::` in macros and `some_crate::` are other things.
        if before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = vec![];
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => item.push(c),
                }
            }
            items.push(item);
            for item in items {
                let head: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !head.is_empty() && head != "self" {
                    out.push((offset, head));
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((offset, head));
        }
    }
    out
}

fn crate_imports(line: &str) -> Vec<String> {
    crate_paths(line)
        .into_iter()
        .map(|(_, item)| item)
        .collect()
}

/// The file's text with comment lines blanked (keeping line numbers), so prose that mentions
/// `crate::x` is not read as an import.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn module_of(item: &str) -> String {
    root_item(item)
        .map(str::to_string)
        .unwrap_or_else(|| item.to_string())
}

#[test]
fn the_core_imports_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = vec![];
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if ["lib", "bin"].contains(&name.as_str()) {
            continue;
        }
        let Some(allowed) = allowed(&name) else {
            continue;
        };
        let mut files = vec![];
        rust_files(&path, &mut files);
        for file in files {
            let text = code_only(&std::fs::read_to_string(&file).unwrap());
            for (offset, item) in crate_paths(&text) {
                let module = module_of(&item);
                *checked.entry(name.clone()).or_default() += 1;
                if module != name && !allowed.contains(&module.as_str()) {
                    violations.push(format!(
                        "{}:{}: `{name}` may not import `{module}` (allowed: {})",
                        file.strip_prefix(&src).unwrap().display(),
                        text[..offset].lines().count().max(1),
                        allowed.join(", ")
                    ));
                }
            }
        }
    }
    assert!(
        checked.len() >= 15 && checked.values().sum::<usize>() > 200,
        "the scan found too few imports to be checking anything: {checked:?}"
    );
    assert!(
        violations.is_empty(),
        "imports against the layers in docs/architecture.md:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scanner_reads_grouped_and_plain_paths() {
    assert_eq!(crate_imports("use crate::billing::Channel;"), ["billing"]);
    assert_eq!(
        crate_imports("use crate::{Error, FeeDesk, billing::{self, Bill}};"),
        ["Error", "FeeDesk", "billing"]
    );
    assert_eq!(
        crate_imports("let x = crate::reminders::contacts::check_email(&c);"),
        ["reminders"]
    );
    assert!(crate_imports("use some_crate::x; $crate::y").is_empty());
    assert_eq!(
        crate_imports("use crate::{\n    audit::Entry,\n    ledger::Line,\n};"),
        ["audit", "ledger"]
    );
}
