//! The TypeScript bindings in `ui/src/ipc/bindings/` must match the Rust IPC types.
//! When this fails, regenerate them:
//!     UPDATE_BINDINGS=1 cargo test -p feedesk-desktop --test shell bindings

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn committed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/ipc/bindings")
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ts") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            files.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
    files
}

#[test]
fn committed_bindings_are_current() {
    let fresh = tempfile::tempdir().unwrap();
    feedesk_desktop::bindings::export_all(fresh.path()).expect("render bindings");
    let rendered = read_dir(fresh.path());
    assert!(
        rendered.contains_key("ImportReport.ts") && rendered.contains_key("IpcErrorPayload.ts")
    );
    for (name, text) in &rendered {
        assert!(
            !text.contains("bigint"),
            "{name}: i64/u64 must render as number"
        );
    }

    let dir = committed_dir();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        if dir.exists() {
            for old in read_dir(&dir).keys() {
                std::fs::remove_file(dir.join(old)).unwrap();
            }
        }
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &rendered {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let committed = read_dir(&dir);
    let stale: Vec<&String> = rendered
        .keys()
        .chain(committed.keys())
        .filter(|name| rendered.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "ui/src/ipc/bindings is stale ({stale:?}); regenerate with:\n    \
         UPDATE_BINDINGS=1 cargo test -p feedesk-desktop --test shell bindings"
    );
}
