//! A messy real-world roster yields one class per real class: names that differ only in
//! bracket style, width, spacing or letter case are one class, matched and created once, and
//! the dry run lists what it merged. `1(2)班` and `12班` stay two classes.

use crate::support::common;

use common::*;
use feedesk::org;
use feedesk::roster::ImportMode;

const ROWS: [(&str, &str); 10] = [
    ("S001", "三年级(2)班"),
    ("S002", "三年级（2）班"),
    ("S003", "三年级 (2) 班"),
    ("S004", "三年级2班  "),
    ("S005", "三年级【2】班"),
    ("S006", "一 班"),
    ("S007", "一班、一 班"),
    ("S008", "1(2)班"),
    ("S009", "12班"),
    ("S010", "Piano (A)"),
];

fn roster(env: &Env) -> std::path::PathBuf {
    let mut text = String::from("学号,学生姓名,班级,家长手机号码\n");
    for (i, (no, class)) in ROWS.iter().enumerate() {
        text.push_str(&format!("{no},学员{i},\"{class}\",1380013800{i}\n"));
    }
    text.push_str("S011,学员11,piano a,13800138011\n");
    let file = env.path("messy-classes.csv");
    std::fs::write(&file, text).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread")]
async fn near_duplicate_class_names_are_one_class() {
    let env = Env::new();
    let desk = env.desk().await;
    institution(&desk).await;
    let file = roster(&env);
    let mut req = request(&file, ImportMode::All);
    req.unit_code = "XH".into();
    req.create_classes = true;
    req.dry_run = true;
    let dry = import(&desk, &req).await.unwrap();
    assert!(dry.errors.is_empty(), "{:?}", dry.errors);
    let merges: Vec<(String, String, Vec<String>)> = dry
        .class_merges
        .iter()
        .map(|m| (m.store.clone(), m.class.clone(), m.names.clone()))
        .collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        merges,
        vec![
            ("XH".into(), "Piano (A)".into(), s(&["piano a"])),
            ("XH".into(), "一班".into(), s(&["一 班"])),
            (
                "XH".into(),
                "三年级(2)班".into(),
                s(&["三年级 (2) 班", "三年级2班", "三年级【2】班"])
            ),
        ],
        "the dry run lists every merged spelling under the class it joins"
    );

    req.dry_run = false;
    let done = import(&desk, &req).await.unwrap();
    assert!(done.committed, "{:?}", done.errors);
    assert_eq!(
        done.classes_created, 4,
        "三年级(2)班, 1(2)班, 12班, Piano (A)"
    );
    let mut names: Vec<String> = org::list_classes(&desk, Some(TERM))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.unit_code == "XH")
        .map(|c| format!("{} {}", c.name, c.members))
        .collect();
    names.sort();
    assert_eq!(
        names,
        s(&[
            "1(2)班 1",
            "12班 1",
            "Piano (A) 2",
            "一班 2",
            "三年级(2)班 5",
            "二班 0"
        ])
    );

    // Without --create-classes a differently spelled existing class is still found.
    let again = env.path("again.csv");
    std::fs::write(
        &again,
        "学号,学生姓名,班级,家长手机号码\nS012,学员12,三年级 （2） 班,13800138012\n",
    )
    .unwrap();
    let mut req = request(&again, ImportMode::All);
    req.unit_code = "XH".into();
    let report = import(&desk, &req).await.unwrap();
    assert!(report.committed, "{:?}", report.errors);
    assert_eq!(report.class_merges[0].class, "三年级(2)班");
}
