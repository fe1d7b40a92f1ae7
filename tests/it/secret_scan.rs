//! Planted channel secrets never leave the OS keyring. A fresh key set (random RSA keys, a
//! random APIv3 key) is configured through `feedesk account add`, then a whole flow runs with the
//! real CLI against `feedesk sandbox serve`: accounts added and tested, refused additions with the
//! key files mixed up, a class's QR workbook, collect, pay, sync, refunds through the channel,
//! refusals, backup, trial balance, audit log, orders, a keyring that is gone. Then the database
//! file, its WAL, the backups, the exported workbook and every byte the CLI printed (stdout and
//! stderr of every command, failing ones included) are scanned for every line of the private
//! keys' PEM bodies, their DER bytes and the APIv3 key: nothing may be found. The keyring item
//! is checked to hold them, so the scan looks for what really was configured.
//!
//! Needs a Secret Service: run under tests/keyring-session.sh (as `make test` does). Elsewhere
//! the test says it was skipped; with FEEDESK_KEYRING_TESTS=1 a missing keyring fails it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use feedesk::channels::sandbox::keys;
use feedesk::secrets::{SecretRef, SecretStore};
use serde_json::Value;

const SERVICE: &str = "cn.feedesk.app.test.secret-scan";

/// Kills the sandbox process even when the test fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Every command run, with everything it printed.
struct Transcript {
    data: PathBuf,
    printed: Vec<(String, Vec<u8>)>,
}

impl Transcript {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedesk"));
        cmd.arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .env_remove("FEEDESK_DATA_DIR")
            .env_remove(feedesk::fault::FAULT_ENV)
            .env("FEEDESK_KEYRING_SERVICE", SERVICE)
            // Whatever logging there is, at its loudest.
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null());
        cmd
    }

    fn keep(&mut self, args: &[&str], out: &Output) {
        let mut bytes = out.stdout.clone();
        bytes.extend_from_slice(&out.stderr);
        self.printed.push((args.join(" "), bytes));
    }

    fn run(&mut self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap();
        self.keep(args, &out);
        out
    }

    fn ok(&mut self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&mut self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// A command that must fail with one line on stderr.
    fn refused(&mut self, args: &[&str], needle: &str) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            err.contains(needle),
            "{args:?}: expected '{needle}' in: {err}"
        );
        err
    }
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
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

/// What must never be found: each line of the private keys' PEM bodies, a stretch of their DER
/// bytes, and the APIv3 key.
struct Secrets {
    text: Vec<(String, String)>,
    binary: Vec<(String, Vec<u8>)>,
}

impl Secrets {
    fn planted(keys_dir: &Path) -> Secrets {
        let mut text = vec![];
        let mut binary = vec![];
        for file in [
            "wechat/merchant_private_key.pem",
            "alipay/app_private_key.pem",
        ] {
            let pem = std::fs::read_to_string(keys_dir.join(file)).unwrap();
            let body: Vec<&str> = pem
                .lines()
                .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
                .collect();
            assert!(body.len() > 20, "{file}: not a 2048-bit key PEM");
            for (i, line) in body.iter().enumerate() {
                if line.len() >= 16 {
                    text.push((format!("{file} body line {}", i + 1), line.to_string()));
                }
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(body.concat())
                .unwrap();
            for at in [40, 300, 700, 1100] {
                binary.push((
                    format!("{file} DER bytes {at}.."),
                    der[at..at + 24].to_vec(),
                ));
            }
            text.push((format!("{file} DER as hex"), hex::encode(&der[300..324])));
        }
        let apiv3 = std::fs::read_to_string(keys_dir.join("wechat/apiv3_key.txt"))
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(apiv3.len(), 32);
        text.push(("the APIv3 key".into(), apiv3.clone()));
        text.push(("the APIv3 key, upper case".into(), apiv3.to_uppercase()));
        text.push((
            "the APIv3 key in base64".into(),
            base64::engine::general_purpose::STANDARD.encode(&apiv3),
        ));
        // Most of it is as bad as all of it.
        text.push((
            "28 characters of the APIv3 key".into(),
            apiv3[..28].to_string(),
        ));
        Secrets { text, binary }
    }

    /// Names what `bytes` (from `what`) gives away.
    fn found_in(&self, what: &str, bytes: &[u8]) -> Vec<String> {
        let mut found = vec![];
        for (name, needle) in &self.text {
            if contains(bytes, needle.as_bytes()) {
                found.push(format!("{what}: {name}"));
            }
        }
        for (name, needle) in &self.binary {
            if contains(bytes, needle) {
                found.push(format!("{what}: {name}"));
            }
        }
        found
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes to scan in a file: zip containers (the .xlsx export) inflated entry by entry.
fn contents(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = vec![(path.display().to_string(), bytes.clone())];
    if bytes.starts_with(b"PK") {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).unwrap();
            let mut inflated = vec![];
            entry.read_to_end(&mut inflated).unwrap();
            let name = entry.name().unwrap().to_string();
            out.push((format!("{} ! {name}", path.display()), inflated));
        }
    }
    out
}

async fn keyring_or_skip() -> Option<SecretStore> {
    let store = SecretStore::new(SERVICE);
    match store.check().await {
        Ok(()) => Some(store),
        Err(e) if std::env::var("FEEDESK_KEYRING_TESTS").as_deref() != Ok("1") => {
            eprintln!("skipped: no keyring here ({e}); run under tests/keyring-session.sh");
            None
        }
        Err(e) => panic!("a keyring was expected (FEEDESK_KEYRING_TESTS=1): {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_are_nowhere_but_in_the_keyring_after_a_whole_flow() {
    let Some(store) = keyring_or_skip().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let mut t = Transcript {
        data: dir.path().join("data"),
        printed: vec![],
    };

    // The sandbox, as its own process, with a fresh key set.
    let mut sandbox = Child(
        Command::new(env!("CARGO_BIN_EXE_feedesk"))
            .arg("--data-dir")
            .arg(dir.path().join("sandbox-data"))
            .args(["--json", "sandbox", "serve", "--port", "0", "--keys"])
            .arg(&keys_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(sandbox.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announced: Value = serde_json::from_str(&line).unwrap();
    let port = announced["address"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let wechat_url = announced["wechat_base_url"].as_str().unwrap().to_string();
    let alipay_url = announced["alipay_base_url"].as_str().unwrap().to_string();
    let ids: keys::SandboxIds = serde_json::from_value(announced["ids"].clone()).unwrap();
    let secrets = Secrets::planted(&keys_dir);
    // The scan works: it finds the secrets where they are.
    for f in [
        "wechat/merchant_private_key.pem",
        "alipay/app_private_key.pem",
        "wechat/apiv3_key.txt",
    ] {
        let found = secrets.found_in(f, &std::fs::read(keys_dir.join(f)).unwrap());
        assert!(
            !found.is_empty(),
            "the scan does not find the secrets in {f}"
        );
    }
    let k = |f: &str| keys_dir.join(f).display().to_string();

    // The institution.
    t.ok(&["init", "--name", "星火教育"]);
    t.ok(&[
        "org",
        "add",
        "--parent",
        "HQ",
        "--kind",
        "region",
        "--code",
        "EAST",
        "--name",
        "华东区",
    ]);
    t.ok(&[
        "org",
        "add",
        "--parent",
        "EAST",
        "--kind",
        "store",
        "--code",
        "XH",
        "--name",
        "西湖校区",
    ]);
    t.ok(&[
        "org",
        "add",
        "--parent",
        "EAST",
        "--kind",
        "store",
        "--code",
        "BJ",
        "--name",
        "滨江校区",
    ]);
    t.ok(&[
        "term",
        "add",
        "--name",
        "2026秋季学期",
        "--start",
        "2026-09-01",
        "--end",
        "2027-01-20",
    ]);
    t.ok(&[
        "class",
        "add",
        "--unit",
        "XH",
        "--term",
        "2026秋季学期",
        "--name",
        "一班",
    ]);
    t.ok(&[
        "class",
        "add",
        "--unit",
        "BJ",
        "--term",
        "2026秋季学期",
        "--name",
        "一班",
    ]);
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "学号,姓名,校区,班级,家长手机号码\n\
         S001,张三,XH,一班,13800138001\nS002,李四,XH,一班,13800138002\n\
         S003,王五,XH,一班,13800138003\nB001,赵六,BJ,一班,13800138004\n\
         B002,孙七,BJ,一班,13800138005\n",
    )
    .unwrap();
    t.ok(&[
        "import",
        "roster",
        roster.to_str().unwrap(),
        "--unit",
        "HQ",
        "--term",
        "2026秋季学期",
    ]);

    // A database connection held open for the whole flow keeps the WAL file in place, so it
    // is scanned as written, not after a checkpoint folded it away.
    let held = feedesk::FeeDesk::open(&t.data).await.unwrap();

    let wechat_add = [
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "wechat",
        "--name",
        "西湖微信",
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
    ]
    .map(str::to_string);
    let mut args: Vec<&str> = vec!["--json"];
    args.extend(wechat_add.iter().map(String::as_str));
    let added: Value = serde_json::from_str(&t.ok(&args)).unwrap();
    assert_eq!(added["configured"], true);
    t.ok(&[
        "account",
        "add",
        "--unit",
        "HQ",
        "--channel",
        "alipay",
        "--name",
        "集团支付宝",
        "--app-id",
        &ids.alipay_app_id,
        "--private-key-file",
        &k("alipay/app_private_key.pem"),
        "--alipay-public-key-file",
        &k("alipay/alipay_public_key.pem"),
        "--base-url",
        &alipay_url,
    ]);
    t.ok(&[
        "account",
        "add",
        "--unit",
        "XH",
        "--channel",
        "offline-cash",
        "--name",
        "西湖现金",
    ]);
    // Right after the keys went in: the WAL holds the newest pages.
    let wal = t.data.join("feedesk.sqlite-wal");
    assert!(wal.exists(), "the WAL is there to scan");
    let early = secrets.found_in(
        "the WAL right after account add",
        &std::fs::read(&wal).unwrap(),
    );
    assert!(early.is_empty(), "{early:?}");

    // Refused account additions with the key files mixed up, a key one character too long, a
    // name already taken: each reads a secret, none may repeat it.
    let long_key = dir.path().join("apiv3-long.txt");
    std::fs::write(
        &long_key,
        format!(
            "{}Z\n",
            std::fs::read_to_string(keys_dir.join("wechat/apiv3_key.txt"))
                .unwrap()
                .trim()
        ),
    )
    .unwrap();
    let swap = |flag: &str, file: String| {
        let mut v = wechat_add.to_vec();
        let at = v.iter().position(|a| a == flag).unwrap();
        v[at + 1] = file;
        let at = v.iter().position(|a| a == "西湖微信").unwrap();
        v[at] = "另一个微信".into();
        v
    };
    for args in [
        swap("--apiv3-key-file", k("wechat/merchant_private_key.pem")),
        swap("--private-key-file", k("wechat/apiv3_key.txt")),
        swap(
            "--platform-public-key-file",
            k("wechat/merchant_private_key.pem"),
        ),
        swap("--apiv3-key-file", long_key.display().to_string()),
        wechat_add.to_vec(),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = t.run(&args);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }
    t.refused(
        &[
            "account",
            "add",
            "--unit",
            "HQ",
            "--channel",
            "alipay",
            "--name",
            "错配支付宝",
            "--app-id",
            &ids.alipay_app_id,
            "--private-key-file",
            &k("alipay/alipay_public_key.pem"),
            "--alipay-public-key-file",
            &k("alipay/app_private_key.pem"),
            "--base-url",
            &alipay_url,
        ],
        "error",
    );
    t.ok(&["--json", "account", "list"]);
    assert!(t.ok(&["account", "test", "西湖微信"]).contains("verified"));
    assert!(
        t.ok(&["account", "test", "集团支付宝"])
            .contains("verified")
    );

    // Fees, plans, bills.
    t.ok(&["fee", "add", "--unit", "XH", "--name", "学费"]);
    t.ok(&["fee", "add", "--unit", "BJ", "--name", "学费"]);
    t.ok(&["fee", "add", "--unit", "XH", "--name", "材料费"]);
    for (fee, class, rule, account) in [
        ("XH/学费", "一班", "fixed:2800", "西湖微信"),
        ("BJ/学费", "一班", "fixed:1500.50", "集团支付宝"),
        ("XH/材料费", "一班", "fixed:120", "西湖现金"),
    ] {
        let plan = t.json(&[
            "plan",
            "add",
            "--fee",
            fee,
            "--class",
            class,
            "--rule",
            rule,
            "--due",
            "2026-09-30",
            "--account",
            account,
        ]);
        t.ok(&["plan", "issue", &plan["id"].to_string()]);
    }
    let bills = t.json(&["bill", "list"]);
    let bill = |member: &str, fee_account: &str| -> String {
        bills
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["member_no"] == member && b["account"] == fee_account)
            .unwrap()["id"]
            .to_string()
    };
    let (s001, s002, b001, b002, cash) = (
        bill("S001", "西湖微信"),
        bill("S002", "西湖微信"),
        bill("B001", "集团支付宝"),
        bill("B002", "集团支付宝"),
        bill("S001", "西湖现金"),
    );

    // The class's QR workbook, then collect, pay, sync.
    let workbook = exports.join("一班二维码.xlsx");
    t.ok(&[
        "--json",
        "collect",
        "--class",
        "XH/一班",
        "--out",
        workbook.to_str().unwrap(),
    ]);
    let mut paid = vec![];
    for bill_id in [&s001, &b001, &s002] {
        let order = t.json(&["collect", "--bill", bill_id]);
        let no = order["order_no"].as_str().unwrap().to_string();
        t.ok(&["sandbox", "pay", &no, "--port", &port]);
        paid.push(no);
    }
    // A forged answer on the way: the sync reports it, the next one records it.
    t.ok(&[
        "sandbox",
        "fault",
        "bad-signature",
        "--order",
        &paid[2],
        "--port",
        &port,
    ]);
    let report = t.json(&["orders", "sync"]);
    assert_eq!(
        (
            report["paid"].as_u64(),
            report["problems"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let report = t.json(&["orders", "sync"]);
    assert_eq!(report["paid"], 1);
    t.ok(&["orders", "sync"]);
    t.json(&["orders", "list"]);
    t.ok(&["orders", "list"]);
    t.ok(&[
        "pay",
        "--bill",
        &cash,
        "--amount",
        "120",
        "--account",
        "西湖现金",
        "--key",
        "cash-1",
    ]);

    // Refunds through the channel, their retries and refusals.
    let detail = t.json(&["bill", "show", &s001]);
    let payment = detail["payments"][0]["payment_id"].to_string();
    t.ok(&[
        "--json",
        "refund",
        "--payment",
        &payment,
        "--amount",
        "300",
        "--reason",
        "缺课退费",
        "--key",
        "r-1",
        "--via-channel",
    ]);
    t.ok(&[
        "refund",
        "--payment",
        &payment,
        "--amount",
        "300",
        "--reason",
        "缺课退费",
        "--key",
        "r-1",
        "--via-channel",
    ]);
    t.refused(
        &[
            "refund",
            "--payment",
            &payment,
            "--amount",
            "2600",
            "--reason",
            "缺课退费",
            "--key",
            "r-2",
            "--via-channel",
        ],
        "refused",
    );
    let detail = t.json(&["bill", "show", &b001]);
    let payment = detail["payments"][0]["payment_id"].to_string();
    t.ok(&[
        "refund",
        "--payment",
        &payment,
        "--amount",
        "1500.50",
        "--reason",
        "退学",
        "--key",
        "r-3",
        "--via-channel",
    ]);
    let detail = t.json(&["bill", "show", &cash]);
    let cash_payment = detail["payments"][0]["payment_id"].to_string();
    t.refused(
        &[
            "refund",
            "--payment",
            &cash_payment,
            "--amount",
            "10",
            "--reason",
            "x",
            "--key",
            "r-4",
            "--via-channel",
        ],
        "not collected through a channel",
    );
    // Other refusals on the way.
    t.refused(&["collect", "--bill", &bill("S002", "西湖现金")], "by hand");
    t.refused(&["collect", "--bill", &s001], "nothing to collect");
    t.ok(&["sandbox", "fault", "bad-signature", "--port", &port]);
    t.refused(&["account", "test", "西湖微信"], "signature");
    let order = t.json(&["collect", "--bill", &bill("S003", "西湖微信")]);
    t.ok(&[
        "sandbox",
        "pay",
        order["order_no"].as_str().unwrap(),
        "--port",
        &port,
    ]);
    for fault in [
        "wrong-amount",
        "wrong-merchant",
        "unknown-serial",
        "skew:400",
        "unsigned",
    ] {
        t.ok(&["sandbox", "fault", fault, "--port", &port]);
        let report = t.json(&["orders", "sync"]);
        assert_eq!(
            (
                report["paid"].as_u64(),
                report["problems"].as_array().unwrap().len()
            ),
            (Some(0), 1),
            "{fault}: {report}"
        );
        t.ok(&["sandbox", "fault", fault, "--port", &port]);
        t.ok(&["orders", "sync"]);
    }
    assert_eq!(t.json(&["orders", "sync"])["paid"], 1);
    t.ok(&["--json", "sandbox", "orders", "--port", &port]);

    // Backups, books, the audit log, the dashboard.
    let backup = exports.join("backup.sqlite");
    t.ok(&["backup", "--out", backup.to_str().unwrap()]);
    t.json(&["ledger", "trial-balance", "--unit", "HQ", "--rollup"]);
    t.ok(&["ledger", "trial-balance", "--unit", "XH"]);
    t.ok(&["ledger", "verify"]);
    t.json(&["audit", "list"]);
    t.ok(&["audit", "list"]);
    t.ok(&["audit", "verify"]);
    t.ok(&["dashboard", "--unit", "HQ"]);
    t.json(&["bill", "list"]);
    t.ok(&["account", "list"]);

    // The keyring is gone: the refusals name it and nothing else.
    let no_bus = format!("unix:path={}/no-bus", dir.path().display());
    for args in [
        vec!["orders", "sync"],
        vec!["account", "test", "西湖微信"],
        vec!["collect", "--bill", &b002],
    ] {
        let mut cmd = t.command(&args);
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &no_bus);
        let out = cmd.output().unwrap();
        t.keep(&args, &out);
    }
    let mut offline_add = wechat_add.to_vec();
    let at = offline_add.iter().position(|a| a == "西湖微信").unwrap();
    offline_add[at] = "离线微信".into();
    let args: Vec<&str> = offline_add.iter().map(String::as_str).collect();
    let mut cmd = t.command(&args);
    cmd.env("DBUS_SESSION_BUS_ADDRESS", &no_bus);
    let out = cmd.output().unwrap();
    t.keep(&args, &out);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("keyring"));

    // The scan: every file of the data folder (database, WAL, shared memory, the backups made
    // before migrations), the backup and the workbook, and everything printed.
    let mut found = vec![];
    let mut scanned = vec![];
    for file in files(&t.data).into_iter().chain(files(&exports)) {
        for (what, bytes) in contents(&file) {
            found.extend(secrets.found_in(&what, &bytes));
            scanned.push(what);
        }
    }
    for (command, bytes) in &t.printed {
        found.extend(secrets.found_in(&format!("output of `feedesk {command}`"), bytes));
    }
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
    for expected in [
        "feedesk.sqlite",
        "feedesk.sqlite-wal",
        "backup.sqlite",
        "sheet1.xml",
    ] {
        assert!(
            scanned.iter().any(|s| s.ends_with(expected)),
            "{expected} was not scanned: {scanned:?}"
        );
    }
    assert!(
        t.printed.len() > 60,
        "only {} commands ran",
        t.printed.len()
    );

    // ...while the keyring does hold them, under the references the database keeps.
    let refs: Vec<String> = sqlx::query_scalar(
        "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL ORDER BY id",
    )
    .fetch_all(held.db().pool())
    .await
    .unwrap();
    assert_eq!(refs.len(), 2, "{refs:?}");
    let mut in_keyring = vec![];
    for r in &refs {
        let reference = SecretRef::parse(r).unwrap();
        let bundle = store.get(&reference).await.unwrap();
        in_keyring.extend(secrets.found_in(r, bundle.expose().as_bytes()));
        store.delete(&reference).await.unwrap();
    }
    assert!(
        in_keyring.iter().any(|f| f.contains("APIv3 key")),
        "{in_keyring:?}"
    );
    assert!(
        in_keyring
            .iter()
            .any(|f| f.contains("merchant_private_key")),
        "{in_keyring:?}"
    );
    assert!(
        in_keyring.iter().any(|f| f.contains("app_private_key")),
        "{in_keyring:?}"
    );
    held.db().clone().close().await;
}
