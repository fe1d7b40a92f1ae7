//! Reminders by email through a real SMTP server on loopback (aiosmtpd): tiers, quiet hours,
//! approval, a payment between preview and run, the stop list and pauses, escalation to the
//! follow-up list, the call list, and the guardian email column of a roster.

use crate::support::billing_support;
use crate::support::reminders_support;

use std::sync::Arc;

use billing_support::{TestClock, count, pay};
use feedesk::FeeDesk;
use feedesk::reminders::{
    self, ChannelSetup, FollowUpUpdate, LogFilter, PolicyRequest, RunOptions, SmtpSecurity,
};
use feedesk::secrets::SecretStore;
use reminders_support::{SmtpSink, email_of, local, school};

struct World {
    _dir: tempfile::TempDir,
    desk: FeeDesk,
    clock: Arc<TestClock>,
    smtp: SmtpSink,
    bills: Vec<feedesk::billing::Bill>,
}

/// No sender here has a secret: the keyring is never asked.
fn no_keyring() -> SecretStore {
    SecretStore::new("feedesk-test-reminders-unused")
}

async fn world(tiers: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(local(1, 9, 0));
    let desk = billing_support::open(dir.path(), clock.clone()).await;
    let bills = school(&desk).await;
    let smtp = SmtpSink::start(None);
    reminders::add_notify_channel(
        &desk,
        &no_keyring(),
        ChannelSetup::Email {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: SmtpSecurity::None,
            from: "星火教育 <fees@xinghuo.example.cn>".into(),
            username: None,
            password: None,
        },
        None,
        None,
    )
    .await
    .unwrap();
    reminders::set_policy(
        &desk,
        &PolicyRequest {
            unit_code: Some("HQ".into()),
            tiers: Some(tiers.into()),
            payment_link: Some("https://pay.xinghuo.example.cn/b/{bill}".into()),
            contact_phone: Some("0571-8888 0000".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    World {
        _dir: dir,
        desk,
        clock,
        smtp,
        bills,
    }
}

async fn run(w: &World, approve: bool) -> reminders::RunReport {
    reminders::run(
        &w.desk,
        &no_keyring(),
        &RunOptions {
            approve,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn bill_of<'a>(w: &'a World, member_no: &str) -> &'a feedesk::billing::Bill {
    w.bills.iter().find(|b| b.member_no == member_no).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn tiers_wait_for_quiet_hours_and_approval_and_a_payment_cancels_its_reminder() {
    let w = world("1:email,7:email,14:email").await;
    // Before the due date nothing is due.
    w.clock.set(local(10, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(r.total.queued, 0);

    // Day 1 after due, 22:00: queued and approved, but quiet hours hold them.
    w.clock.set(local(11, 22, 0));
    let r = run(&w, true).await;
    assert_eq!(r.total.queued, 5, "{r:?}");
    assert_eq!(
        r.total.skipped, 1,
        "C001 has no email: recorded, not silently dropped"
    );
    assert_eq!(r.total.waiting_quiet_hours, 5);
    assert_eq!(r.total.sent, 0);
    assert!(w.smtp.mails().is_empty());
    let skipped = reminders::log(
        &w.desk,
        &LogFilter {
            status: Some("skipped".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("no guardian email"),
        "{:?}",
        skipped[0]
    );

    // S002 pays overnight: its queued reminder is cancelled with the payment.
    pay(
        &w.desk,
        bill_of(&w, "S002").id,
        "3000",
        "总部现金",
        "pay-s002",
    )
    .await
    .unwrap();
    w.clock.set(local(12, 7, 59));
    assert_eq!(run(&w, false).await.total.sent, 0, "07:59 is still quiet");
    w.clock.set(local(12, 8, 0));
    let r = run(&w, false).await;
    assert_eq!(r.total.sent, 4, "{r:?}");
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 4);
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(
        to,
        ["S001", "S003", "S004", "B001"]
            .iter()
            .map(|n| email_of(n).unwrap())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(
        !to.contains(&email_of("S002").unwrap()),
        "the payer is not chased"
    );
    let zhang = mails
        .iter()
        .find(|m| m.to[0] == email_of("S001").unwrap())
        .unwrap();
    assert!(zhang.subject.contains("张三"), "{}", zhang.subject);
    assert!(zhang.body.contains("¥3000.00"), "{}", zhang.body);
    assert!(zhang.body.contains("2026-09-10"), "{}", zhang.body);
    let s001 = bill_of(&w, "S001").id;
    assert!(
        zhang
            .body
            .contains(&format!("https://pay.xinghuo.example.cn/b/{s001}")),
        "{}",
        zhang.body
    );
    assert!(zhang.from.contains("fees@xinghuo.example.cn"));
    let cancelled = count(
        &w.desk,
        "SELECT count(*) FROM reminder_outbox WHERE status = 'cancelled'",
    )
    .await;
    assert_eq!(cancelled, 1);

    // Running again the same day, or the next days before tier 2, sends nothing more.
    for d in [12, 13, 16] {
        w.clock.set(local(d, 10, 0));
        let r = run(&w, true).await;
        assert_eq!((r.total.queued, r.total.sent), (0, 0), "day {d}: {r:?}");
    }
    assert_eq!(w.smtp.mails().len(), 4);

    // Day 7: the preview shows the firm reminders; S003 pays between preview and run.
    w.clock.set(local(17, 10, 0));
    let preview = reminders::preview(&w.desk).await.unwrap();
    let firm: Vec<i64> = preview
        .due
        .messages
        .iter()
        .filter(|m| m.skip_reason.is_none())
        .map(|m| m.bill_id)
        .collect();
    assert_eq!(firm.len(), 4, "{:?}", preview.due.messages);
    assert!(preview.due.messages.iter().all(|m| m.tier == 2));
    assert!(preview.due.messages[0].body.contains("已逾期7天"));
    assert_eq!(w.smtp.mails().len(), 4, "a preview sends nothing");
    pay(
        &w.desk,
        bill_of(&w, "S003").id,
        "3000",
        "总部现金",
        "pay-s003",
    )
    .await
    .unwrap();
    let r = run(&w, true).await;
    assert_eq!(r.total.sent, 3, "{r:?}");
    let mails = w.smtp.mails();
    assert_eq!(mails.len(), 7);
    assert!(
        mails[4..]
            .iter()
            .all(|m| m.to[0] != email_of("S003").unwrap()),
        "paid between preview and run: not chased"
    );
    assert!(feedesk::audit::verify(w.desk.db().pool()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_approval_a_batch_waits_and_approving_sends_it() {
    let w = world("1:email").await;
    w.clock.set(local(11, 10, 0));
    let r = run(&w, false).await;
    assert_eq!((r.total.queued, r.total.sent), (5, 0));
    assert_eq!(r.total.awaiting_approval, 5);
    let preview = reminders::preview(&w.desk).await.unwrap();
    assert_eq!(preview.awaiting_approval.len(), 5);
    assert!(preview.due.messages.is_empty(), "already queued");
    // Approve two of them by id.
    let ids: Vec<i64> = preview.awaiting_approval[..2]
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(reminders::approve(&w.desk, Some(&ids)).await.unwrap(), 2);
    let r = run(&w, false).await;
    assert_eq!((r.total.sent, r.total.awaiting_approval), (2, 3));
    assert_eq!(w.smtp.mails().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn stop_list_and_pauses_hold_reminders_and_the_last_tier_escalates_to_a_person() {
    let w = world("1:email,7:email+call,14:email").await;
    reminders::set_stop(&w.desk, "XH/S001", true, "家长投诉，改为电话沟通")
        .await
        .unwrap();
    reminders::set_pause(&w.desk, bill_of(&w, "S002").id, true, "已约定分期")
        .await
        .unwrap();
    assert!(
        reminders::set_pause(&w.desk, bill_of(&w, "S003").id, true, " ")
            .await
            .is_err()
    );
    w.clock.set(local(11, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(r.total.sent, 3, "S003, S004, B001; C001 skipped: {r:?}");
    let to: Vec<String> = w.smtp.mails().iter().map(|m| m.to[0].clone()).collect();
    assert!(!to.contains(&email_of("S001").unwrap()));
    assert!(!to.contains(&email_of("S002").unwrap()));

    // Day 7: firm by email and a call-list line each; the call list is a workbook.
    w.clock.set(local(17, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(r.total.sent, 3);
    let out = w._dir.path().join("calls.xlsx");
    let export = reminders::export_call_list(&w.desk, &out).await.unwrap();
    assert_eq!(export.calls, 4, "S003, S004, B001, C001 (C001 has a phone)");
    assert!(out.exists());
    let again = reminders::export_call_list(&w.desk, &out).await.unwrap();
    assert_eq!(again.calls, 0, "a call line is delivered once");

    // Day 21 (14 + 7): past the last tier, to the follow-up list; a payment closes it.
    w.clock.set(local(31, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(r.escalated, 4, "{r:?}");
    let list = reminders::list_followups(&w.desk, false).await.unwrap();
    assert_eq!(list.len(), 4);
    let b001 = bill_of(&w, "B001").id;
    reminders::update_followup(
        &w.desk,
        b001,
        &FollowUpUpdate {
            assignee: Some("王老师".into()),
            note: Some("家长说下周一转账".into()),
            outcome: Some("promised".into()),
            promised_on: Some("2026-10-05".into()),
        },
    )
    .await
    .unwrap();
    let f = reminders::list_followups(&w.desk, false)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.bill_id == b001)
        .unwrap();
    assert_eq!(f.assignee.as_deref(), Some("王老师"));
    assert_eq!(f.promised_on.as_deref(), Some("2026-10-05"));
    let kinds: Vec<&str> = f.history.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opened", "assigned", "note", "outcome"]);
    pay(&w.desk, b001, "3000", "总部现金", "pay-b001")
        .await
        .unwrap();
    let open = reminders::list_followups(&w.desk, false).await.unwrap();
    assert_eq!(open.len(), 3, "the payment closed it");
    let all = reminders::list_followups(&w.desk, true).await.unwrap();
    let closed = all.iter().find(|f| f.bill_id == b001).unwrap();
    assert_eq!(
        (closed.status.as_str(), closed.outcome.as_deref()),
        ("closed", Some("paid"))
    );
    // Escalation happens once.
    w.clock.set(local(32, 10, 0));
    assert_eq!(run(&w, true).await.escalated, 0);
    let bad = reminders::update_followup(
        &w.desk,
        bill_of(&w, "S004").id,
        &FollowUpUpdate {
            outcome: Some("promised".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(bad.to_string().contains("--promised-on"), "{bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_roster_brings_the_guardian_email_and_bad_ones_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::at(local(1, 9, 0));
    let desk = billing_support::open(dir.path(), clock).await;
    billing_support::institution(&desk).await;
    let file = dir.path().join("roster.csv");
    std::fs::write(
        &file,
        "学号,姓名,校区,班级,家长手机号码,家长邮箱\n\
         S001,张三,XH,一班,13800138000, Zhang.Fu@Example.CN \n\
         S002,李四,XH,一班,13800138001,\n",
    )
    .unwrap();
    let mut req = feedesk::roster::ImportRequest {
        file: file.clone(),
        unit_code: "HQ".into(),
        term_name: Some(billing_support::TERM.into()),
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode: feedesk::roster::ImportMode::All,
        dry_run: false,
        errors_out: None,
    };
    let ignore = feedesk::progress::ignore_progress;
    let cancel = feedesk::progress::CancelToken::new();
    let report = feedesk::roster::import_roster(&desk, &req, &ignore, &cancel)
        .await
        .unwrap();
    assert!(report.committed, "{:?}", report.errors);
    let email: Option<String> =
        sqlx::query_scalar("SELECT guardian_email FROM members WHERE member_no = 'S001'")
            .fetch_one(desk.db().pool())
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("zhang.fu@example.cn"));

    // The English header and a bad address: the row and column are named, nothing written.
    std::fs::write(
        &file,
        "member no,name,store,class,phone,Email\nS003,王五,XH,一班,13800138002,wang at example\n",
    )
    .unwrap();
    req.file = file;
    let report = feedesk::roster::import_roster(&desk, &req, &ignore, &cancel)
        .await
        .unwrap();
    assert!(!report.committed);
    let e = &report.errors[0];
    assert_eq!(
        (e.row, e.code, e.column.as_str()),
        (2, "email_invalid", "Email")
    );
    assert!(e.message.contains("wang at example"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_units_policy_is_inherited_below_it_and_a_plans_overrides_both() {
    let w = world("3:email").await;
    // The EAST region reminds after 1 day: XH and BJ inherit it; CD keeps HQ's 3 days.
    reminders::set_policy(
        &w.desk,
        &PolicyRequest {
            unit_code: Some("EAST".into()),
            tiers: Some("1:email".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.clock.set(local(11, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(
        (r.total.sent, r.total.skipped),
        (5, 0),
        "XH and BJ only: {r:?}"
    );
    // The plan's own policy (a call on day 4) overrides both units' for every bill of it.
    let plan = bill_of(&w, "C001").plan;
    reminders::set_policy(
        &w.desk,
        &PolicyRequest {
            plan_id: Some(plan),
            tiers: Some("4:call".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.clock.set(local(13, 10, 0));
    assert_eq!(
        run(&w, true).await.total.queued,
        0,
        "HQ's 3-day email no longer applies"
    );
    w.clock.set(local(14, 10, 0));
    let r = run(&w, true).await;
    assert_eq!(
        r.total.queued, 1,
        "C001's tier 1, by phone; the others had tier 1: {r:?}"
    );
    let calls = reminders::log(&w.desk, &LogFilter::default())
        .await
        .unwrap();
    assert_eq!(calls[0].channel, "call");
    assert_eq!(calls[0].bill_id, Some(bill_of(&w, "C001").id));
    assert_eq!(w.smtp.mails().len(), 5);
    let policies = reminders::list_policies(&w.desk).await.unwrap();
    let scopes: Vec<&str> = policies.iter().map(|p| p.scope.as_str()).collect();
    let plan_scope = format!("plan:{plan}");
    assert_eq!(scopes, ["unit:EAST", "unit:HQ", plan_scope.as_str()]);
}
