//! The reminder commands as cron runs them, with the real `feedesk` binary and a real SMTP
//! server on loopback (aiosmtpd):
//! - the process killed between sending and recording (and just before sending): nothing is
//!   ever sent twice; the interrupted row becomes uncertain and waits for a person;
//! - a simulated month of `remind run --now` three times a day: every overdue payer gets each
//!   tier once, only in daytime, nobody who paid is chased, the stubborn end on the follow-up
//!   list.

use crate::support::billing_support;
use crate::support::reminders_support;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use billing_support::pay;
use feedesk::FeeDesk;
use reminders_support::{SmtpSink, email_of, school};
use serde_json::Value;

const SIGABRT: i32 = 6;

fn cli(data: &Path, args: &[&str], fault: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feedesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("FEEDESK_DATA_DIR")
        .env_remove(feedesk::fault::FAULT_ENV)
        .env("FEEDESK_KEYRING_SERVICE", "feedesk-test-reminders-cli")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(point) = fault {
        cmd.env(feedesk::fault::FAULT_ENV, point);
    }
    cmd.output().expect("run feedesk")
}

fn ok_json(data: &Path, args: &[&str]) -> Value {
    let out = cli(data, args, None);
    assert!(
        out.status.success(),
        "feedesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    desk: FeeDesk,
    smtp: SmtpSink,
    bills: Vec<feedesk::billing::Bill>,
}

async fn world(tiers: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let desk = FeeDesk::open(&data).await.unwrap();
    let bills = school(&desk).await;
    let smtp = SmtpSink::start(None);
    let port = smtp.port.to_string();
    ok_json(
        &data,
        &[
            "--json",
            "notify",
            "add",
            "--channel",
            "email",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--from",
            "星火教育 <fees@xinghuo.example.cn>",
            "--security",
            "none",
        ],
    );
    ok_json(
        &data,
        &[
            "--json", "remind", "policy", "set", "--unit", "HQ", "--tiers", tiers,
        ],
    );
    World {
        _dir: dir,
        data,
        desk,
        smtp,
        bills,
    }
}

fn now(day: &str, time: &str) -> String {
    format!("2026-{day}T{time}:00+08:00")
}

async fn outbox_status(desk: &FeeDesk, status: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM reminder_outbox WHERE status = ?")
        .bind(status)
        .fetch_one(desk.db().pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_between_send_and_record_nothing_is_sent_twice() {
    let w = world("1:email").await;
    let at = now("09-11", "10:00");
    // The first send reaches the mail server, then the process dies before recording it.
    let out = cli(
        &w.data,
        &["remind", "run", "--now", &at, "--approve"],
        Some("remind.after_send"),
    );
    assert_eq!(out.status.signal(), Some(SIGABRT), "{out:?}");
    assert_eq!(w.smtp.mails().len(), 1, "the mail went out");
    assert_eq!(outbox_status(&w.desk, "sending").await, 1);

    // Cron runs again a minute later: the others go; the interrupted one is not touched.
    let r = ok_json(
        &w.data,
        &["--json", "remind", "run", "--now", &now("09-11", "10:01")],
    );
    assert_eq!(r["total"]["sent"], 4, "{r}");
    assert_eq!(w.smtp.mails().len(), 5);
    // Later runs find it still `sending` past the lease: uncertain, never resent.
    let r = ok_json(
        &w.data,
        &["--json", "remind", "run", "--now", &now("09-11", "10:30")],
    );
    assert_eq!(r["became_uncertain"], 1, "{r}");
    assert_eq!(r["total"]["sent"], 0);
    for day in ["09-12", "09-13", "09-20"] {
        let r = ok_json(
            &w.data,
            &[
                "--json",
                "remind",
                "run",
                "--now",
                &now(day, "10:00"),
                "--approve",
            ],
        );
        assert_eq!(r["total"]["sent"], 0, "{day}: {r}");
    }
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 5);
    let mut to: Vec<&str> = mails.iter().map(|m| m.to[0].as_str()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 5, "each guardian once: {to:?}");
    let uncertain = ok_json(
        &w.data,
        &["--json", "remind", "log", "--status", "uncertain"],
    );
    assert_eq!(uncertain.as_array().unwrap().len(), 1);
    assert!(
        uncertain[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("stopped before recording"),
        "{uncertain}"
    );
    // The person confirms it arrived.
    let id = uncertain[0]["id"].as_i64().unwrap().to_string();
    ok_json(
        &w.data,
        &["--json", "remind", "resolve", &id, "--delivered"],
    );
    assert_eq!(outbox_status(&w.desk, "sent").await, 5);
    let verify = ok_json(&w.data, &["--json", "audit", "verify"]);
    assert_eq!(verify["intact"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_after_claiming_but_before_sending_the_row_waits_for_a_person() {
    let w = world("1:email").await;
    let out = cli(
        &w.data,
        &[
            "remind",
            "run",
            "--now",
            &now("09-11", "10:00"),
            "--approve",
        ],
        Some("remind.before_send"),
    );
    assert_eq!(out.status.signal(), Some(SIGABRT));
    assert!(w.smtp.mails().is_empty());
    let r = ok_json(
        &w.data,
        &["--json", "remind", "run", "--now", &now("09-11", "11:00")],
    );
    assert_eq!(
        (r["became_uncertain"].as_i64(), r["total"]["sent"].as_i64()),
        (Some(1), Some(4))
    );
    // Not delivered (the mail server never saw it): a person says so, the next run sends it.
    let uncertain = ok_json(
        &w.data,
        &["--json", "remind", "log", "--status", "uncertain"],
    );
    let id = uncertain[0]["id"].as_i64().unwrap().to_string();
    ok_json(
        &w.data,
        &["--json", "remind", "resolve", &id, "--not-delivered"],
    );
    let r = ok_json(
        &w.data,
        &["--json", "remind", "run", "--now", &now("09-11", "11:05")],
    );
    assert_eq!(r["total"]["sent"], 1);
    assert_eq!(w.smtp.mails().len(), 5);
}

/// Which tier a mail is, from its subject.
fn tier_of(subject: &str) -> u32 {
    if subject.contains("最后提醒") {
        3
    } else if subject.contains("已逾期") {
        2
    } else {
        assert!(subject.contains("缴费提醒"), "{subject}");
        1
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simulated_month_chases_each_overdue_payer_once_per_tier_in_daytime() {
    let w = world("1:email,7:email,14:email").await;
    let bill = |no: &str| w.bills.iter().find(|b| b.member_no == no).unwrap().id;
    // Who pays when (the day's payments land after the morning run).
    let payments = [
        ("09-08", "S002"), // before the due date: never reminded
        ("09-13", "S001"), // after the gentle reminder
        ("09-19", "S003"), // after the firm one
    ];
    let mut first_seen: std::collections::BTreeMap<usize, String> = Default::default();
    let mut day = chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    let last = chrono::NaiveDate::from_ymd_opt(2026, 10, 10).unwrap();
    while day <= last {
        let d = day.format("%m-%d").to_string();
        for time in ["07:00", "10:00", "22:00"] {
            let before = w.smtp.mails().len();
            let r = ok_json(
                &w.data,
                &[
                    "--json",
                    "remind",
                    "run",
                    "--now",
                    &now(&d, time),
                    "--approve",
                ],
            );
            let after = w.smtp.mails().len();
            for i in before..after {
                first_seen.insert(i, format!("{d} {time}"));
            }
            if time != "10:00" {
                assert_eq!(after, before, "{d} {time} is quiet hours: {r}");
            }
        }
        for (pay_day, no) in payments {
            if pay_day == d {
                pay(&w.desk, bill(no), "3000", "总部现金", &format!("pay-{no}"))
                    .await
                    .unwrap();
            }
        }
        day = day.succ_opt().unwrap();
    }
    let mails = w.smtp.mails();
    let tiers_of = |no: &str| -> Vec<u32> {
        let to = email_of(no).unwrap();
        mails
            .iter()
            .filter(|m| m.to[0] == to)
            .map(|m| tier_of(&m.subject))
            .collect()
    };
    assert_eq!(tiers_of("S002"), Vec::<u32>::new(), "paid before due");
    assert_eq!(tiers_of("S001"), vec![1]);
    assert_eq!(tiers_of("S003"), vec![1, 2]);
    assert_eq!(tiers_of("S004"), vec![1, 2, 3]);
    assert_eq!(tiers_of("B001"), vec![1, 2, 3]);
    assert_eq!(mails.len(), 9);
    // Each tier on its day (1, 7 and 14 days after 09-10), at the first daytime run.
    let days: std::collections::BTreeSet<&str> = first_seen.values().map(|s| s.as_str()).collect();
    assert_eq!(
        days.into_iter().collect::<Vec<_>>(),
        ["09-11 10:00", "09-17 10:00", "09-24 10:00"]
    );
    // 21 days after due: the stubborn ones (and C001, who has no email) are a person's.
    let list = ok_json(&w.data, &["--json", "followup", "list"]);
    let mut on_list: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["member_no"].as_str().unwrap())
        .collect();
    on_list.sort();
    assert_eq!(on_list, ["B001", "C001", "S004"]);
    let log = ok_json(&w.data, &["--json", "remind", "log", "--status", "sent"]);
    assert_eq!(log.as_array().unwrap().len(), 9);
    let skipped = ok_json(&w.data, &["--json", "remind", "log", "--status", "skipped"]);
    assert_eq!(
        skipped.as_array().unwrap().len(),
        3,
        "C001's three tiers, each with its reason"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_named_and_changes_nothing() {
    let w = world("1:email").await;
    for (args, words) in [
        (
            vec![
                "remind",
                "policy",
                "set",
                "--unit",
                "HQ",
                "--tiers",
                "7:email,1:sms",
            ],
            "increasing",
        ),
        (
            vec![
                "remind", "policy", "set", "--unit", "NOPE", "--tiers", "1:email",
            ],
            "NOPE",
        ),
        (
            vec!["remind", "run", "--now", "tomorrow"],
            "--now 'tomorrow'",
        ),
        (
            vec![
                "notify",
                "add",
                "--channel",
                "email",
                "--smtp-host",
                "h",
                "--smtp-port",
                "25",
                "--from",
                "not an address",
            ],
            "not an email address",
        ),
        (
            vec!["notify", "add", "--channel", "sms", "--access-key-id", "x"],
            "--secret-file",
        ),
        (
            vec!["remind", "pause", "--bill", "99999", "--reason", "x"],
            "99999",
        ),
        (
            vec!["followup", "update", "--bill", "1", "--note", "x"],
            "not on the follow-up list",
        ),
    ] {
        let out = cli(&w.data, &args, None);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let policies = ok_json(&w.data, &["--json", "remind", "policy", "list"]);
    assert_eq!(policies[0]["tiers"][0]["channels"][0], "email");
}
