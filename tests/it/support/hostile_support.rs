//! Shared by the hostile-input tests: run the built `feedesk` CLI on a generated file and
//! measure its peak memory, so every refusal is also checked to stay within the bound.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The memory bound FeeDesk promises for reading any input: peak resident set of the whole
/// CLI process (runtime, SQLite and all), in KiB.
pub const PEAK_RSS_BOUND_KIB: u64 = 300 * 1024;

/// Runs `feedesk --data-dir <data> args...` and returns its output and peak RSS in KiB.
/// The CLI is started by `tests/peak_rss.py`, a small launcher, so the figure is the CLI's own
/// and not the (large) test process's it would otherwise be forked from.
pub fn run_measured(data_dir: &Path, args: &[&str]) -> (Output, u64) {
    let report = tempfile::NamedTempFile::new().expect("a temp file for the peak");
    let launcher = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peak_rss.py");
    let output = Command::new("python3")
        .arg(launcher)
        .arg(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .env("PEAK_RSS_OUT", report.path())
        .stdin(Stdio::null())
        .output()
        .expect("run feedesk through tests/peak_rss.py (python3)");
    let peak: u64 = std::fs::read_to_string(report.path())
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no peak reported; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    eprintln!("child peak RSS: {} MB", peak / 1024);
    (output, peak)
}

/// Asserts a refusal: a clean exit with a code (no crash, no signal), nothing on stdout, one
/// line on stderr of reasonable length; and the peak memory under the bound. The line.
pub fn refused_within_bound(out: &Output, peak_kib: u64) -> String {
    assert!(
        out.status.code().is_some(),
        "the process died instead of refusing: {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "expected a refusal");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {stderr:?}");
    assert!(
        lines[0].len() < 2000,
        "the message is short: {} bytes",
        lines[0].len()
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
    within_bound(peak_kib);
    lines[0].to_string()
}

/// Asserts the peak memory is under the bound.
pub fn within_bound(peak_kib: u64) {
    assert!(
        peak_kib < PEAK_RSS_BOUND_KIB,
        "peak memory {} MB is over the {} MB bound",
        peak_kib / 1024,
        PEAK_RSS_BOUND_KIB / 1024
    );
    eprintln!("peak RSS {} MB", peak_kib / 1024);
}

/// Copies the zip at `from` to `to`, passing each entry's bytes through `edit(name, bytes)`.
pub fn rewrite_zip(from: &Path, to: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Vec<u8>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.start_file(name.as_str(), opts).unwrap();
        out.write_all(&edit(&name, bytes)).unwrap();
    }
    out.finish().unwrap();
}
