//! Hostile statement files (generated here): a gzip whose one line unpacks to hundreds of MB,
//! and a zipped one beyond what is held in memory, are refused by the real CLI in one line
//! naming the file and the limit, within the memory bound.

use crate::support::common;
use crate::support::hostile_support;
use crate::support::reconcile_support;

use std::io::Write;

use common::{Env, ok};
use hostile_support::*;

fn ready() -> Env {
    let env = Env::new();
    ok(&env.cli(&["init", "--name", "星火教育"]));
    ok(&env.cli(&[
        "org",
        "add",
        "--parent",
        "HQ",
        "--kind",
        "store",
        "--code",
        "XH",
        "--name",
        "西湖校区",
    ]));
    ok(&env.cli(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "wechat",
        "--name",
        "西湖微信",
    ]));
    env
}

#[test]
fn a_gzipped_statement_whose_line_unpacks_to_gigabytes_is_refused() {
    let env = ready();
    let file = env.path("bomb.csv.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&file).unwrap(),
        flate2::Compression::best(),
    );
    gz.write_all(format!("{}\r\n", reconcile_support::WECHAT_HEADER).as_bytes())
        .unwrap();
    // One line of 512 MB, no line break: about half a MB packed.
    let block = vec![b'a'; 1 << 20];
    for _ in 0..512 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    assert!(std::fs::metadata(&file).unwrap().len() < 4 << 20);
    let (out, peak) = run_measured(
        &env.data_dir(),
        &[
            "reconcile",
            "import",
            file.to_str().unwrap(),
            "--account",
            "西湖微信",
        ],
    );
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("bomb.csv.gz"), "{line}");
    assert!(line.contains("line 2 is longer than 64 KB"), "{line}");
}

#[test]
fn a_zipped_statement_beyond_the_in_memory_limit_is_refused() {
    let env = ready();
    let file = env.path("big.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&file).unwrap());
    // Stored, not deflated: the zip itself is past the 96 MB held in memory.
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("2088_20260902_业务明细.csv", opts).unwrap();
    let block = vec![b'#'; 1 << 20];
    for _ in 0..100 {
        zip.write_all(&block).unwrap();
    }
    zip.finish().unwrap();
    let (out, peak) = run_measured(
        &env.data_dir(),
        &[
            "reconcile",
            "import",
            file.to_str().unwrap(),
            "--account",
            "西湖微信",
        ],
    );
    let line = refused_within_bound(&out, peak);
    assert!(line.contains("big.zip"), "{line}");
    assert!(line.contains("96 MB"), "{line}");
}
