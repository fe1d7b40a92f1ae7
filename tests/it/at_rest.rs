//! The book at rest (issue 15): the data folder and the database are private to their owner,
//! SMTP without TLS only to this machine, and a writer that finds another one busy is told so
//! plainly within the timeout.

use crate::support::billing_support;
use crate::support::channels_support;

use std::sync::Arc;

use billing_support::*;
use feedesk::reminders::{self, ChannelSetup, SmtpSecurity};
use feedesk::secrets::SecretStore;
use feedesk::{ErrorCode, FeeDesk};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_the_database_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let desk = open(&data, TestClock::at(default_time())).await;
    institution(&desk).await;
    let db = data.join(feedesk::db::DB_FILE);
    assert_eq!(mode(&data), 0o700, "data folder");
    assert_eq!(mode(&db), 0o600, "database");
    let wal = data.join(format!("{}-wal", feedesk::db::DB_FILE));
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600, "write-ahead log");
    }
    let backup = dir.path().join("copy.sqlite");
    feedesk::db::backup_to(desk.db(), &backup).await.unwrap();
    assert_eq!(mode(&backup), 0o600, "backup");
    desk.db().clone().close().await;
    drop(desk);

    // A book left readable by an older FeeDesk is tightened when opened.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _desk = FeeDesk::open(&data).await.unwrap();
    assert_eq!((mode(&data), mode(&db)), (0o700, 0o600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_without_tls_is_refused_to_any_host_but_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    institution(&desk).await;
    let secrets = SecretStore::new("feedesk-test-at-rest-unused");
    let email = |host: &str| ChannelSetup::Email {
        host: host.into(),
        port: 25,
        security: SmtpSecurity::None,
        from: "星火教育 <fees@xinghuo.example.cn>".into(),
        username: None,
        password: None,
    };
    for host in ["smtp.example.cn", "192.168.1.10", "10.0.0.1"] {
        let err = reminders::add_notify_channel(&desk, &secrets, email(host), None, None)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Validation, "{host}: {err}");
        for needle in [host, "clear", "starttls"] {
            assert!(
                err.to_string().contains(needle),
                "{host}: '{needle}' in {err}"
            );
        }
    }
    for host in ["127.0.0.1", "localhost", "::1"] {
        reminders::add_notify_channel(&desk, &secrets, email(host), None, None)
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    assert!(feedesk::reminders::is_loopback_host("[::1]"));
    assert!(!feedesk::reminders::is_loopback_host(
        "127.0.0.1.example.cn"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_that_finds_another_busy_is_told_so_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = open(&data, TestClock::at(default_time())).await;
    institution(&first).await;
    let second = FeeDesk::open_with(
        &data,
        Arc::new(feedesk::clock::SystemClock),
        "test:second".into(),
    )
    .await
    .unwrap();
    // The first FeeDesk holds the write lock (a long import, say).
    let held = first.db().write().await.unwrap();
    let started = std::time::Instant::now();
    let err = feedesk::billing::add_fee(&second, "XH", "学费")
        .await
        .unwrap_err();
    let waited = started.elapsed();
    drop(held);
    assert_eq!(err.code(), ErrorCode::Storage, "{err}");
    assert!(
        err.to_string().contains("another FeeDesk is busy writing"),
        "{err}"
    );
    assert!(
        waited < feedesk::db::BUSY_TIMEOUT + std::time::Duration::from_secs(10),
        "{waited:?}"
    );
    // Once the lock is free, the same call goes through.
    feedesk::billing::add_fee(&second, "XH", "学费")
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anchor_catches_a_deleted_tail_and_a_re_chained_history() {
    use feedesk::anchor;
    let Some(secrets) =
        channels_support::keyring_or_skip("cn.feedesk.app.test.anchor", "anchor").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    institution(&desk).await;
    roster(
        &desk,
        &[
            ("XH", "S001", "张三", "一班", ""),
            ("XH", "S002", "李四", "一班", ""),
            ("XH", "S003", "王五", "一班", ""),
        ],
    )
    .await;
    account(
        &desk,
        "XH",
        feedesk::billing::Channel::OfflineCash,
        "西湖现金",
    )
    .await;
    fee(&desk, "XH", "学费").await;
    let p = plan(
        &desk,
        plan_req("XH/学费", class("一班"), "fixed:100", "西湖现金"),
    )
    .await;
    feedesk::billing::issue_plan(&desk, p.id).await.unwrap();
    for (no, key) in [("S001", "k1"), ("S002", "k2")] {
        let b = bill_of(&desk, p.id, no).await;
        pay(&desk, b.id, "100", "西湖现金", key).await.unwrap();
    }
    let file = dir.path().join("anchor.json");
    let made = anchor::write(&desk, &secrets, &file).await.unwrap();
    assert!(
        made.audit.entries > 3 && made.receipts.entries == 2,
        "{made:?}"
    );
    let check = |a: anchor::Anchor| {
        let (desk, secrets) = (&desk, &secrets);
        async move { anchor::verify(desk, secrets, &a).await.unwrap() }
    };
    // Later work keeps the book consistent with the anchor.
    let b3 = bill_of(&desk, p.id, "S003").await;
    pay(&desk, b3.id, "100", "西湖现金", "k3").await.unwrap();
    assert!(check(anchor::read(&file).unwrap()).await.ok());

    // An altered anchor file does not verify.
    let mut forged = anchor::read(&file).unwrap();
    forged.audit.entries -= 5;
    let c = check(forged).await;
    assert!(c.problems[0].contains("signature"), "{:?}", c.problems);

    // Someone who can write the file deletes the audit tail, anchored entries included: the
    // chain alone still verifies, the anchor does not.
    let pool = desk.db().pool();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM audit_log WHERE id > (SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET ?)",
    )
    .bind(made.audit.entries - 3)
    .execute(pool)
    .await
    .unwrap();
    assert!(
        feedesk::audit::verify(pool).await.is_ok(),
        "the chain alone misses it"
    );
    let c = check(anchor::read(&file).unwrap()).await;
    assert!(
        c.problems
            .iter()
            .any(|p| p.contains("audit log") && p.contains("tail was deleted")),
        "{:?}",
        c.problems
    );
    // ... and carries on writing, so the log is as long again: a re-chained history.
    for i in 0..5 {
        fee(&desk, "XH", &format!("杂费{i}")).await;
    }
    let c = check(anchor::read(&file).unwrap()).await;
    assert!(
        c.problems.iter().any(|p| p.contains("re-chained")),
        "{:?}",
        c.problems
    );

    // The receipts' tail too.
    sqlx::query("DROP TRIGGER receipts_no_delete")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER receipt_files_no_delete")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM receipt_files")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM receipts WHERE id >= (SELECT id FROM receipts ORDER BY id LIMIT 1 OFFSET 1)",
    )
    .execute(pool)
    .await
    .unwrap();
    let c = check(anchor::read(&file).unwrap()).await;
    assert!(
        c.problems
            .iter()
            .any(|p| p.contains("receipts") && p.contains("tail was deleted")),
        "{:?}",
        c.problems
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_writes_an_anchor_that_the_cli_verifies() {
    const KEYRING: &str = "cn.feedesk.app.test.anchor-cli";
    let Some(secrets) = channels_support::keyring_or_skip(KEYRING, "anchor cli").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_feedesk"))
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("FEEDESK_KEYRING_SERVICE", KEYRING)
            .env_remove("FEEDESK_DATA_DIR")
            .output()
            .unwrap()
    };
    let out = cli(&["init", "--name", "星火教育"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let backup = dir.path().join("book.sqlite");
    let out = cli(&["backup", "--out", backup.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let anchor = dir.path().join("book.sqlite.anchor.json");
    assert!(anchor.exists(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = cli(&["audit", "verify", "--anchor", anchor.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Intact"));
    // A forged anchor: refused with a non-zero exit and the reason.
    let text = std::fs::read_to_string(&anchor).unwrap();
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, text.replace("\"entries\": 1", "\"entries\": 9")).unwrap();
    let out = cli(&["audit", "verify", "--anchor", forged.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature"));
    // Tidy the keyring.
    let desk = FeeDesk::open(&data).await.unwrap();
    let key: String = sqlx::query_scalar("SELECT anchor_key_ref FROM book_identity")
        .fetch_one(desk.db().pool())
        .await
        .unwrap();
    secrets
        .delete(&feedesk::secrets::SecretRef::parse(&key).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_carries_the_chains_anchor_after_its_summary() {
    use calamine::{Data, Reader, open_workbook_auto};
    use feedesk::progress::{CancelToken, ignore_progress};
    const KEYRING: &str = "cn.feedesk.app.test.anchor-report";
    let Some(secrets) = channels_support::keyring_or_skip(KEYRING, "anchor report").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let desk = open(&dir.path().join("data"), TestClock::at(default_time())).await;
    institution(&desk).await;
    let out = dir.path().join("月报.xlsx");
    let r = feedesk::reports::export_monthly_report_anchored(
        &desk,
        &secrets,
        "2026-09",
        "HQ",
        &out,
        &ignore_progress,
        &CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.sheets[1],
        feedesk::reports::ANCHOR_SHEET,
        "{:?}",
        r.sheets
    );
    let mut book = open_workbook_auto(&out).unwrap();
    let sheet = book
        .worksheet_range(feedesk::reports::ANCHOR_SHEET)
        .unwrap();
    let Some(Data::String(json)) = sheet.get_value((7, 1)) else {
        panic!("no anchor JSON: {:?}", sheet.get_value((7, 1)));
    };
    let anchor: feedesk::anchor::Anchor = serde_json::from_str(json).unwrap();
    let check = feedesk::anchor::verify(&desk, &secrets, &anchor)
        .await
        .unwrap();
    assert!(check.ok(), "{:?}", check.problems);
    let key: String = sqlx::query_scalar("SELECT anchor_key_ref FROM book_identity")
        .fetch_one(desk.db().pool())
        .await
        .unwrap();
    secrets
        .delete(&feedesk::secrets::SecretRef::parse(&key).unwrap())
        .await
        .unwrap();
}
