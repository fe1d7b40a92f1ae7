//! The font finder on fake Windows, macOS and Linux font folders: the best face found
//! whatever the case of its name, its bold face beside it, and a missing font reported with
//! the folders searched and what to install.

use std::path::Path;

use feedesk::ErrorCode;
use feedesk::fonts::{FontFiles, FontFinder};

fn touch(root: &Path, rel: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"font").unwrap();
}

#[test]
fn windows_fonts_are_found_in_a_fake_windows_folder() {
    let dir = tempfile::tempdir().unwrap();
    let fonts = dir.path().join("Windows/Fonts");
    for name in [
        "arial.ttf",
        "simsun.ttc",
        "MSYH.TTC",
        "msyhbd.ttc",
        "simhei.ttf",
    ] {
        touch(&fonts, name);
    }
    let found = FontFinder::with_roots(vec![fonts.clone()]).find().unwrap();
    assert_eq!(
        found,
        FontFiles {
            regular: fonts.join("MSYH.TTC"),
            bold: Some(fonts.join("msyhbd.ttc")),
        }
    );
    // Without Microsoft YaHei: SimHei, then SimSun.
    std::fs::remove_file(fonts.join("MSYH.TTC")).unwrap();
    let found = FontFinder::with_roots(vec![fonts.clone()]).find().unwrap();
    assert_eq!(found.regular, fonts.join("simhei.ttf"));
    assert_eq!(found.bold, None);
    std::fs::remove_file(fonts.join("simhei.ttf")).unwrap();
    let found = FontFinder::with_roots(vec![fonts.clone()]).find().unwrap();
    assert_eq!(found.regular, fonts.join("simsun.ttc"));
}

#[test]
fn macos_fonts_are_found_in_a_fake_macos_folder() {
    let dir = tempfile::tempdir().unwrap();
    let system = dir.path().join("System/Library/Fonts");
    let library = dir.path().join("Library/Fonts");
    touch(&system, "Helvetica.ttc");
    touch(&library, "Songti.ttc");
    let finder = FontFinder::with_roots(vec![system.clone(), library.clone()]);
    assert_eq!(finder.find().unwrap().regular, library.join("Songti.ttc"));
    touch(&system, "PingFang.ttc");
    assert_eq!(finder.find().unwrap().regular, system.join("PingFang.ttc"));
}

#[test]
fn linux_fonts_are_found_below_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("usr/share/fonts");
    touch(&root, "truetype/wqy/wqy-microhei.ttc");
    touch(&root, "opentype/noto/NotoSansCJK-Regular.ttc");
    touch(&root, "opentype/noto/NotoSansCJK-Bold.ttc");
    let found = FontFinder::with_roots(vec![root.clone()]).find().unwrap();
    assert_eq!(
        found.regular,
        root.join("opentype/noto/NotoSansCJK-Regular.ttc")
    );
    assert_eq!(
        found.bold,
        Some(root.join("opentype/noto/NotoSansCJK-Bold.ttc"))
    );
}

#[test]
fn no_font_is_an_error_naming_the_folders_and_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("Windows/Fonts");
    touch(&empty, "arial.ttf");
    let missing = dir.path().join("nowhere");
    let err = FontFinder::with_roots(vec![empty.clone(), missing.clone()])
        .find()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    let text = err.to_string();
    assert!(text.contains("no font with Chinese characters"), "{text}");
    assert!(text.contains(&empty.display().to_string()), "{text}");
    assert!(text.contains(&missing.display().to_string()), "{text}");
    assert!(text.contains("install"), "{text}");
}

#[test]
fn this_system_has_a_font() {
    // The machines the tests run on have fonts-noto-cjk (Makefile's package list).
    let found = FontFinder::system().find().unwrap();
    assert!(found.regular.is_file(), "{found:?}");
}
