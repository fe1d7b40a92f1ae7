//! Crash safety of collection, with the real `feedesk` binary against a sandbox that keeps
//! running in this test process across every crash:
//! - each injected crash point (`FEEDESK_FAULT`: `collect.after_order_written`,
//!   `collect.after_payment_before_order`, `payment.before_journal`, `payment.before_commit`)
//!   aborts the CLI mid-way; after a restart `feedesk orders sync` settles the order exactly
//!   once and `ledger verify` is clean;
//! - the CLI is killed (SIGKILL) while `collect` waits for the channel's answer, and while
//!   `orders sync` does: after a restart no order is lost and nothing is paid twice.
//!
//! Needs a Secret Service: run under tests/keyring-session.sh (as `make test` does). Elsewhere
//! the tests say they were skipped; with FEEDESK_KEYRING_TESTS=1 a missing keyring fails them.

use crate::support::billing_support;
use crate::support::channels_support;
use crate::support::collection_support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use billing_support::*;
use channels_support::keyring_or_skip;
use collection_support::{channel_accounts, channel_plans};
use feedesk::FeeDesk;
use feedesk::billing;
use feedesk::channels::sandbox::{Fault, FaultRule, OrderState, Sandbox};
use feedesk::secrets::{SecretRef, SecretStore};
use serde_json::Value;

const SERVICE: &str = "cn.feedesk.app.test.collection-crash";
const SIGABRT: i32 = 6;
const SIGKILL: i32 = 9;

fn cli(data: &Path, args: &[&str], fault: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .env_remove(feedesk::fault::FAULT_ENV)
        .env("FEEDESK_KEYRING_SERVICE", SERVICE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = fault {
        cmd.env(feedesk::fault::FAULT_ENV, point);
    }
    cmd
}

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    /// Read-only looks at the data folder between CLI runs.
    desk: FeeDesk,
    secrets: SecretStore,
    sandbox: Sandbox,
    wechat_plan: i64,
    alipay_plan: i64,
}

async fn world(test: &str) -> Option<World> {
    let secrets = keyring_or_skip(SERVICE, test).await?;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let desk = FeeDesk::open(&data).await.unwrap();
    institution(&desk).await;
    let members: Vec<(String, String)> = (1..=10)
        .flat_map(|i| {
            [
                ("XH".to_string(), format!("S{i:03}")),
                ("BJ".to_string(), format!("B{i:03}")),
            ]
        })
        .collect();
    let rows: Vec<Row> = members
        .iter()
        .map(|(store, no)| (store.as_str(), no.as_str(), "张三", "一班", ""))
        .collect();
    roster(&desk, &rows).await;
    let sandbox = channel_accounts(&desk, &secrets).await;
    let (wechat_plan, alipay_plan) = channel_plans(&desk).await;
    Some(World {
        _dir: dir,
        data,
        desk,
        secrets,
        sandbox,
        wechat_plan,
        alipay_plan,
    })
}

impl World {
    /// Runs the CLI to completion off the runtime's threads (the sandbox keeps answering).
    async fn run(&self, args: &[&str], fault: Option<&str>) -> Output {
        let mut cmd = cli(&self.data, args, fault);
        tokio::task::spawn_blocking(move || cmd.output().expect("run feedesk"))
            .await
            .unwrap()
    }

    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all, None).await;
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    async fn sync(&self) -> Value {
        let report = self.json(&["orders", "sync"]).await;
        assert_eq!(report["problems"], serde_json::json!([]), "{report}");
        report
    }

    async fn orders(&self, bill_id: i64) -> Vec<Value> {
        let listed = self
            .json(&["orders", "list", "--bill", &bill_id.to_string()])
            .await;
        listed.as_array().unwrap().clone()
    }

    async fn bill(&self, wechat: bool, member: &str) -> i64 {
        let plan = if wechat {
            self.wechat_plan
        } else {
            self.alipay_plan
        };
        bill_of(&self.desk, plan, member).await.id
    }

    /// `ledger verify` is clean, and so are the books end to end.
    async fn books_sound(&self) {
        let out = self.run(&["ledger", "verify"], None).await;
        assert!(
            out.status.success(),
            "ledger verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("Books sound"));
        assert_books(&self.desk).await;
    }

    async fn finish(self) {
        self.books_sound().await;
        let refs: Vec<String> = sqlx::query_scalar(
            "SELECT secret_ref FROM collection_accounts WHERE secret_ref IS NOT NULL",
        )
        .fetch_all(self.desk.db().pool())
        .await
        .unwrap();
        for r in refs {
            self.secrets
                .delete(&SecretRef::parse(&r).unwrap())
                .await
                .unwrap();
        }
        self.desk.db().clone().close().await;
        self.sandbox.shutdown().await;
    }
}

/// (payment id, reference) of each payment on a bill.
async fn payments(desk: &FeeDesk, bill_id: i64) -> Vec<(i64, Option<String>)> {
    sqlx::query_as("SELECT id, reference FROM payments WHERE bill_id = ? ORDER BY id")
        .bind(bill_id)
        .fetch_all(desk.db().pool())
        .await
        .unwrap()
}

fn assert_aborted_at(out: &Output, point: &str) {
    assert_eq!(
        out.status.signal(),
        Some(SIGABRT),
        "{point}: expected an abort, got {:?}; stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("injected fault at {point}")),
        "{point}: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{point}: nothing was reported as done"
    );
}

/// The bill is paid exactly once, under the channel's transaction id, by a paid order; no
/// order of the bill is left open, here or at the channel.
async fn settled_once(w: &World, bill_id: i64, txn: &str) {
    let p = payments(&w.desk, bill_id).await;
    assert_eq!(p.len(), 1, "bill {bill_id}: exactly one payment, got {p:?}");
    assert_eq!(p[0].1.as_deref(), Some(txn));
    let bill = billing::get_bill(&w.desk, bill_id).await.unwrap().bill;
    assert_eq!((bill.status.as_str(), bill.outstanding.fen()), ("paid", 0));
    let orders = w.orders(bill_id).await;
    let paid: Vec<_> = orders.iter().filter(|o| o["status"] == "paid").collect();
    assert_eq!(paid.len(), 1, "{orders:?}");
    assert_eq!(paid[0]["payment_id"], p[0].0);
    assert_eq!(paid[0]["transaction_id"], txn);
    assert!(orders.iter().all(|o| o["status"] != "open"), "{orders:?}");
    let nos: Vec<&str> = orders
        .iter()
        .map(|o| o["order_no"].as_str().unwrap())
        .collect();
    for held in w.sandbox.handle().orders() {
        if nos.contains(&held.out_trade_no.as_str()) {
            assert_ne!(
                held.state,
                OrderState::Open,
                "{} is still payable at the channel",
                held.out_trade_no
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_writing_the_order_and_asking_the_channel_loses_nothing() {
    let Some(w) = world("after_order_written").await else {
        return;
    };
    for (wechat, member) in [(true, "S001"), (false, "B001")] {
        let bill_id = w.bill(wechat, member).await;
        let id = bill_id.to_string();
        let out = w
            .run(
                &["--json", "collect", "--bill", &id],
                Some("collect.after_order_written"),
            )
            .await;
        assert_aborted_at(&out, "collect.after_order_written");
        // The order was written down before the channel heard of it.
        let orders = w.orders(bill_id).await;
        assert_eq!(orders.len(), 1, "{orders:?}");
        assert_eq!(
            (orders[0]["status"].as_str(), orders[0]["code_url"].as_str()),
            (Some("open"), None)
        );
        let orphan = orders[0]["order_no"].as_str().unwrap().to_string();
        assert!(
            w.sandbox.handle().order(&orphan).is_none(),
            "the channel never heard of it"
        );

        // After the restart a sync leaves it open (it is not paid, nor expired) and says so.
        let report = w.sync().await;
        assert_eq!(
            (report["paid"].as_u64(), report["still_open"].as_u64()),
            (Some(0), Some(1)),
            "{report}"
        );

        // Collecting again gives a payable order; the payer pays it; the sync records it once.
        let order = w.json(&["collect", "--bill", &id]).await;
        let no = order["order_no"].as_str().unwrap().to_string();
        let qr = if wechat {
            &order["code_url"]
        } else {
            &order["qr_code"]
        };
        assert!(qr.as_str().is_some_and(|q| !q.is_empty()), "{order}");
        let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();
        let report = w.sync().await;
        assert_eq!(report["paid"], 1, "{report}");
        settled_once(&w, bill_id, &txn).await;
        // Nothing is left open to check.
        assert_eq!(w.sync().await["checked"], 0);
        w.books_sound().await;
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_a_sync_records_the_payment_settles_it_once_after_restart() {
    let Some(w) = world("settle").await else {
        return;
    };
    let points = [
        ("collect.after_payment_before_order", true),
        ("payment.before_journal", false),
        ("payment.before_commit", false),
    ];
    let mut n = 1;
    for wechat in [true, false] {
        for (point, payment_committed) in points {
            n += 1;
            let member = format!("{}{n:03}", if wechat { "S" } else { "B" });
            let bill_id = w.bill(wechat, &member).await;
            let order = w.json(&["collect", "--bill", &bill_id.to_string()]).await;
            let no = order["order_no"].as_str().unwrap().to_string();
            let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();

            let out = w.run(&["--json", "orders", "sync"], Some(point)).await;
            assert_aborted_at(&out, point);
            let p = payments(&w.desk, bill_id).await;
            assert_eq!(p.len(), usize::from(payment_committed), "{point}: {p:?}");
            let orders = w.orders(bill_id).await;
            assert_eq!(
                orders[0]["status"], "open",
                "{point}: the order is not settled yet"
            );
            // The books are sound at the crash, whatever it cut.
            w.books_sound().await;

            // Restart: the next sync settles it, once.
            let report = w.sync().await;
            assert_eq!(
                (report["checked"].as_u64(), report["paid"].as_u64()),
                (Some(1), Some(1)),
                "{point}: {report}"
            );
            settled_once(&w, bill_id, &txn).await;
            if payment_committed {
                assert_eq!(
                    payments(&w.desk, bill_id).await,
                    p,
                    "{point}: the payment from before the crash"
                );
            }
            assert_eq!(w.sync().await["checked"], 0);
            w.books_sound().await;
        }
    }
    w.finish().await;
}

/// Waits until the sandbox holds `no`.
async fn until_the_channel_has(w: &World, no: &str) {
    let started = Instant::now();
    while w.sandbox.handle().order(no).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the channel never got {no}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kill(mut child: std::process::Child) -> Output {
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(SIGKILL), "{:?}", out.status);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_cli_while_collect_or_sync_waits_for_the_channel_loses_nothing() {
    let Some(w) = world("sigkill").await else {
        return;
    };
    for wechat in [true, false] {
        let p = if wechat { "S" } else { "B" };

        // Killed while `collect` waits for the channel's answer; the payer pays the order
        // anyway (say the answer reached another screen): the sync after the restart records
        // it once.
        let bill_id = w.bill(wechat, &format!("{p}008")).await;
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::Delay { ms: 15_000 },
            times: 1,
            order: None,
        });
        let child = cli(
            &w.data,
            &["--json", "collect", "--bill", &bill_id.to_string()],
            None,
        )
        .spawn()
        .unwrap();
        let prefix = w.desk.db().order_prefix().await.unwrap();
        let no = format!("FD{prefix}{bill_id:010}A001");
        until_the_channel_has(&w, &no).await;
        let out = kill(child);
        assert!(out.stdout.is_empty());
        let orders = w.orders(bill_id).await;
        assert_eq!(orders.len(), 1);
        assert_eq!(
            (orders[0]["order_no"].as_str(), orders[0]["status"].as_str()),
            (Some(no.as_str()), Some("open"))
        );
        let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();
        let report = w.sync().await;
        assert_eq!(report["paid"], 1, "{report}");
        settled_once(&w, bill_id, &txn).await;

        // Killed the same way, nobody paid: collecting again after the restart gives one
        // payable order; it is paid and recorded once.
        let bill_id = w.bill(wechat, &format!("{p}009")).await;
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::Delay { ms: 15_000 },
            times: 1,
            order: None,
        });
        let child = cli(
            &w.data,
            &["--json", "collect", "--bill", &bill_id.to_string()],
            None,
        )
        .spawn()
        .unwrap();
        let prefix = w.desk.db().order_prefix().await.unwrap();
        until_the_channel_has(&w, &format!("FD{prefix}{bill_id:010}A001")).await;
        kill(child);
        let report = w.sync().await;
        assert_eq!(
            (report["paid"].as_u64(), report["still_open"].as_u64()),
            (Some(0), Some(1)),
            "{report}"
        );
        let order = w.json(&["collect", "--bill", &bill_id.to_string()]).await;
        let no = order["order_no"].as_str().unwrap().to_string();
        let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();
        assert_eq!(w.sync().await["paid"], 1);
        settled_once(&w, bill_id, &txn).await;

        // Killed while `orders sync` waits for the answer about a paid order: the next sync
        // records it once.
        let bill_id = w.bill(wechat, &format!("{p}010")).await;
        let order = w.json(&["collect", "--bill", &bill_id.to_string()]).await;
        let no = order["order_no"].as_str().unwrap().to_string();
        let txn = w.sandbox.handle().pay(&no).unwrap().transaction_id.unwrap();
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::Delay { ms: 15_000 },
            times: 1,
            order: Some(no.clone()),
        });
        let child = cli(&w.data, &["--json", "orders", "sync"], None)
            .spawn()
            .unwrap();
        // Give it time to ask (a debug CLI starts, reads the keyring, signs and asks well
        // within this); if it had not asked yet, what follows holds all the same.
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        kill(child);
        w.sandbox.handle().clear_faults();
        assert!(payments(&w.desk, bill_id).await.is_empty());
        let report = w.sync().await;
        assert_eq!(report["paid"], 1, "{report}");
        settled_once(&w, bill_id, &txn).await;
        w.books_sound().await;
    }
    w.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_a_sync_records_nothing_and_says_why() {
    let Some(w) = world("no keyring").await else {
        return;
    };
    let bill_id = w.bill(true, "S007").await;
    let order = w.json(&["collect", "--bill", &bill_id.to_string()]).await;
    w.sandbox
        .handle()
        .pay(order["order_no"].as_str().unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = {
        let mut cmd = cli(&w.data, &["orders", "sync"], None);
        cmd.env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", dir.path().display()),
        );
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    };
    // Refused outright, or each order reported as not checkable and left open; either way
    // the keyring is named and nothing is recorded.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("keyring"), "{said}");
    assert!(payments(&w.desk, bill_id).await.is_empty(), "{said}");
    assert_eq!(w.orders(bill_id).await[0]["status"], "open");
    // With the keyring back, the next sync records it.
    let report = w.sync().await;
    assert_eq!(report["paid"], 1, "{report}");
    w.finish().await;
}

/// A refund through the channel: the channel paid the money back, then FeeDesk died before the
/// refund reached the books (an injected abort, or SIGKILL while it waits for the channel).
/// After the restart the sync records it once; the retried command is the same refund; the
/// channel refunded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_in_a_refund_through_the_channel_is_finished_once_after_restart() {
    let Some(w) = world("refund crash").await else {
        return;
    };
    let mut n = 0;
    for wechat in [true, false] {
        let p = if wechat { "S" } else { "B" };
        let bill_id = w.bill(wechat, &format!("{p}006")).await;
        let order = w.json(&["collect", "--bill", &bill_id.to_string()]).await;
        let no = order["order_no"].as_str().unwrap().to_string();
        w.sandbox.handle().pay(&no).unwrap();
        w.sync().await;
        let payment = payments(&w.desk, bill_id).await[0].0.to_string();
        let at_channel = || {
            w.sandbox
                .handle()
                .refunds()
                .into_iter()
                .filter(|r| r.out_trade_no == no)
                .count()
        };
        let recorded = || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM refunds WHERE payment_id = ?")
                .bind(payment.parse::<i64>().unwrap())
                .fetch_one(w.desk.db().pool())
                .await
                .unwrap()
        };
        for point in ["refund.before_journal", "refund.before_commit"] {
            n += 1;
            let key = format!("crash-refund-{n}");
            let args = [
                "--json",
                "refund",
                "--payment",
                &payment,
                "--amount",
                "100",
                "--reason",
                "缺课退费",
                "--key",
                &key,
                "--via-channel",
            ];
            let before = at_channel();
            let out = w.run(&args, Some(point)).await;
            assert_aborted_at(&out, point);
            assert_eq!(at_channel(), before + 1, "{point}: the channel refunded");
            let books = recorded().await;
            w.books_sound().await;
            // Restart: the sync finishes it.
            let report = w.sync().await;
            assert_eq!(report["refunds_done"], 1, "{point}: {report}");
            assert_eq!(recorded().await, books + 1);
            // The retried command answers with that refund; nothing moves twice.
            let again = w.json(&args[1..]).await;
            assert_eq!(again["amount"], "100.00", "{again}");
            assert_eq!(recorded().await, books + 1);
            assert_eq!(at_channel(), before + 1);
            w.books_sound().await;
        }

        // Killed while waiting for the channel's answer to the refund: after the restart, the
        // retried command or the sync records it, once.
        w.sandbox.handle().inject(FaultRule {
            fault: Fault::Delay { ms: 15_000 },
            times: 1,
            order: None,
        });
        let before = at_channel();
        let books = recorded().await;
        let child = cli(
            &w.data,
            &[
                "--json",
                "refund",
                "--payment",
                &payment,
                "--amount",
                "50",
                "--reason",
                "缺课退费",
                "--key",
                &format!("kill-refund-{p}"),
                "--via-channel",
            ],
            None,
        )
        .spawn()
        .unwrap();
        let started = Instant::now();
        while at_channel() == before {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the refund never reached the channel"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        kill(child);
        assert_eq!(recorded().await, books);
        let report = w.sync().await;
        assert_eq!(report["refunds_done"], 1, "{report}");
        assert_eq!((recorded().await, at_channel()), (books + 1, before + 1));
        let again = w
            .json(&[
                "refund",
                "--payment",
                &payment,
                "--amount",
                "50",
                "--reason",
                "缺课退费",
                "--key",
                &format!("kill-refund-{p}"),
                "--via-channel",
            ])
            .await;
        assert_eq!(again["amount"], "50.00");
        assert_eq!((recorded().await, at_channel()), (books + 1, before + 1));
        w.books_sound().await;
    }
    w.finish().await;
}
