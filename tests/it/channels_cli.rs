//! The CLI faces of the channels: `feedesk sandbox serve` and its controls, `feedesk account add`
//! with channel keys (secrets from files, into the OS keyring only) and `feedesk account test`.
//! The keyring tests need a Secret Service: run them under tests/keyring-session.sh (as
//! `make test` and CI do); elsewhere they say they were skipped.

use crate::support::channels_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use feedesk::channels::sandbox::{Sandbox, keys};
use feedesk::channels::wechatpay::{NativeOrder, TradeState, WechatClient, WechatConfig};
use feedesk::channels::{crypto, wechatpay};
use feedesk::secrets::{SecretRef, SecretStore};

const TEST_SERVICE: &str = "cn.feedesk.app.test";

fn feedesk(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("FEEDESK_KEYRING_SERVICE", TEST_SERVICE)
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

fn wechat_client(keys_dir: &Path, ids: &keys::SandboxIds, base_url: &str) -> WechatClient {
    let read = |f: &str| std::fs::read_to_string(keys_dir.join(f)).unwrap();
    WechatClient::new(WechatConfig {
        mch_id: ids.wechat_mch_id.clone(),
        appid: ids.wechat_appid.clone(),
        cert_serial: ids.wechat_cert_serial.clone(),
        private_key: crypto::private_key(&read("wechat/merchant_private_key.pem")).unwrap(),
        apiv3_key: wechatpay::ApiV3Key::parse(&read("wechat/apiv3_key.txt")).unwrap(),
        platform_keys: wechatpay::PlatformKeys::new().with(
            &ids.wechat_platform_key_id,
            crypto::public_key(&read("wechat/platform_public_key.pem")).unwrap(),
        ),
        base_url: base_url.into(),
        notify_url: wechatpay::DEFAULT_NOTIFY_URL.into(),
    })
    .unwrap()
}

/// Kills the sandbox process even when the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serve_and_its_controls() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_feedesk"))
            .args(["--json", "sandbox", "serve", "--port", "0", "--keys"])
            .arg(&keys_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announced: serde_json::Value = serde_json::from_str(&line).unwrap();
    let base = announced["wechat_base_url"].as_str().unwrap().to_string();
    let port = announced["address"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        announced["alipay_base_url"].as_str().unwrap(),
        format!("{base}/gateway.do")
    );
    // The key set was made, private keys readable by the owner only.
    for f in keys::FILES {
        assert!(keys_dir.join(f).exists(), "{f}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys_dir.join("wechat/merchant_private_key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }
    let ids: keys::SandboxIds =
        serde_json::from_str(&std::fs::read_to_string(keys_dir.join("sandbox.json")).unwrap())
            .unwrap();
    let client = wechat_client(&keys_dir, &ids, &base);
    client
        .native_order(&NativeOrder {
            out_trade_no: "FD202611220201".into(),
            description: "学费".into(),
            total_fen: 120_000,
            time_expire: None,
        })
        .await
        .unwrap();

    let orders = ok(&feedesk(
        dir.path(),
        &["--json", "sandbox", "orders", "--port", &port],
    ));
    assert!(
        orders.contains("FD202611220201") && orders.contains("\"open\""),
        "{orders}"
    );
    let fault = feedesk(
        dir.path(),
        &["sandbox", "fault", "bad-signature", "--port", &port],
    );
    ok(&fault);
    channels_support::refused(client.query("FD202611220201").await, "signature");
    ok(&feedesk(
        dir.path(),
        &["sandbox", "pay", "FD202611220201", "--port", &port],
    ));
    let paid = client.query("FD202611220201").await.unwrap().unwrap();
    assert_eq!(paid.trade_state, TradeState::Success);
    // Paying twice, unknown orders, unknown faults and a dead port all fail with one line.
    for args in [
        vec!["sandbox", "pay", "FD202611220201", "--port", &port],
        vec!["sandbox", "pay", "NOSUCHORDER", "--port", &port],
        vec!["sandbox", "fault", "explode", "--port", &port],
        vec!["sandbox", "orders", "--port", "1"],
    ] {
        let out = feedesk(dir.path(), &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }

    // A second start reuses the same key set.
    let (_, again) = keys::load_or_create(&keys_dir).unwrap();
    assert_eq!(again, ids);
}

fn keyring_expected() -> bool {
    std::env::var("FEEDESK_KEYRING_TESTS").as_deref() == Ok("1")
}

async fn keyring_available() -> bool {
    match SecretStore::new(TEST_SERVICE).check().await {
        Ok(()) => true,
        Err(e) if !keyring_expected() => {
            eprintln!("skipped: no keyring here ({e}); run under tests/keyring-session.sh");
            false
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

/// Every file in `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// Multi-threaded: the in-process sandbox answers on worker threads while the test waits for
// the CLI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_accounts_keep_their_secrets_in_the_keyring_only() {
    if !keyring_available().await {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys_dir = dir.path().join("keys");
    let (config, ids) = keys::load_or_create(&keys_dir).unwrap();
    let sandbox = Sandbox::start(config, 0).await.unwrap();
    ok(&feedesk(&data, &["init", "--name", "星火教育"]));
    let k = |f: &str| keys_dir.join(f).display().to_string();
    let wechat_url = sandbox.wechat_base_url();
    let alipay_url = sandbox.alipay_base_url();
    let transcript = std::cell::RefCell::new(String::new());
    let run = |args: &[&str]| {
        let out = feedesk(&data, args);
        let mut t = transcript.borrow_mut();
        t.push_str(&String::from_utf8_lossy(&out.stdout));
        t.push_str(&String::from_utf8_lossy(&out.stderr));
        out
    };
    let added = ok(&run(&[
        "--json",
        "account",
        "add",
        "--unit",
        "HQ",
        "--channel",
        "wechat",
        "--name",
        "微信收款",
        "--mch-id",
        &ids.wechat_mch_id,
        "--appid",
        &ids.wechat_appid,
        "--cert-serial",
        &ids.wechat_cert_serial,
        "--private-key-file",
        &k("wechat/merchant_private_key.pem"),
        "--apiv3-key-file",
        &k("wechat/apiv3_key.txt"),
        "--platform-public-key-file",
        &k("wechat/platform_public_key.pem"),
        "--platform-key-id",
        &ids.wechat_platform_key_id,
        "--base-url",
        &wechat_url,
    ]));
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    let apiv3 = std::fs::read_to_string(keys_dir.join("wechat/apiv3_key.txt")).unwrap();
    assert_eq!(added["configured"], true);
    // Issue 15: a fingerprint (SHA-256, first 8 hex digits), never the key's own characters.
    let hint = added["secret_hint"].as_str().unwrap();
    assert_eq!(hint.len(), 8);
    assert!(hint.bytes().all(|b| b.is_ascii_hexdigit()), "{hint}");
    assert!(!apiv3.trim().contains(hint) && !hint.contains(&apiv3.trim()[28..]));
    ok(&run(&[
        "account",
        "add",
        "--unit",
        "HQ",
        "--channel",
        "alipay",
        "--name",
        "支付宝收款",
        "--app-id",
        &ids.alipay_app_id,
        "--private-key-file",
        &k("alipay/app_private_key.pem"),
        "--alipay-public-key-file",
        &k("alipay/alipay_public_key.pem"),
        "--base-url",
        &alipay_url,
    ]));
    let tested = ok(&run(&["--json", "account", "test", "微信收款"]));
    assert!(tested.contains("\"ok\": true"), "{tested}");
    let tested = ok(&run(&["account", "test", "支付宝收款"]));
    assert!(tested.contains("signed answer verified"), "{tested}");
    // The probes reached the sandbox with valid signatures, and created nothing.
    assert!(sandbox.handle().orders().is_empty());

    // Refusals: a missing flag, a bad key file, a wrong APIv3 key length, an account
    // without keys, a channel that takes none. Each one line, nothing stored.
    let short = dir.path().join("short.txt");
    std::fs::write(&short, "too-short").unwrap();
    for args in [
        vec![
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "wechat",
            "--name",
            "x",
            "--mch-id",
            "1",
        ],
        vec![
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "alipay",
            "--name",
            "x",
            "--app-id",
            "1",
            "--private-key-file",
            k("wechat/apiv3_key.txt").leak(),
            "--alipay-public-key-file",
            k("alipay/alipay_public_key.pem").leak(),
        ],
        vec![
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "wechat",
            "--name",
            "x",
            "--mch-id",
            "1",
            "--appid",
            "wx1",
            "--cert-serial",
            "AB12",
            "--private-key-file",
            k("wechat/merchant_private_key.pem").leak(),
            "--apiv3-key-file",
            short.to_str().unwrap(),
            "--platform-public-key-file",
            k("wechat/platform_public_key.pem").leak(),
            "--platform-key-id",
            "PUB_KEY_ID_1",
        ],
        vec![
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "offline-cash",
            "--name",
            "x",
            "--mch-id",
            "1",
        ],
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?}");
    }
    ok(&run(&[
        "account",
        "add",
        "--unit",
        "HQ",
        "--channel",
        "wechat",
        "--name",
        "未配置",
    ]));
    let out = run(&["account", "test", "未配置"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no channel keys"));
    let listed = ok(&run(&["--json", "account", "list"]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&listed)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    ok(&run(&["--json", "audit", "list"]));
    ok(&run(&[
        "backup",
        "--out",
        dir.path().join("data/backup-copy.sqlite").to_str().unwrap(),
    ]));

    // The planted secrets: nowhere in the data folder (database, WAL, backups), the audit
    // log, or anything the CLI printed.
    let private_pem =
        std::fs::read_to_string(keys_dir.join("wechat/merchant_private_key.pem")).unwrap();
    let alipay_pem = std::fs::read_to_string(keys_dir.join("alipay/app_private_key.pem")).unwrap();
    let planted: Vec<String> = vec![
        apiv3.trim().to_string(),
        private_pem.lines().nth(5).unwrap().to_string(),
        private_pem.lines().nth(20).unwrap().to_string(),
        alipay_pem.lines().nth(7).unwrap().to_string(),
        "PRIVATE KEY".into(),
    ];
    for file in files(&data) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in &planted {
            assert!(
                !text.contains(secret.as_str()),
                "{} holds a secret",
                file.display()
            );
        }
    }
    for secret in &planted {
        assert!(
            !transcript.borrow().contains(secret.as_str()),
            "the CLI printed a secret"
        );
    }

    // The keys are in the keyring, under the reference the database keeps.
    let conn = secret_refs(&data).await;
    assert_eq!(conn.len(), 2);
    let store = SecretStore::new(TEST_SERVICE);
    for reference in &conn {
        let bundle = store
            .get(&SecretRef::parse(reference).unwrap())
            .await
            .unwrap();
        assert!(bundle.expose().contains("PRIVATE KEY"));
        store
            .delete(&SecretRef::parse(reference).unwrap())
            .await
            .unwrap();
    }
    // With its keyring item gone, the account says so instead of failing obscurely.
    let out = run(&["account", "test", "微信收款"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add the account's keys again"));
    sandbox.shutdown().await;
}

/// The secret references the database holds.
async fn secret_refs(data: &Path) -> Vec<String> {
    let desk = feedesk::FeeDesk::open(data).await.unwrap();
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL ORDER BY id",
    )
    .fetch_all(desk.db().pool())
    .await
    .unwrap();
    desk.db().clone().close().await;
    refs
}

#[test]
fn without_a_keyring_an_account_is_refused_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys_dir = dir.path().join("keys");
    let (_, ids) = keys::load_or_create(&keys_dir).unwrap();
    ok(&feedesk(&data, &["init", "--name", "星火教育"]));
    let k = |f: &str| keys_dir.join(f).display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_feedesk"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "alipay",
            "--name",
            "支付宝收款",
            "--app-id",
            &ids.alipay_app_id,
            "--private-key-file",
            &k("alipay/app_private_key.pem"),
            "--alipay-public-key-file",
            &k("alipay/alipay_public_key.pem"),
            "--base-url",
            "http://127.0.0.1:9/gateway.do",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        )
        .env("FEEDESK_KEYRING_SERVICE", TEST_SERVICE)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no OS keyring is available"), "{err}");
    assert!(!err.contains("PRIVATE"), "{err}");
    let listed = ok(&feedesk(&data, &["--json", "account", "list"]));
    assert_eq!(listed.trim(), "[]");
    // No file fallback: nothing new in the data folder but the database itself (and the
    // empty lock file that keeps a restore from replacing an open book).
    for file in files(&data) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let lock = name == "feedesk.lock" && std::fs::metadata(&file).unwrap().len() == 0;
        assert!(
            name.starts_with("feedesk.sqlite") || lock,
            "unexpected file {name}"
        );
    }
}
