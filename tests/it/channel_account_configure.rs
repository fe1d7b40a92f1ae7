//! `feedesk account configure`: an account added without keys (as the demo and the Fees page
//! make them) gets its keys later, and keys are rotated: the new ones work, the old keyring item
//! is gone, the database never holds a key, and a wrong channel or a merchant change with open
//! orders is refused with nothing changed. Needs a keyring (tests/keyring-session.sh, as
//! `make test` runs it); elsewhere it says it was skipped.

use std::path::Path;
use std::process::{Command, Output};

use feedesk::channels::sandbox::{Sandbox, keys};
use feedesk::secrets::SecretStore;

const SERVICE: &str = "cn.feedesk.app.test.configure";

fn feedesk(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("FEEDESK_KEYRING_SERVICE", SERVICE)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn refused(output: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should have been refused");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "'{needle}' not in: {err}");
}

async fn keyring_available() -> bool {
    match SecretStore::new(SERVICE).check().await {
        Ok(()) => true,
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("skipped: no keyring here ({e}); run under tests/keyring-session.sh");
            false
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

/// The account's keyring reference as the database holds it (read through the library, on a
/// thread of its own so the async test can call it plainly).
fn secret_ref(data_dir: &Path, account: &str) -> Option<String> {
    let rt = tokio::runtime::Handle::current();
    let data_dir = data_dir.to_path_buf();
    let account = account.to_string();
    std::thread::spawn(move || {
        rt.block_on(async move {
            let desk = feedesk::FeeDesk::open(&data_dir).await.unwrap();
            let r: Option<String> =
                sqlx::query_scalar("SELECT secret_ref FROM collection_accounts WHERE name = ?")
                    .bind(&account)
                    .fetch_one(desk.db().pool())
                    .await
                    .unwrap();
            desk.db().clone().close().await;
            r
        })
    })
    .join()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_configured_later_and_rotated() {
    if !keyring_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys_a = dir.path().join("keys-a");
    let keys_b = dir.path().join("keys-b");
    let (config_a, ids) = keys::load_or_create(&keys_a).unwrap();
    let (config_b, _) = keys::load_or_create(&keys_b).unwrap();
    let sandbox_a = Sandbox::start(config_a, 0).await.unwrap();
    let sandbox_b = Sandbox::start(config_b, 0).await.unwrap();
    ok(&feedesk(&data, &["init", "--name", "星火"]));
    ok(&feedesk(
        &data,
        &[
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "wechat",
            "--name",
            "微信收款",
        ],
    ));
    ok(&feedesk(
        &data,
        &[
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "offline-cash",
            "--name",
            "现金",
        ],
    ));
    // Not configured yet: testing it says so.
    refused(
        &feedesk(&data, &["account", "test", "微信收款"]),
        "no channel keys configured",
    );
    assert_eq!(secret_ref(&data, "微信收款"), None);

    let k = |dir: &Path, f: &str| dir.join(f).display().to_string();
    let wechat_args = |dir: &Path, base: &str| -> Vec<String> {
        vec![
            "--mch-id".into(),
            ids.wechat_mch_id.clone(),
            "--appid".into(),
            ids.wechat_appid.clone(),
            "--cert-serial".into(),
            ids.wechat_cert_serial.clone(),
            "--private-key-file".into(),
            k(dir, "wechat/merchant_private_key.pem"),
            "--apiv3-key-file".into(),
            k(dir, "wechat/apiv3_key.txt"),
            "--platform-public-key-file".into(),
            k(dir, "wechat/platform_public_key.pem"),
            "--platform-key-id".into(),
            ids.wechat_platform_key_id.clone(),
            "--base-url".into(),
            base.into(),
        ]
    };
    let configure = |account: &str, dir: &Path, base: &str| {
        let mut args: Vec<String> = vec![
            "--json".into(),
            "account".into(),
            "configure".into(),
            account.into(),
        ];
        args.extend(wechat_args(dir, base));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        feedesk(&data, &args)
    };

    // Keys later: the account works, shows only its hint, and keeps no key in the database.
    let first: serde_json::Value = serde_json::from_str(&ok(&configure(
        "微信收款",
        &keys_a,
        &sandbox_a.wechat_base_url(),
    )))
    .unwrap();
    assert_eq!(first["configured"], true);
    let apiv3_a = std::fs::read_to_string(keys_a.join("wechat/apiv3_key.txt")).unwrap();
    // Issue 15: the hint is a fingerprint, the first 8 hex digits of the key's SHA-256.
    use sha2::Digest;
    assert_eq!(
        first["secret_hint"],
        hex::encode(sha2::Sha256::digest(apiv3_a.trim().as_bytes()))[..8]
    );
    ok(&feedesk(&data, &["account", "test", "微信收款"]));
    let ref_a = secret_ref(&data, "微信收款").expect("a keyring reference");
    let store = SecretStore::new(SERVICE);
    assert!(
        store
            .get(&feedesk::secrets::SecretRef::parse(&ref_a).unwrap())
            .await
            .is_ok()
    );

    // Rotation to another key set (another sandbox): the new keys work, the old item is gone.
    ok(&configure(
        "微信收款",
        &keys_b,
        &sandbox_b.wechat_base_url(),
    ));
    ok(&feedesk(&data, &["account", "test", "微信收款"]));
    let ref_b = secret_ref(&data, "微信收款").unwrap();
    assert_ne!(ref_a, ref_b);
    assert!(
        store
            .get(&feedesk::secrets::SecretRef::parse(&ref_a).unwrap())
            .await
            .is_err()
    );
    assert!(
        store
            .get(&feedesk::secrets::SecretRef::parse(&ref_b).unwrap())
            .await
            .is_ok()
    );

    // Refusals change nothing: a cash account takes no keys; alipay keys for a wechat account.
    refused(
        &configure("现金", &keys_a, &sandbox_a.wechat_base_url()),
        "take no channel keys",
    );
    let alipay = feedesk(
        &data,
        &[
            "account",
            "configure",
            "微信收款",
            "--app-id",
            "2021000000000000",
            "--private-key-file",
            &k(&keys_a, "alipay/app_private_key.pem"),
            "--alipay-public-key-file",
            &k(&keys_a, "alipay/alipay_public_key.pem"),
        ],
    );
    refused(&alipay, "for alipay accounts");
    assert_eq!(secret_ref(&data, "微信收款").unwrap(), ref_b);

    // The audit log says who configured what, without a key in it.
    let audit = ok(&feedesk(&data, &["--json", "audit", "list"]));
    assert_eq!(audit.matches("account.configure").count(), 2, "{audit}");
    let private_a =
        std::fs::read_to_string(keys_a.join("wechat/merchant_private_key.pem")).unwrap();
    let body_line = private_a.lines().nth(1).unwrap();
    assert!(!audit.contains(body_line) && !audit.contains(apiv3_a.trim()));
    let db = std::fs::read(data.join(feedesk::db::DB_FILE)).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!db.contains(body_line) && !db.contains(apiv3_a.trim()));

    for r in [ref_b] {
        let _ = store
            .delete(&feedesk::secrets::SecretRef::parse(&r).unwrap())
            .await;
    }
    sandbox_a.shutdown().await;
    sandbox_b.shutdown().await;
}
