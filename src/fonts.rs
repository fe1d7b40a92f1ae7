//! Finding a font with Simplified Chinese on the machine, for receipts, notices and charts: one
//! finder for Linux (Noto Sans CJK from `fonts-noto-cjk`, Source Han, WenQuanYi; UOS and
//! Kylin included), Windows (Microsoft YaHei, SimHei, SimSun in `C:\Windows\Fonts`) and macOS
//! (PingFang SC, Songti, Hiragino Sans GB in `/System/Library/Fonts`, `/Library/Fonts`). Fonts
//! are never shipped in the repository. The folders searched are a list a test can replace
//! (a fake Windows or macOS font folder), and a missing font is an error that says what to
//! install on this system.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The Debian/Ubuntu/UOS package that provides the preferred font.
pub const LINUX_PACKAGE: &str = "fonts-noto-cjk";

/// The faces looked for, best first: file name of the regular face and of its bold face.
/// Names are matched without regard to case (Windows folders hold `MSYH.TTC` as often as
/// `msyh.ttc`).
pub const CANDIDATES: [(&str, Option<&str>); 12] = [
    // Linux: Noto Sans CJK (the SC face is picked from the collection).
    ("NotoSansCJK-Regular.ttc", Some("NotoSansCJK-Bold.ttc")),
    ("NotoSansCJKsc-Regular.otf", Some("NotoSansCJKsc-Bold.otf")),
    (
        "SourceHanSansSC-Regular.otf",
        Some("SourceHanSansSC-Bold.otf"),
    ),
    // Windows: Microsoft YaHei, then SimHei and SimSun.
    ("msyh.ttc", Some("msyhbd.ttc")),
    ("simhei.ttf", None),
    ("simsun.ttc", None),
    // macOS: PingFang SC, Songti, Hiragino Sans GB, STHeiti.
    ("PingFang.ttc", None),
    ("Songti.ttc", None),
    ("Hiragino Sans GB.ttc", None),
    ("STHeiti Light.ttc", None),
    // Linux fall-backs.
    ("wqy-microhei.ttc", None),
    ("wqy-zenhei.ttc", None),
];

/// How deep under a root font files are looked for (`/usr/share/fonts/opentype/noto/x.ttc`).
const MAX_DEPTH: usize = 4;

/// A font found: the regular face, and the bold face when one is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontFiles {
    pub regular: PathBuf,
    pub bold: Option<PathBuf>,
}

/// Searches font folders for a face with Simplified Chinese.
#[derive(Debug, Clone)]
pub struct FontFinder {
    roots: Vec<PathBuf>,
}

impl FontFinder {
    /// The font folders of this system.
    pub fn system() -> FontFinder {
        FontFinder {
            roots: system_roots(),
        }
    }

    /// Other folders (tests: a fake `C:\Windows\Fonts` or `/System/Library/Fonts`).
    pub fn with_roots(roots: Vec<PathBuf>) -> FontFinder {
        FontFinder { roots }
    }

    /// The folders searched, in order.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The best face found, or an error naming what to install.
    pub fn find(&self) -> Result<FontFiles> {
        let mut found: HashMap<String, PathBuf> = HashMap::new();
        for root in &self.roots {
            collect(root, 0, &mut found);
        }
        CANDIDATES
            .iter()
            .find_map(|(regular, bold)| {
                let regular = found.get(&regular.to_lowercase())?.clone();
                let bold = bold.and_then(|b| found.get(&b.to_lowercase()).cloned());
                Some(FontFiles { regular, bold })
            })
            .ok_or_else(|| Error::NotFound(missing_message(&self.roots)))
    }
}

/// Every file name under `dir` (lower-cased) with the first path it was found at.
fn collect(dir: &Path, depth: usize, found: &mut HashMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = vec![];
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        // Symbolic links are followed (Debian links fonts between folders).
        let is_dir = kind.is_dir() || (kind.is_symlink() && path.is_dir());
        if is_dir {
            subdirs.push(path);
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            found.entry(name.to_lowercase()).or_insert(path);
        }
    }
    if depth < MAX_DEPTH {
        subdirs.sort();
        for sub in subdirs {
            collect(&sub, depth + 1, found);
        }
    }
}

fn missing_message(roots: &[PathBuf]) -> String {
    let looked: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    let install = if cfg!(windows) {
        "Windows ships Microsoft YaHei (msyh.ttc), SimHei (simhei.ttf) and SimSun (simsun.ttc): \
         add the Chinese (Simplified) language's supplemental fonts in Settings > Apps > Optional \
         features, or install one of them into C:\\Windows\\Fonts"
            .to_string()
    } else if cfg!(target_os = "macos") {
        "macOS ships PingFang SC and Songti: install them with Font Book (File > Add Fonts) or \
         copy PingFang.ttc or Songti.ttc into /Library/Fonts"
            .to_string()
    } else {
        format!(
            "install Noto Sans CJK: `apt-get install {LINUX_PACKAGE}` (Debian, Ubuntu, UOS, \
             Kylin) or `dnf install google-noto-sans-cjk-fonts` (Fedora)"
        )
    };
    format!(
        "no font with Chinese characters was found (looked in {}); {install}",
        if looked.is_empty() {
            "no folders".to_string()
        } else {
            looked.join(", ")
        }
    )
}

/// The font folders of this operating system, the user's own first where there is one.
pub fn system_roots() -> Vec<PathBuf> {
    let mut roots = vec![];
    if cfg!(windows) {
        let windir = std::env::var_os("WINDIR")
            .or_else(|| std::env::var_os("SystemRoot"))
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
        roots.push(windir.join("Fonts"));
        if let Some(local) = std::env::var_os("LOCALAPPDATA") {
            roots.push(PathBuf::from(local).join(r"Microsoft\Windows\Fonts"));
        }
    } else if cfg!(target_os = "macos") {
        roots.push(PathBuf::from("/System/Library/Fonts"));
        roots.push(PathBuf::from("/Library/Fonts"));
        if let Some(home) = dirs::home_dir() {
            roots.push(home.join("Library/Fonts"));
        }
    } else {
        roots.push(PathBuf::from("/usr/share/fonts"));
        roots.push(PathBuf::from("/usr/local/share/fonts"));
        if let Some(data) = dirs::data_dir() {
            roots.push(data.join("fonts"));
        }
        if let Some(home) = dirs::home_dir() {
            roots.push(home.join(".fonts"));
        }
    }
    roots
}

/// The font named by the environment variable `env` when it is set, else the system's best.
pub fn locate(env: &str) -> Result<FontFiles> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(Error::NotFound(format!(
                "{env} names {}, which does not exist; point it at a .ttc/.otf/.ttf file with \
                 Simplified Chinese, or unset it to use the system's fonts",
                path.display()
            )));
        }
        return Ok(FontFiles {
            regular: path,
            bold: None,
        });
    }
    FontFinder::system().find().map_err(|e| {
        Error::NotFound(format!(
            "{e}; or set {env} to a .ttc/.otf/.ttf file with Simplified Chinese"
        ))
    })
}
