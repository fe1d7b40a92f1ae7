//! Shared by the hostile-input tests: run the built `feedesk` CLI on a generated file and
//! measure its peak memory, so every refusal is also checked to stay within the bound.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The memory bound FeeDesk promises for reading any input: peak resident set of the whole
/// CLI process (runtime, SQLite and all), in KiB.
pub const PEAK_RSS_BOUND_KIB: u64 = 300 * 1024;

/// Runs `feedesk --data-dir <data> args...` and returns its output and peak RSS in KiB
/// (0 where the platform does not say).
pub fn run_measured(data_dir: &Path, args: &[&str]) -> (Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run feedesk");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    // The child's own high-water mark, polled while it runs: wait4's figure also counts the
    // test process's memory at spawn time (the child starts in its address space), so it is
    // an upper bound, and that is what is asserted; this one is printed beside it.
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let poller = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut hwm = 0u64;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(kib) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find_map(|l| l.strip_prefix("VmHWM:"))
                            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                    })
                {
                    hwm = hwm.max(kib);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            hwm
        })
    };
    let (status, peak) = wait_measured(child);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let own = poller.join().unwrap();
    eprintln!(
        "child peak RSS: {} MB (polled), at most {} MB (wait4)",
        own / 1024,
        peak / 1024
    );
    let output = Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, peak)
}

#[cfg(target_os = "linux")]
fn wait_measured(child: std::process::Child) -> (std::process::ExitStatus, u64) {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we spawned and reaps it
    // (std's Child does not wait on drop).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    std::mem::forget(child);
    // ru_maxrss is in KiB on Linux.
    (
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64,
    )
}

#[cfg(not(target_os = "linux"))]
fn wait_measured(mut child: std::process::Child) -> (std::process::ExitStatus, u64) {
    (child.wait().unwrap(), 0)
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
