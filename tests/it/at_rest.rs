//! The book at rest (issue 15): the data folder and the database are private to their owner,
//! SMTP without TLS only to this machine, and a writer that finds another one busy is told so
//! plainly within the timeout.

use crate::support::billing_support;

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
