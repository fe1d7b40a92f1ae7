//! E-receipts on a real SQLite file: one receipt per payment issued in the payment's
//! transaction, numbered per store and year, its PDF archived with its SHA-256 and readable
//! through its text layer; 红冲 by refunds and by hand; search; export; and verify catching a
//! changed PDF, a changed record, and a deleted record.

use crate::support::receipts_support;

use feedesk::receipts::{self, ReceiptFilter};
use receipts_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_issues_a_numbered_receipt_whose_pdf_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, two, bj) = school(&desk).await;
    let s001 = bill_of(&desk, one, "S001").await;
    let paid = cash(&desk, s001.id, "1234.56", "cash-1").await;
    assert_eq!(paid.receipt_no.as_deref(), Some("XH-2026-000001"));
    let s004 = bill_of(&desk, two, "S004").await;
    let paid2 = cash(&desk, s004.id, "1234.56", "cash-2").await;
    assert_eq!(paid2.receipt_no.as_deref(), Some("XH-2026-000002"));
    // Another store counts on its own.
    let b001 = bill_of(&desk, bj, "B001").await;
    let paid3 = bank(&desk, b001.id, "100.05", "bank-1", "CMB20260902001").await;
    assert_eq!(paid3.receipt_no.as_deref(), Some("BJ-2026-000001"));
    // A retry under the same key is the same payment and the same receipt.
    let again = cash(&desk, s001.id, "1234.56", "cash-1").await;
    assert_eq!(again, paid);
    assert_eq!(count(&desk, "SELECT count(*) FROM receipts").await, 3);

    let list = receipts::list_receipts(&desk, &ReceiptFilter::default())
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    let r = &list[0];
    assert_eq!(r.status, "issued");
    assert_eq!(r.member_no, "S001");
    assert_eq!(r.payer, "张建国");
    assert_eq!(r.class.as_deref(), Some("一班"));
    assert_eq!(r.term.as_deref(), Some(TERM));
    let sha = r.sha256.clone().expect("archived right after commit");

    let pdf = receipts::receipt_pdf(&desk, "XH-2026-000001")
        .await
        .unwrap();
    assert!(pdf.len() < 80 * 1024, "PDF is {} bytes", pdf.len());
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf)),
        sha
    );
    let archived = dir.path().join("receipts/XH/2026/XH-2026-000001.pdf");
    assert_eq!(std::fs::read(&archived).unwrap(), pdf);
    let text = pdf_text(&archived);
    for expected in [
        "XH-2026-000001",
        "张建国",
        "张三",
        "S001",
        "壹仟贰佰叁拾肆元伍角陆分",
        "¥1,234.56",
        "西湖校区",
        "星火教育",
        "学费",
        "现金",
        TERM,
        "2026-09-02 09:00",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not in the text layer:\n{text}"
        );
    }
    let bj_text = pdf_text(&dir.path().join("receipts/BJ/2026/BJ-2026-000001.pdf"));
    for expected in ["壹佰元零伍分", "CMB20260902001", "银行转账", "陈红"] {
        assert!(
            bj_text.contains(expected),
            "{expected:?} not in:\n{bj_text}"
        );
    }
    let report = receipts::verify(&desk).await.unwrap();
    assert!(report.intact, "{:?}", report.problems);
    assert_eq!(report.files_checked, 3);
}

fn statuses(list: &[receipts::Receipt]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|r| (r.number.clone(), r.status.clone(), r.amount.to_string()))
        .collect()
}

fn t(number: &str, status: &str, amount: &str) -> (String, String, String) {
    (number.into(), status.into(), amount.into())
}

#[tokio::test(flavor = "multi_thread")]
async fn refunds_reverse_the_receipt_and_a_partial_one_reissues_what_remains() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, two, _) = school(&desk).await;
    let s001 = bill_of(&desk, one, "S001").await;
    let p1 = cash(&desk, s001.id, "2800", "c1").await;
    let s004 = bill_of(&desk, two, "S004").await;
    let p2 = cash(&desk, s004.id, "1234.56", "c2").await;
    // Partial: 红冲 XH-1, then XH-4 for the 2600 kept.
    refund(&desk, p1.payment_id, "200", "缺课退费", "r1")
        .await
        .unwrap();
    // Full: 红冲 XH-2, nothing to reissue.
    refund(&desk, p2.payment_id, "1234.56", "退学", "r2")
        .await
        .unwrap();
    // A retried refund issues nothing more.
    refund(&desk, p2.payment_id, "1234.56", "退学", "r2")
        .await
        .unwrap();
    let list = receipts::list_receipts(&desk, &ReceiptFilter::default())
        .await
        .unwrap();
    assert_eq!(
        statuses(&list),
        vec![
            t("XH-2026-000001", "voided", "2800.00"),
            t("XH-2026-000002", "voided", "1234.56"),
            t("XH-2026-000003", "reversal", "-2800.00"),
            t("XH-2026-000004", "issued", "2600.00"),
            t("XH-2026-000005", "reversal", "-1234.56"),
        ]
    );
    assert_eq!(list[0].reversed_by.as_deref(), Some("XH-2026-000003"));
    assert_eq!(list[2].original.as_deref(), Some("XH-2026-000001"));
    assert_eq!(list[3].original.as_deref(), Some("XH-2026-000001"));
    let text = pdf_text(&dir.path().join("receipts/XH/2026/XH-2026-000003.pdf"));
    assert!(
        text.contains("红冲") && text.contains("负贰仟捌佰元整"),
        "{text}"
    );
    assert!(
        text.contains("XH-2026-000001") && text.contains("缺课退费"),
        "{text}"
    );
    let text = pdf_text(&dir.path().join("receipts/XH/2026/XH-2026-000004.pdf"));
    assert!(text.contains("贰仟陆佰元整"), "{text}");
    // Refunding the reissued receipt's payment in full reverses the reissue.
    refund(&desk, p1.payment_id, "2600", "退学", "r3")
        .await
        .unwrap();
    let last = receipts::get_receipt(&desk, "XH-2026-000006")
        .await
        .unwrap();
    assert_eq!(
        (last.status.as_str(), last.original.as_deref()),
        ("reversal", Some("XH-2026-000004"))
    );
    assert_eq!(last.amount.to_string(), "-2600.00");
    let report = receipts::verify(&desk).await.unwrap();
    assert!(report.intact, "{:?}", report.problems);
    assert_eq!(report.receipts, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_void_by_hand_is_a_reversal_then_a_reissue_and_never_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, _, _) = school(&desk).await;
    let s003 = bill_of(&desk, one, "S003").await;
    let paid = cash(&desk, s003.id, "1000.50", "c1").await;
    // No guardian name on file: the member is the payer.
    let first = receipts::get_receipt(&desk, "XH-2026-000001")
        .await
        .unwrap();
    assert_eq!(first.payer, "王五");

    let err = receipts::void_receipt(&desk, "XH-2026-000001", "  ")
        .await
        .unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Validation);
    let err = receipts::void_receipt(&desk, "XH-2026-000099", "x")
        .await
        .unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::NotFound);
    assert_eq!(count(&desk, "SELECT count(*) FROM receipts").await, 1);

    let v = receipts::void_receipt(&desk, "xh-2026-000001", "交款人姓名有误")
        .await
        .unwrap();
    assert_eq!(v.voided, "XH-2026-000001");
    assert_eq!(v.reversal, "XH-2026-000002");
    assert_eq!(v.reissued.as_deref(), Some("XH-2026-000003"));
    let reissued = receipts::get_receipt(&desk, "XH-2026-000003")
        .await
        .unwrap();
    assert_eq!(reissued.amount.to_string(), "1000.50");
    assert_eq!(reissued.payment_id, paid.payment_id);
    assert_eq!(reissued.original.as_deref(), Some("XH-2026-000001"));
    // Neither the voided receipt nor a reversal can be voided again.
    for (number, expect) in [
        ("XH-2026-000001", "already voided"),
        ("XH-2026-000002", "itself a reversal"),
    ] {
        let err = receipts::void_receipt(&desk, number, "again")
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expect), "{err}");
    }
    // The database itself refuses edits and deletions.
    for sql in [
        "UPDATE receipts SET amount_fen = 1 WHERE id = 1",
        "DELETE FROM receipts WHERE id = 3",
        "UPDATE receipt_files SET sha256 = 'x'",
        "DELETE FROM receipt_files",
    ] {
        let err = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(desk.db().pool())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let text = pdf_text(&dir.path().join("receipts/XH/2026/XH-2026-000003.pdf"));
    assert!(
        text.contains("壹仟元伍角整") && text.contains("交款人姓名有误"),
        "{text}"
    );
    let audit = feedesk::audit::list(desk.db().pool()).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "receipt.void" && e.entity_id.as_deref() == Some("XH-2026-000001")));
    assert!(receipts::verify(&desk).await.unwrap().intact);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_payments_number_one_to_n_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    school(&desk).await;
    // 40 more members in XH 二班 with a bill each, paid by 8 cashiers at once, each through
    // their own connection pool on the same file (as separate windows would).
    let rows: Vec<(String, String)> = (1..=40)
        .map(|i| (format!("T{i:03}"), format!("学员{i}")))
        .collect();
    let owned: Vec<Row> = rows
        .iter()
        .map(|(no, name)| ("XH", no.as_str(), name.as_str(), "二班", ""))
        .collect();
    roster(&desk, &owned).await;
    let more = plan(
        &desk,
        plan_req("学费", class("XH/二班"), "fixed:10", "西湖前台现金"),
    )
    .await
    .id;
    feedesk::billing::issue_plan(&desk, more).await.unwrap();
    let bills = plan_bills(&desk, more).await;
    assert!(bills.len() >= 40);
    let mut tasks = vec![];
    for (cashier, chunk) in bills.chunks(bills.len().div_ceil(8)).enumerate() {
        let desk = open(dir.path(), TestClock::at(default_time())).await;
        let ids: Vec<i64> = chunk.iter().map(|b| b.id).collect();
        tasks.push(tokio::spawn(async move {
            let mut numbers = vec![];
            for id in ids {
                let p = pay(
                    &desk,
                    id,
                    "10",
                    "西湖前台现金",
                    &format!("k-{cashier}-{id}"),
                )
                .await
                .unwrap();
                numbers.push(p.receipt_no.unwrap());
            }
            numbers
        }));
    }
    let mut numbers = vec![];
    for t in tasks {
        numbers.extend(t.await.unwrap());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=bills.len())
        .map(|i| format!("XH-2026-{i:06}"))
        .collect();
    assert_eq!(numbers, expected);
    let report = receipts::verify(&desk).await.unwrap();
    assert!(report.intact, "{:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread")]
async fn numbering_restarts_each_year_per_store() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(default_time());
    let desk = open(dir.path(), clock.clone()).await;
    let (one, _, _) = school(&desk).await;
    let s001 = bill_of(&desk, one, "S001").await;
    cash(&desk, s001.id, "100", "a").await;
    // 2026-12-31 16:30 UTC is already 2027-01-01 00:30 in Shanghai.
    clock.set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 31, 16, 30, 0).unwrap());
    let p = cash(&desk, s001.id, "100", "b").await;
    assert_eq!(p.receipt_no.as_deref(), Some("XH-2027-000001"));
    let p = cash(&desk, s001.id, "100", "c").await;
    assert_eq!(p.receipt_no.as_deref(), Some("XH-2027-000002"));
    assert!(receipts::verify(&desk).await.unwrap().intact);
    let range = ReceiptFilter {
        from: Some(day(2027, 1, 1)),
        to: Some(day(2027, 1, 1)),
        ..Default::default()
    };
    let found = receipts::list_receipts(&desk, &range).await.unwrap();
    assert_eq!(found.len(), 2);
    let range = ReceiptFilter {
        to: Some(day(2026, 12, 31)),
        ..Default::default()
    };
    assert_eq!(
        receipts::list_receipts(&desk, &range).await.unwrap().len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn search_by_member_class_term_and_number_and_export_a_class() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, two, bj) = school(&desk).await;
    for (plan, no, amount) in [
        (one, "S001", "2800"),
        (one, "S002", "100"),
        (two, "S004", "1234.56"),
    ] {
        let b = bill_of(&desk, plan, no).await;
        cash(&desk, b.id, amount, &format!("k-{no}")).await;
    }
    let b001 = bill_of(&desk, bj, "B001").await;
    bank(&desk, b001.id, "100.05", "k-b", "REF1").await;
    let find = |f: ReceiptFilter| {
        let desk = desk.clone();
        async move {
            receipts::list_receipts(&desk, &f)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.number)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        find(ReceiptFilter {
            member_no: Some("S002".into()),
            ..Default::default()
        })
        .await,
        ["XH-2026-000002"]
    );
    assert_eq!(
        find(ReceiptFilter {
            class_name: Some("XH/一班".into()),
            ..Default::default()
        })
        .await,
        ["XH-2026-000001", "XH-2026-000002"]
    );
    assert_eq!(
        find(ReceiptFilter {
            term_name: Some(TERM.into()),
            ..Default::default()
        })
        .await
        .len(),
        4
    );
    assert_eq!(
        find(ReceiptFilter {
            search: Some("bj-2026".into()),
            ..Default::default()
        })
        .await,
        ["BJ-2026-000001"]
    );
    assert_eq!(
        find(ReceiptFilter {
            search: Some("赵六".into()),
            ..Default::default()
        })
        .await,
        ["XH-2026-000003"]
    );
    let page = receipts::receipt_page(&desk, &ReceiptFilter::default(), 0, 2)
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.receipts[0].number, "BJ-2026-000001");
    // "一班" alone is ambiguous (XH and BJ have one): a clear error, not a guess.
    let err = receipts::list_receipts(
        &desk,
        &ReceiptFilter {
            class_name: Some("一班".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("name the store"), "{err}");

    let out = dir.path().join("xh-1.zip");
    let report = receipts::export_zip(
        &desk,
        &ReceiptFilter {
            class_name: Some("XH/一班".into()),
            ..Default::default()
        },
        &out,
    )
    .await
    .unwrap();
    assert_eq!(report.receipts, 2);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        ["XH-2026-000001.pdf", "XH-2026-000002.pdf", "receipts.csv"]
    );
    let mut manifest = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("receipts.csv").unwrap(), &mut manifest)
        .unwrap();
    let r1 = receipts::get_receipt(&desk, "XH-2026-000001")
        .await
        .unwrap();
    assert!(
        manifest.contains(r1.sha256.as_deref().unwrap()),
        "{manifest}"
    );
    assert!(
        manifest.contains("张三") && manifest.contains("2800.00"),
        "{manifest}"
    );
    let err = receipts::export_zip(&desk, &ReceiptFilter::default(), &out)
        .await
        .unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Validation);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_catches_a_changed_pdf_a_changed_record_and_deleted_records() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, two, _) = school(&desk).await;
    for (plan, no, amount) in [
        (one, "S001", "100"),
        (one, "S002", "100"),
        (one, "S003", "100"),
        (two, "S004", "1234.56"),
    ] {
        let b = bill_of(&desk, plan, no).await;
        cash(&desk, b.id, amount, &format!("k-{no}")).await;
    }
    assert!(receipts::verify(&desk).await.unwrap().intact);

    // 1. A PDF changed on disk (one byte).
    let pdf = dir.path().join("receipts/XH/2026/XH-2026-000002.pdf");
    let original = std::fs::read(&pdf).unwrap();
    let mut changed = original.clone();
    let at = changed.len() / 2;
    changed[at] ^= 1;
    std::fs::write(&pdf, &changed).unwrap();
    let r = receipts::verify(&desk).await.unwrap();
    assert!(!r.intact);
    assert!(
        r.problems[0].starts_with("XH-2026-000002: its archived PDF")
            && r.problems[0].contains("was changed"),
        "{:?}",
        r.problems
    );
    let err = receipts::receipt_pdf(&desk, "XH-2026-000002")
        .await
        .unwrap_err();
    assert_eq!(err.code(), feedesk::ErrorCode::Conflict);
    std::fs::write(&pdf, &original).unwrap();
    assert!(receipts::verify(&desk).await.unwrap().intact);

    // 1b. A PDF replaced and its recorded SHA-256 rewritten to match (the trigger dropped):
    // the audit log kept the hash it was archived with.
    std::fs::write(&pdf, &changed).unwrap();
    let forged = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&changed));
    tamper(
        &desk,
        &format!(
            "DROP TRIGGER receipt_files_no_update;
             UPDATE receipt_files SET sha256 = '{forged}' WHERE receipt_id = 2;"
        ),
    )
    .await;
    let r = receipts::verify(&desk).await.unwrap();
    assert!(!r.intact);
    assert!(
        r.problems[0]
            .starts_with("XH-2026-000002: the SHA-256 recorded for its archived PDF was changed"),
        "{:?}",
        r.problems
    );
    std::fs::write(&pdf, &original).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&original));
    tamper(
        &desk,
        &format!("UPDATE receipt_files SET sha256 = '{sha}' WHERE receipt_id = 2;"),
    )
    .await;
    assert!(receipts::verify(&desk).await.unwrap().intact);

    // 2. A record changed by someone with the database file (the trigger dropped first).
    tamper(
        &desk,
        "DROP TRIGGER receipts_no_update; DROP TRIGGER receipts_no_delete;
         DROP TRIGGER receipt_files_no_delete;",
    )
    .await;
    tamper(&desk, "UPDATE receipts SET content_json = replace(content_json, '\"100.00\"', '\"10.00\"') WHERE number = 'XH-2026-000003'").await;
    let r = receipts::verify(&desk).await.unwrap();
    assert!(!r.intact);
    assert_eq!(
        r.problems[0],
        "XH-2026-000003: its record was changed after it was issued (hash mismatch)"
    );

    // 3. A record deleted from the middle of the chain.
    tamper(&desk, "DELETE FROM receipt_files WHERE receipt_id = 3; DELETE FROM receipts WHERE number = 'XH-2026-000003'").await;
    let r = receipts::verify(&desk).await.unwrap();
    assert!(!r.intact);
    assert!(
        r.problems[0].starts_with("XH-2026-000004: it does not follow XH-2026-000002"),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("numbers jump")),
        "{:?}",
        r.problems
    );

    // 4. The newest record deleted and the counter rewound: the audit log's anchor remembers.
    tamper(
        &desk,
        "DELETE FROM receipt_files WHERE receipt_id = 4; DELETE FROM receipts WHERE number = 'XH-2026-000004';
         UPDATE receipt_counters SET last_seq = 2;",
    )
    .await;
    let r = receipts::verify(&desk).await.unwrap();
    assert!(!r.intact);
    assert!(
        r.problems
            .iter()
            .any(|p| p.starts_with("XH-2026-000004: the audit log records it as issued")),
        "{:?}",
        r.problems
    );
}

/// Not a test of its own: writes sample PDFs to $RECEIPT_SAMPLES for a person to look at.
#[tokio::test(flavor = "multi_thread")]
async fn samples_for_eyes() {
    let Some(out) = std::env::var_os("RECEIPT_SAMPLES") else {
        return;
    };
    let out = std::path::PathBuf::from(out);
    let dir = tempfile::tempdir().unwrap();
    let desk = open(dir.path(), TestClock::at(default_time())).await;
    let (one, _, bj) = school(&desk).await;
    let s001 = bill_of(&desk, one, "S001").await;
    let paid = cash(&desk, s001.id, "1234.56", "cash-1").await;
    let b001 = bill_of(&desk, bj, "B001").await;
    bank(&desk, b001.id, "100.05", "bank-1", "CMB20260902001").await;
    refund(&desk, paid.payment_id, "200", "缺课退费", "r-1")
        .await
        .unwrap();
    for r in receipts::list_receipts(&desk, &ReceiptFilter::default())
        .await
        .unwrap()
    {
        let pdf = receipts::receipt_pdf(&desk, &r.number).await.unwrap();
        std::fs::write(out.join(format!("{}.pdf", r.number)), pdf).unwrap();
    }
    receipts::set_paper(&desk, receipts::Paper::A4)
        .await
        .unwrap();
    let s002 = bill_of(&desk, one, "S002").await;
    let p = cash(&desk, s002.id, "2800", "cash-2").await;
    let pdf = receipts::receipt_pdf(&desk, p.receipt_no.as_deref().unwrap())
        .await
        .unwrap();
    std::fs::write(out.join("a4.pdf"), pdf).unwrap();
}
