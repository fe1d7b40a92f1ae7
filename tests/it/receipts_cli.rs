//! E-receipts through the built `feedesk` binary, with the commands exactly as the receipts
//! issue writes them: list --json, pdf --out, void --reason, export --class --out, verify (exit
//! 0 intact, non-zero naming the first broken link); numbering that stays 1..N when payments
//! abort mid-transaction (FEEDESK_FAULT) or die between commit and archive; and a missing font
//! that leaves a payment recorded with its receipt pending, never refused.

use crate::support::common;
use crate::support::receipts_support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

use common::{json, ok, refused};
use receipts_support::*;

const SIGABRT: i32 = 6;

fn cli(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .env_remove(feedesk::fault::FAULT_ENV)
        .env_remove(feedesk::receipts::FONT_ENV);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run feedesk")
}

/// The year the CLI (system clock, Shanghai) numbers receipts in.
fn year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now()
        .with_timezone(&feedesk::clock::LOCAL_OFFSET)
        .year()
}

fn no(store: &str, seq: u32) -> String {
    format!("{store}-{}-{seq:06}", year())
}

/// The school of the receipt tests in `data`, set up in-process and closed; returns the bill
/// ids of S001, S002, S003 (XH 一班, 2800, partial allowed) and S004 (XH 二班, 1234.56).
fn setup(data: &Path) -> [i64; 4] {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let desk = open(data, TestClock::at(default_time())).await;
        let (one, two, _) = school(&desk).await;
        let mut ids = [0; 4];
        for (i, (plan, no)) in [(one, "S001"), (one, "S002"), (one, "S003"), (two, "S004")]
            .into_iter()
            .enumerate()
        {
            ids[i] = bill_of(&desk, plan, no).await.id;
        }
        desk.db().clone().close().await;
        ids
    })
}

fn pay(data: &Path, bill: i64, amount: &str, key: &str, env: &[(&str, &str)]) -> Output {
    cli(
        data,
        &[
            "pay",
            "--bill",
            &bill.to_string(),
            "--amount",
            amount,
            "--account",
            "西湖前台现金",
            "--key",
            key,
            "--json",
        ],
        env,
    )
}

#[test]
fn the_issue_commands_list_reprint_void_export_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let [s001, s002, _, s004] = setup(&data);
    let paid = json(&pay(&data, s001, "1234.56", "k1", &[]));
    assert_eq!(paid["receipt_no"], no("XH", 1));
    json(&pay(&data, s002, "2800", "k2", &[]));
    json(&pay(&data, s004, "1234.56", "k4", &[]));
    // Human output names the receipt too.
    let s003_text = ok(&cli(
        &data,
        &[
            "pay",
            "--bill",
            &s001.to_string(),
            "--amount",
            "1",
            "--account",
            "西湖前台现金",
            "--key",
            "k5",
        ],
        &[],
    ));
    assert!(
        s003_text.contains(&format!("Receipt {} issued", no("XH", 4))),
        "{s003_text}"
    );

    let list = json(&cli(
        &data,
        &["receipt", "list", "--class", "XH/一班", "--json"],
        &[],
    ));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    for r in list {
        for field in [
            "number",
            "member_no",
            "amount",
            "issued_at",
            "status",
            "sha256",
        ] {
            assert!(!r[field].is_null(), "{field} missing in {r}");
        }
    }
    assert_eq!(list[0]["number"], no("XH", 1));
    assert_eq!(list[0]["member_no"], "S001");
    assert_eq!(list[0]["amount"], "1234.56");
    assert_eq!(list[0]["status"], "issued");
    let by_member = json(&cli(
        &data,
        &["receipt", "list", "--member", "S004", "--json"],
        &[],
    ));
    assert_eq!(by_member.as_array().unwrap().len(), 1);
    let by_term = json(&cli(
        &data,
        &["receipt", "list", "--term", TERM, "--json"],
        &[],
    ));
    assert_eq!(by_term.as_array().unwrap().len(), 4);

    let pdf = dir.path().join("r1.pdf");
    ok(&cli(
        &data,
        &[
            "receipt",
            "pdf",
            &no("XH", 1),
            "--out",
            pdf.to_str().unwrap(),
        ],
        &[],
    ));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() < 80 * 1024);
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        list[0]["sha256"].as_str().unwrap()
    );
    let text = pdf_text(&pdf);
    assert!(
        text.contains("壹仟贰佰叁拾肆元伍角陆分")
            && text.contains("张建国")
            && text.contains("张三"),
        "{text}"
    );

    let voided = json(&cli(
        &data,
        &[
            "receipt",
            "void",
            &no("XH", 2),
            "--reason",
            "金额录入有误",
            "--json",
        ],
        &[],
    ));
    assert_eq!(voided["reversal"], no("XH", 5));
    assert_eq!(voided["reissued"], no("XH", 6));
    let err = refused(&cli(
        &data,
        &["receipt", "void", &no("XH", 2), "--reason", "again"],
        &[],
    ));
    assert!(err.contains("already voided"), "{err}");
    let err = refused(&cli(
        &data,
        &["receipt", "pdf", "XH-1999-000001", "--out", "/tmp/x.pdf"],
        &[],
    ));
    assert!(err.contains("no receipt XH-1999-000001"), "{err}");

    let zip = dir.path().join("xh-1.zip");
    let out = json(&cli(
        &data,
        &[
            "receipt",
            "export",
            "--class",
            "XH/一班",
            "--out",
            zip.to_str().unwrap(),
            "--json",
        ],
        &[],
    ));
    assert_eq!(out["receipts"], 5, "{out}");
    let archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    assert_eq!(archive.len(), 6);
    let err = refused(&cli(
        &data,
        &[
            "receipt",
            "export",
            "--class",
            "三班",
            "--out",
            zip.to_str().unwrap(),
        ],
        &[],
    ));
    assert!(err.contains("no class named '三班'"), "{err}");

    let verified = cli(&data, &["receipt", "verify"], &[]);
    let said = ok(&verified);
    assert!(said.contains("Receipts intact: 6 record(s)"), "{said}");

    // Tamper with one archived PDF: verify fails, naming it.
    let file = data.join(format!("receipts/XH/{}/{}.pdf", year(), no("XH", 3)));
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend_from_slice(b"%% appended\n");
    std::fs::write(&file, bytes).unwrap();
    let out = cli(&data, &["receipt", "verify"], &[]);
    assert_eq!(out.status.code(), Some(3));
    let err = refused(&out);
    assert!(
        err.starts_with(&format!(
            "error: receipts broken: {}: its archived PDF",
            no("XH", 3)
        )),
        "{err}"
    );
}

#[test]
fn aborted_payments_consume_no_number_and_a_death_before_archiving_leaves_it_pending() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let [s001, s002, s003, s004] = setup(&data);
    json(&pay(&data, s001, "100", "k1", &[]));
    // Aborted inside the payment's transaction, after its receipt was numbered, and at commit.
    for (bill, point) in [
        (s002, "payment.after_receipts"),
        (s002, "payment.before_commit"),
        (s003, "payment.before_journal"),
    ] {
        let out = pay(
            &data,
            bill,
            "100",
            &format!("k-{point}"),
            &[(feedesk::fault::FAULT_ENV, point)],
        );
        assert_eq!(out.status.signal(), Some(SIGABRT), "{point}: {:?}", out);
    }
    // Aborted while voiding, and while refunding.
    let out = cli(
        &data,
        &["receipt", "void", &no("XH", 1), "--reason", "x"],
        &[(feedesk::fault::FAULT_ENV, "receipt.void.before_commit")],
    );
    assert_eq!(out.status.signal(), Some(SIGABRT));
    let out = cli(
        &data,
        &[
            "refund",
            "--payment",
            "1",
            "--amount",
            "50",
            "--reason",
            "r",
            "--key",
            "rf",
        ],
        &[(feedesk::fault::FAULT_ENV, "refund.before_commit")],
    );
    assert_eq!(out.status.signal(), Some(SIGABRT));
    // Killed between commit and archive: the payment and its receipt stand, the PDF is pending.
    let out = pay(
        &data,
        s002,
        "100",
        "k2",
        &[(feedesk::fault::FAULT_ENV, "receipt.before_archive")],
    );
    assert_eq!(out.status.signal(), Some(SIGABRT));
    let paid = json(&pay(&data, s002, "100", "k2", &[]));
    assert_eq!(
        paid["receipt_no"],
        no("XH", 2),
        "the retry is the payment that was committed"
    );
    json(&pay(&data, s004, "1234.56", "k4", &[]));
    json(&pay(&data, s003, "100", "k3", &[]));
    let list = json(&cli(&data, &["receipt", "list", "--json"], &[]));
    let numbers: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [no("XH", 1), no("XH", 2), no("XH", 3), no("XH", 4)]
    );
    assert!(list[1]["sha256"].is_null(), "pending: {}", list[1]);
    let said = ok(&cli(&data, &["receipt", "verify"], &[]));
    assert!(said.contains("1 PDF(s) not archived yet"), "{said}");
    let archived = json(&cli(&data, &["receipt", "archive", "--json"], &[]));
    assert_eq!(archived["archived"], 1);
    let report = json(&cli(&data, &["receipt", "verify", "--json"], &[]));
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["pending"].as_array().unwrap().len(), 0);
    assert_eq!(report["files_checked"], 4);
}

#[test]
fn without_a_font_the_payment_stands_and_the_receipt_waits_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let [s001, ..] = setup(&data);
    let no_font = [(feedesk::receipts::FONT_ENV, "/nonexistent/NotoSansCJK.ttc")];
    let paid = json(&pay(&data, s001, "100", "k1", &no_font));
    assert_eq!(paid["receipt_no"], no("XH", 1));
    let out = dir.path().join("r.pdf");
    let err = refused(&cli(
        &data,
        &[
            "receipt",
            "pdf",
            &no("XH", 1),
            "--out",
            out.to_str().unwrap(),
        ],
        &no_font,
    ));
    assert!(
        err.contains("/nonexistent/NotoSansCJK.ttc") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!out.exists());
    // With the font back, the reprint archives it.
    ok(&cli(
        &data,
        &[
            "receipt",
            "pdf",
            &no("XH", 1),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    ));
    assert!(pdf_text(&out).contains("壹佰元整"));
    let report = json(&cli(&data, &["receipt", "verify", "--json"], &[]));
    assert_eq!(report["intact"], true);
}
