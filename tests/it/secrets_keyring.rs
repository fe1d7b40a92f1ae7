//! Channel secrets in the real OS keyring (the Secret Service on Linux). Run them against a
//! real, private GNOME Keyring with `tests/keyring-session.sh cargo test` (what `make test`
//! and CI do). Outside such a session, with no keyring reachable, the round-trip tests say
//! they were skipped; with FEEDESK_KEYRING_TESTS=1 a missing keyring fails them.

use feedesk::secrets::{SecretRef, SecretStore, Sensitive};
use feedesk::{Error, ErrorCode};

/// The service the tests file items under, apart from real FeeDesk items.
const TEST_SERVICE: &str = "cn.feedesk.app.test";

async fn keyring_or_skip(test: &str) -> Option<SecretStore> {
    let store = SecretStore::new(TEST_SERVICE);
    match store.check().await {
        Ok(()) => Some(store),
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("{test}: skipped, no keyring here ({e}); run under tests/keyring-session.sh");
            None
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

#[tokio::test]
async fn secrets_round_trip_through_the_real_keyring() {
    let Some(store) = keyring_or_skip("round trip").await else {
        return;
    };
    let reference = SecretRef::generate("test");
    let first = Sensitive::new("-----BEGIN PRIVATE KEY-----\nplanted-secret-1\n".to_string());
    store.put(&reference, &first).await.unwrap();
    assert_eq!(
        store.get(&reference).await.unwrap().expose(),
        first.expose()
    );

    // Replacing keeps one item with the new value.
    let second = Sensitive::new("planted-secret-2 with 中文 and symbols !@#$%".to_string());
    store.put(&reference, &second).await.unwrap();
    assert_eq!(
        store.get(&reference).await.unwrap().expose(),
        second.expose()
    );

    store.delete(&reference).await.unwrap();
    let gone = store.get(&reference).await.unwrap_err();
    assert_eq!(gone.code(), ErrorCode::NotFound, "{gone}");
    assert!(!gone.to_string().contains("planted-secret"), "{gone}");
    // Deleting again is not an error.
    store.delete(&reference).await.unwrap();
}

#[tokio::test]
async fn references_and_services_keep_items_apart() {
    let Some(store) = keyring_or_skip("apart").await else {
        return;
    };
    let other_service = SecretStore::new("cn.feedesk.app.test-other");
    let (a, b) = (SecretRef::generate("test"), SecretRef::generate("test"));
    store
        .put(&a, &Sensitive::new("alpha".into()))
        .await
        .unwrap();
    store.put(&b, &Sensitive::new("beta".into())).await.unwrap();
    assert_eq!(store.get(&a).await.unwrap().expose(), "alpha");
    assert_eq!(store.get(&b).await.unwrap().expose(), "beta");
    assert_eq!(
        other_service.get(&a).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    store.delete(&a).await.unwrap();
    assert_eq!(store.get(&b).await.unwrap().expose(), "beta");
    store.delete(&b).await.unwrap();
}

/// With no Secret Service reachable, every call fails with the `keyring` code and says what to
/// do; nothing falls back to a file. Runs in a child process: the keyring crate opens its
/// store once per process.
#[test]
fn without_a_keyring_it_refuses_clearly() {
    const CHILD: &str = "FEEDESK_NO_KEYRING_CHILD";
    if std::env::var(CHILD).is_ok() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let store = SecretStore::new(TEST_SERVICE);
            let reference = SecretRef::generate("test");
            for err in [
                store.check().await.unwrap_err(),
                store
                    .put(&reference, &Sensitive::new("planted-secret".into()))
                    .await
                    .unwrap_err(),
                store.get(&reference).await.unwrap_err(),
            ] {
                assert_eq!(err.code(), ErrorCode::Keyring, "{err}");
                assert!(matches!(err, Error::Keyring(_)));
                let text = err.to_string();
                assert!(text.contains("keyring"), "{text}");
                assert!(!text.contains("planted-secret"), "{text}");
            }
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "without_a_keyring_it_refuses_clearly",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // Nothing was written next to the data the test controls.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
