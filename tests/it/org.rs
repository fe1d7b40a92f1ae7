//! The organisation tree and the audit log on a real SQLite file.

use crate::support::common;

use common::*;
use feedesk::ErrorCode;
use feedesk::org::{self, UnitKind};

#[tokio::test(flavor = "multi_thread")]
async fn tree_keeps_kinds_ordered_and_refuses_cycles() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;

    let tree = org::tree(&desk).await.unwrap().unwrap();
    assert_eq!(tree.code, "HQ");
    let codes: Vec<Vec<&str>> = tree
        .children
        .iter()
        .map(|r| r.children.iter().map(|s| s.code.as_str()).collect())
        .collect();
    assert_eq!(codes, vec![vec!["XH", "BJ"], vec!["CD"]]);

    // Kinds stay ordered.
    let under_store = org::add_unit(&desk, "XH", UnitKind::Store, "X2", "x")
        .await
        .unwrap_err();
    assert_eq!(under_store.code(), ErrorCode::Validation);
    assert_eq!(
        org::add_unit(&desk, "HQ", UnitKind::Hq, "H2", "x")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    assert_eq!(
        org::init(&desk, "again").await.unwrap_err().code(),
        ErrorCode::Conflict
    );
    // Codes are unique, case-insensitively, and validated.
    assert_eq!(
        org::add_unit(&desk, "HQ", UnitKind::Store, "xh", "x")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    assert_eq!(
        org::add_unit(&desk, "HQ", UnitKind::Store, "有 空格", "x")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );

    // Regions nest, but never into their own subtree.
    org::add_unit(&desk, "EAST", UnitKind::Region, "HZ", "杭州片区")
        .await
        .unwrap();
    org::move_unit(&desk, "XH", "HZ").await.unwrap();
    let cycle = org::move_unit(&desk, "EAST", "HZ").await.unwrap_err();
    assert_eq!(cycle.code(), ErrorCode::Validation);
    assert!(cycle.to_string().contains("subtree"), "{cycle}");
    assert_eq!(
        org::move_unit(&desk, "HQ", "EAST")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    let sub = org::subtree_ids(&desk, "EAST").await.unwrap();
    assert_eq!(sub.len(), 4, "EAST, HZ, XH, BJ");

    // Rename keeps the code; archive needs the children gone first and keeps the unit.
    let renamed = org::rename_unit(&desk, "CD", "成都天府校区").await.unwrap();
    assert_eq!(
        (renamed.code.as_str(), renamed.name.as_str()),
        ("CD", "成都天府校区")
    );
    assert_eq!(
        org::archive_unit(&desk, "WEST").await.unwrap_err().code(),
        ErrorCode::Conflict
    );
    org::archive_unit(&desk, "CD").await.unwrap();
    org::archive_unit(&desk, "WEST").await.unwrap();
    assert!(org::find_unit(&desk, "CD").await.unwrap().archived);
    assert_eq!(
        org::add_unit(&desk, "WEST", UnitKind::Store, "CQ", "重庆")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    assert_eq!(
        org::add_class(&desk, "CD", TERM, "新班")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn terms_and_classes_validate() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(
        org::add_term(&desk, "倒序", d(2027, 1, 1), d(2026, 1, 1))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    assert_eq!(
        org::add_term(&desk, TERM, d(2026, 9, 1), d(2027, 1, 1))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    assert_eq!(
        org::add_class(&desk, "XH", TERM, "一班")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    assert_eq!(
        org::add_class(&desk, "EAST", TERM, "一班")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    assert_eq!(
        org::add_class(&desk, "XH", "没有的学期", "一班")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let classes = org::list_classes(&desk, Some(TERM)).await.unwrap();
    assert_eq!(classes.len(), 3);
    let ambiguous = org::find_class(&desk, "一班", None, None)
        .await
        .unwrap_err();
    assert_eq!(ambiguous.code(), ErrorCode::Validation);
    assert_eq!(
        org::find_class(&desk, "一班", Some("BJ"), None)
            .await
            .unwrap()
            .unit_code,
        "BJ"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_log_records_every_change_and_detects_tampering() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    org::rename_unit(&desk, "XH", "西湖新校区").await.unwrap();

    let log = feedesk::audit::list(desk.db().pool()).await.unwrap();
    // init, 5 units, term, 3 classes, rename.
    assert_eq!(log.len(), 11);
    let rename = log.last().unwrap();
    assert_eq!(
        (rename.action.as_str(), rename.actor.as_str()),
        ("unit.rename", "test:alice")
    );
    assert!(rename.before_json.as_deref().unwrap().contains("西湖校区"));
    assert!(rename.after_json.as_deref().unwrap().contains("西湖新校区"));
    assert_eq!(feedesk::audit::verify(desk.db().pool()).await.unwrap(), 11);

    // The database itself refuses edits and deletions.
    let pool = desk.db().pool();
    assert!(
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
            .execute(pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log WHERE id = 3")
            .execute(pool)
            .await
            .is_err()
    );

    // Someone who drops the triggers and edits a row is still caught by the chain...
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 3")
        .execute(pool)
        .await
        .unwrap();
    let err = feedesk::audit::verify(pool).await.unwrap_err();
    assert!(err.to_string().contains("entry 3"), "{err}");
    sqlx::query("UPDATE audit_log SET actor = 'test:alice' WHERE id = 3")
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(feedesk::audit::verify(pool).await.unwrap(), 11);
    // ...and so is a deleted row.
    sqlx::query("DELETE FROM audit_log WHERE id = 5")
        .execute(pool)
        .await
        .unwrap();
    let err = feedesk::audit::verify(pool).await.unwrap_err();
    assert!(err.to_string().contains("entry 6"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reopening_keeps_data_and_backs_up_before_migrating() {
    let env = Env::new();
    {
        let desk = env.desk().await;
        institution(&desk).await;
        desk.db().clone().close().await;
    }
    // Pretend the file predates the newest migration: reopening must back it up first.
    {
        let desk = env.desk().await;
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)")
            .execute(desk.db().pool())
            .await
            .unwrap();
        desk.db().clone().close().await;
    }
    let reopened = feedesk::FeeDesk::open(&env.data_dir()).await;
    // The foundation migration cannot re-run over its own tables; what matters is that the
    // backup was taken before it was tried.
    let backups: Vec<_> = std::fs::read_dir(env.data_dir().join("backups"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 1);
    drop(reopened);

    let other = Env::new();
    let desk = other.desk().await;
    institution(&desk).await;
    desk.db().clone().close().await;
    let desk = other.desk().await;
    assert_eq!(org::list_units(&desk).await.unwrap().len(), 6);
    assert!(
        !other.data_dir().join("backups").exists(),
        "no backup when nothing is pending"
    );
    let copy = other.path("copy.sqlite");
    feedesk::db::backup_to(desk.db(), &copy).await.unwrap();
    assert!(copy.metadata().unwrap().len() > 0);
    assert_eq!(
        feedesk::db::backup_to(desk.db(), &copy)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn members_page_filter_and_search() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = env.path("r.csv");
    let mut text = String::from("学号,姓名,校区,家长手机号码,班级,状态\n");
    for i in 0..250 {
        let store = if i % 2 == 0 { "XH" } else { "BJ" };
        let status = if i % 10 == 0 { "退学" } else { "在读" };
        text.push_str(&format!(
            "M{i:03},学员{i},{store},1380000{i:04},一班,{status}\n"
        ));
    }
    std::fs::write(&file, text).unwrap();
    let req = feedesk::roster::ImportRequest {
        file,
        unit_code: "EAST".into(),
        term_name: Some(TERM.into()),
        sheet: None,
        overrides: vec![],
        create_classes: false,
        mode: feedesk::roster::ImportMode::All,
        dry_run: false,
        errors_out: None,
    };
    feedesk::roster::import_roster(
        &desk,
        &req,
        &feedesk::progress::ignore_progress,
        &Default::default(),
    )
    .await
    .unwrap();

    let all = org::MemberFilter::default();
    let page = org::member_page(&desk, &all, 100, 50).await.unwrap();
    assert_eq!((page.total, page.members.len()), (250, 50));
    assert_eq!(
        page.members[0].unit, "BJ",
        "ordered by store code, then member number"
    );
    let xh = org::MemberFilter {
        unit_code: Some("XH".into()),
        ..Default::default()
    };
    assert_eq!(
        org::member_page(&desk, &xh, 0, 10).await.unwrap().total,
        125
    );
    let withdrawn = org::MemberFilter {
        status: Some("withdrawn".into()),
        ..Default::default()
    };
    assert_eq!(
        org::member_page(&desk, &withdrawn, 0, 10)
            .await
            .unwrap()
            .total,
        25
    );
    let by_no = org::MemberFilter {
        search: Some("M12".into()),
        ..Default::default()
    };
    assert_eq!(
        org::member_page(&desk, &by_no, 0, 100).await.unwrap().total,
        10,
        "M120..M129"
    );
    let by_name = org::MemberFilter {
        search: Some("学员249".into()),
        ..Default::default()
    };
    let found = org::member_page(&desk, &by_name, 0, 10).await.unwrap();
    assert_eq!(found.members[0].member_no, "M249");
    assert_eq!(found.members[0].classes, vec!["一班"]);
    assert_eq!(
        found.members[0].guardian_phone.as_deref(),
        Some("138****0249"),
        "masked"
    );
    let by_phone = org::MemberFilter {
        search: Some("0249".into()),
        ..Default::default()
    };
    assert_eq!(
        org::member_page(&desk, &by_phone, 0, 10)
            .await
            .unwrap()
            .total,
        1,
        "phone's last digits"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn overview_counts_what_exists() {
    let env = Env::new();
    let desk = env.desk().await;
    assert_eq!(org::overview(&desk).await.unwrap().institution, None);
    institution(&desk).await;
    let o = org::overview(&desk).await.unwrap();
    assert_eq!(o.institution.as_deref(), Some("星火教育"));
    assert_eq!(
        (o.regions, o.stores, o.terms, o.classes, o.members),
        (2, 3, 1, 3, 0)
    );
    org::archive_unit(&desk, "CD").await.unwrap();
    assert_eq!(org::overview(&desk).await.unwrap().stores, 2);
}
