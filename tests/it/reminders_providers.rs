//! SMS (Aliyun Dysmsapi) and the WeCom / DingTalk group robots against a loopback HTTP server
//! that checks the request signatures and the payloads, and answers 5xx, 429, refusals or
//! nothing at all when told to; SMTP with a login whose password lives in the OS keyring.
//! Secrets come from the real keyring: run under tests/keyring-session.sh.

use crate::support::billing_support;
use crate::support::reminders_support;

use std::sync::Arc;
use std::time::Duration;

use billing_support::{TestClock, count};
use feedesk::FeeDesk;
use feedesk::reminders::{self, ChannelSetup, LogFilter, PolicyRequest, RunOptions, SmtpSecurity};
use feedesk::secrets::{SecretStore, Sensitive};
use reminders_support::{Providers, Reply, SmtpSink, keyring_or_skip, local, school};

const SMS_SECRET: &str = "testSecretForLoopback0123456789";
const DING_SECRET: &str = "SEC0123456789abcdef0123456789abcdef";

struct World {
    _dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: Arc<TestClock>,
    http: Providers,
    keys: SecretStore,
}

async fn world(keys: SecretStore, tiers: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(local(1, 9, 0));
    let desk = billing_support::open(dir.path(), clock.clone()).await;
    school(&desk).await;
    let http = Providers::start(SMS_SECRET, DING_SECRET).await;
    reminders::set_policy(
        &desk,
        &PolicyRequest {
            unit_code: Some("HQ".into()),
            tiers: Some(tiers.into()),
            auto_send: Some(true),
            payment_link: Some("https://pay.xinghuo.example.cn/b/{bill}".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World {
        _dir: dir,
        desk,
        clock,
        http,
        keys,
    }
}

async fn add_sms(w: &World) {
    reminders::add_notify_channel(
        &w.desk,
        &w.keys,
        ChannelSetup::Sms {
            endpoint: Some(w.http.url("/sms/")),
            access_key_id: "LTAI5tLoopbackTestId".into(),
            access_key_secret: Sensitive::new(format!("{SMS_SECRET}\n")),
            sign_name: "星火教育".into(),
            template_code: "SMS_465000001".into(),
        },
        None,
        None,
    )
    .await
    .unwrap();
}

async fn run(w: &World, timeout: Duration) -> reminders::RunReport {
    reminders::run(
        &w.desk,
        &w.keys,
        &RunOptions {
            approve: false,
            send_timeout: timeout,
        },
    )
    .await
    .unwrap()
}

async fn statuses(desk: &FeeDesk) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT status, count(*) FROM reminder_outbox GROUP BY status ORDER BY status")
        .fetch_all(desk.db().pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sms_is_signed_as_aliyun_documents_and_failures_retry_or_wait_for_a_person() {
    let Some(keys) = keyring_or_skip("sms").await else {
        return;
    };
    let w = world(keys, "1:sms").await;
    add_sms(&w).await;
    // The secret is in the keyring only.
    let stored: String = sqlx::query_scalar("SELECT config_json FROM notify_channels")
        .fetch_one(w.desk.db().pool())
        .await
        .unwrap();
    assert!(!stored.contains(SMS_SECRET));

    // 6 members with phones: 503 for the first, 429 (Retry-After 900) for the second,
    // throttled (a 200 with Aliyun's flow-control code) for the third, a refusal for the
    // fourth, and no answer in time for the fifth; the sixth goes through.
    w.http.script(&[
        Reply::Status(503, None),
        Reply::Status(429, Some(900)),
        Reply::Refuse("isv.BUSINESS_LIMIT_CONTROL"),
        Reply::Refuse("isv.MOBILE_NUMBER_ILLEGAL"),
        Reply::Hang(Duration::from_secs(3)),
    ]);
    w.clock.set(local(11, 10, 0));
    let r = run(&w, Duration::from_secs(1)).await;
    assert_eq!(r.total.queued, 6, "{r:?}");
    assert_eq!(
        (r.total.sent, r.total.failed, r.total.uncertain),
        (1, 4, 1),
        "{r:?}"
    );
    let sms = w.http.recorded_at("/sms/");
    assert_eq!(sms.len(), 6);
    for req in &sms {
        assert_eq!(req.signature_ok, Some(true), "{req:?}");
        assert_eq!(req.method, "GET");
        assert_eq!(req.param("Action"), Some("SendSms"));
        assert_eq!(req.param("SignatureMethod"), Some("HMAC-SHA1"));
        assert_eq!(req.param("Version"), Some("2017-05-25"));
        assert_eq!(req.param("TemplateCode"), Some("SMS_465000001"));
        assert_eq!(req.param("Timestamp"), Some("2026-09-11T02:00:00Z"));
        let p: serde_json::Value =
            serde_json::from_str(req.param("TemplateParam").unwrap()).unwrap();
        assert_eq!(p["amount"], "3000.00");
        assert_eq!(p["days"], "1");
        assert!(
            p["link"]
                .as_str()
                .unwrap()
                .starts_with("https://pay.xinghuo.example.cn/b/")
        );
        assert!(req.param("PhoneNumbers").unwrap().starts_with("138"));
    }
    let nonces: std::collections::BTreeSet<&str> = sms
        .iter()
        .map(|r| r.param("SignatureNonce").unwrap())
        .collect();
    assert_eq!(nonces.len(), 6, "a fresh nonce per request");

    let failed = reminders::log(
        &w.desk,
        &LogFilter {
            status: Some("failed".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let retry: Vec<Option<&str>> = failed
        .iter()
        .map(|r| r.next_attempt_at.as_deref())
        .collect();
    // Backoff: 5 minutes after the first attempt; Retry-After 900 s and Aliyun's throttle
    // (60 s, so the backoff's 300 s) are honoured; the refusal is not retried.
    assert!(
        retry.contains(&Some("2026-09-11T02:05:00.000Z")),
        "{retry:?}"
    );
    assert!(
        retry.contains(&Some("2026-09-11T02:15:00.000Z")),
        "{retry:?}"
    );
    assert!(retry.contains(&None), "{retry:?}");
    let uncertain = reminders::log(
        &w.desk,
        &LogFilter {
            status: Some("uncertain".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(uncertain.len(), 1);

    // Ten minutes later: the two 5-minute retries go (now accepted), the Retry-After one waits.
    w.clock.set(local(11, 10, 10));
    let r = run(&w, Duration::from_secs(1)).await;
    assert_eq!((r.total.sent, r.total.failed), (2, 0), "{r:?}");
    w.clock.set(local(11, 10, 20));
    let r = run(&w, Duration::from_secs(1)).await;
    assert_eq!(r.total.sent, 1, "after Retry-After: {r:?}");
    // The uncertain one is never resent, however many runs follow.
    for minutes in [30, 90, 300] {
        w.clock
            .set(local(11, 10, 0) + chrono::Duration::minutes(minutes));
        assert_eq!(run(&w, Duration::from_secs(1)).await.total.sent, 0);
    }
    assert_eq!(w.http.recorded_at("/sms/").len(), 9);
    assert_eq!(
        statuses(&w.desk).await,
        vec![
            ("failed".to_string(), 1),
            ("sent".to_string(), 4),
            ("uncertain".to_string(), 1)
        ]
    );
    // A person checks with the guardian: not delivered, so the next run sends it again.
    reminders::resolve(&w.desk, uncertain[0].id, false)
        .await
        .unwrap();
    assert_eq!(run(&w, Duration::from_secs(1)).await.total.sent, 1);
    assert_eq!(w.http.recorded_at("/sms/").len(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn group_robots_post_masked_class_messages_within_their_rate_limit() {
    let Some(keys) = keyring_or_skip("robots").await else {
        return;
    };
    let w = world(keys, "1:wecom,7:dingtalk").await;
    // A WeCom robot allowing 2 messages a minute (the real one allows 20), for every class.
    let hook = format!("{}?key=wecom-key-0001", w.http.url("/wecom/send"));
    reminders::add_notify_channel(
        &w.desk,
        &w.keys,
        ChannelSetup::Wecom {
            webhook: Sensitive::new(hook),
        },
        None,
        Some(2),
    )
    .await
    .unwrap();
    let hook = format!(
        "{}?access_token=ding-token-0001",
        w.http.url("/dingtalk/send")
    );
    reminders::add_notify_channel(
        &w.desk,
        &w.keys,
        ChannelSetup::Dingtalk {
            webhook: Sensitive::new(hook),
            sign_secret: Some(Sensitive::new(DING_SECRET.into())),
        },
        Some("XH/一班"),
        None,
    )
    .await
    .unwrap();
    let stored: String =
        sqlx::query_scalar("SELECT group_concat(config_json) FROM notify_channels")
            .fetch_one(w.desk.db().pool())
            .await
            .unwrap();
    assert!(!stored.contains("wecom-key-0001") && !stored.contains("ding-token-0001"));

    // Day 1: four classes owe (XH 一班, XH 二班, BJ 一班, CD 一班): 2 go, 2 wait a minute.
    w.clock.set(local(11, 10, 0));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!(r.total.queued, 4, "{r:?}");
    assert_eq!((r.total.sent, r.total.waiting_rate_limit), (2, 2), "{r:?}");
    w.clock
        .set(local(11, 10, 0) + chrono::Duration::seconds(30));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!(
        (r.total.sent, r.total.waiting_rate_limit),
        (0, 2),
        "still the same minute"
    );
    w.clock.set(local(11, 10, 1) + chrono::Duration::seconds(1));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!((r.total.sent, r.total.waiting_rate_limit), (2, 0), "{r:?}");
    let posts = w.http.recorded_at("/wecom/send");
    assert_eq!(posts.len(), 4);
    for p in &posts {
        assert_eq!(p.param("key"), Some("wecom-key-0001"));
        assert_eq!(p.json()["msgtype"], "text");
    }
    let texts: Vec<String> = posts
        .iter()
        .map(|p| p.json()["text"]["content"].as_str().unwrap().to_string())
        .collect();
    let xh1 = texts
        .iter()
        .find(|t| t.contains("3位同学"))
        .expect("XH 一班 lists three");
    for (full, masked) in [("张三", "张*"), ("李四", "李*"), ("王小五", "王**")] {
        assert!(!xh1.contains(full), "{xh1}");
        assert!(xh1.contains(masked), "{xh1}");
    }
    assert!(xh1.contains("https://pay.xinghuo.example.cn/b"), "{xh1}");
    assert!(
        texts.iter().all(|t| !t.contains("3000")),
        "no amounts in a group"
    );

    // Day 7: XH 一班 has its own signed DingTalk robot; the others have no DingTalk robot,
    // so their messages are recorded as skipped, with the reason. 张三 has paid meanwhile.
    let bills = billing_support::plan_bills(&w.desk, 1).await;
    let zhang = bills.iter().find(|b| b.member_no == "S001").unwrap();
    billing_support::pay(&w.desk, zhang.id, "3000", "总部现金", "pay-zhang")
        .await
        .unwrap();
    w.clock.set(local(17, 10, 0));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!((r.total.sent, r.total.skipped), (1, 3), "{r:?}");
    let ding = w.http.recorded_at("/dingtalk/send");
    assert_eq!(ding.len(), 1);
    assert_eq!(ding[0].signature_ok, Some(true));
    assert_eq!(ding[0].param("access_token"), Some("ding-token-0001"));
    assert_eq!(
        ding[0].param("timestamp"),
        Some(local(17, 10, 0).timestamp_millis().to_string().as_str())
    );
    let text = ding[0].json()["text"]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("2位同学") && !text.contains("张*"), "{text}");
    assert!(
        text.contains("最后提醒"),
        "the second and last tier is the final notice: {text}"
    );
    assert_eq!(
        count(&w.desk, "SELECT count(*) FROM reminder_outbox_bills").await,
        6 + 5,
        "each bill named once per tier and channel"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn smtp_login_uses_the_password_from_the_keyring() {
    let Some(keys) = keyring_or_skip("smtp-login").await else {
        return;
    };
    let w = world(keys, "1:email").await;
    let smtp = SmtpSink::start(Some(("fees@xinghuo.example.cn", "s3cret-smtp-pass")));
    reminders::add_notify_channel(
        &w.desk,
        &w.keys,
        ChannelSetup::Email {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: SmtpSecurity::None,
            from: "fees@xinghuo.example.cn".into(),
            username: Some("fees@xinghuo.example.cn".into()),
            password: Some(Sensitive::new("s3cret-smtp-pass\n".into())),
        },
        None,
        None,
    )
    .await
    .unwrap();
    let all_text: String = sqlx::query_scalar(
        "SELECT group_concat(config_json) || (SELECT group_concat(coalesce(after_json, '')) FROM audit_log)
         FROM notify_channels",
    )
    .fetch_one(w.desk.db().pool())
    .await
    .unwrap();
    assert!(!all_text.contains("s3cret-smtp-pass"));
    w.clock.set(local(11, 10, 0));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!(r.total.sent, 5, "{r:?}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 5);
    assert!(mails.iter().all(|m| m.authenticated));

    // A wrong password: the server refuses the login, nothing is sent, the rows wait.
    reminders::add_notify_channel(
        &w.desk,
        &w.keys,
        ChannelSetup::Email {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: SmtpSecurity::None,
            from: "fees@xinghuo.example.cn".into(),
            username: Some("fees@xinghuo.example.cn".into()),
            password: Some(Sensitive::new("wrong".into())),
        },
        None,
        None,
    )
    .await
    .unwrap();
    let bills = billing_support::plan_bills(&w.desk, 1).await;
    let c001 = bills.iter().find(|b| b.member_no == "C001").unwrap();
    reminders::set_contact(&w.desk, "CD/C001", Some("c001@parents.example.cn"), None)
        .await
        .unwrap();
    // C001 was skipped on day 1 (no email then); tier 1 stays done for it. A new policy
    // with a second tier reaches it on day 7.
    reminders::set_policy(
        &w.desk,
        &PolicyRequest {
            unit_code: Some("HQ".into()),
            tiers: Some("1:email,7:email".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.clock.set(local(17, 10, 0));
    let r = run(&w, Duration::from_secs(5)).await;
    assert_eq!((r.total.sent, r.total.failed), (0, 6), "{r:?}");
    assert_eq!(smtp.mails().len(), 5);
    let log = reminders::log(
        &w.desk,
        &LogFilter {
            bill_id: Some(c001.id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(log[0].status, "failed", "{log:?}");
    assert!(!log[0].last_error.as_deref().unwrap_or("").contains("wrong"));
}
