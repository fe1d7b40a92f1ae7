//! The CJK font receipts are typeset in, found at run time by [`crate::fonts`] (Noto Sans CJK
//! SC on Linux, Microsoft YaHei on Windows, PingFang SC on macOS ...) and never shipped in the
//! repository. Loaded once per
//! process; each PDF embeds only the glyphs it uses (krilla subsets it).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::raw::{FileRef, FontRef, TableProvider};
use skrifa::{MetadataProvider, string::StringId};

use crate::fonts::{FontFiles, locate};
use crate::{Error, Result};

/// An environment variable naming a font file (.ttc, .otf, .ttf) to use instead.
pub const FONT_ENV: &str = "FEEDESK_RECEIPT_FONT";

/// The Debian/Ubuntu package that provides the font.
pub const FONT_PACKAGE: &str = crate::fonts::LINUX_PACKAGE;

/// A face: the font krilla embeds, and its bytes for measuring text.
#[derive(Clone)]
pub(crate) struct Face {
    pub font: Font,
    data: Arc<Vec<u8>>,
    index: u32,
}

impl Face {
    fn load(path: &Path) -> Result<Face> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let index = simplified_chinese_index(&bytes).ok_or_else(|| {
            Error::Validation(format!(
                "{} is not a font FeeDesk can read; point {FONT_ENV} at an OpenType font with \
                 Simplified Chinese, or install {FONT_PACKAGE}",
                path.display()
            ))
        })?;
        let data = Arc::new(bytes);
        let font = Font::new(data.clone().into(), index).ok_or_else(|| {
            Error::Validation(format!("{} cannot be embedded in a PDF", path.display()))
        })?;
        Ok(Face { font, data, index })
    }

    /// `text` as positioned glyphs for krilla (advances in em), and its width in em. Receipts
    /// hold Chinese, digits and Latin letters, which need no shaping beyond the font's own
    /// advances: one glyph per character, no kerning or ligatures. (krilla's `draw_text` would
    /// build a full OpenType shaping plan for the CJK font on every call: two thirds of the
    /// rendering time.)
    pub fn glyphs(&self, text: &str) -> (Vec<KrillaGlyph>, f32) {
        let Ok(font) = FontRef::from_index(&self.data, self.index) else {
            return (vec![], 0.0);
        };
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(
            skrifa::instance::Size::unscaled(),
            skrifa::instance::LocationRef::default(),
        );
        let upem = f32::from(font.head().map(|h| h.units_per_em()).unwrap_or(1000)).max(1.0);
        let mut width = 0.0;
        let glyphs = text
            .char_indices()
            .map(|(at, c)| {
                let id = charmap.map(c).unwrap_or_default();
                let advance = metrics.advance_width(id).unwrap_or(upem) / upem;
                width += advance;
                KrillaGlyph::new(
                    GlyphId::new(id.to_u32()),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    at..at + c.len_utf8(),
                    None,
                )
            })
            .collect();
        (glyphs, width)
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.glyphs(text).1 * size
    }
}

/// The faces a receipt uses.
#[derive(Clone)]
pub(crate) struct Faces {
    pub regular: Face,
    /// The bold face when installed, else the regular one.
    pub bold: Face,
}

/// The SC face of a collection (Noto Sans CJK holds JP, KR, SC, TC, HK), or the first face.
fn simplified_chinese_index(bytes: &[u8]) -> Option<u32> {
    let count = match FileRef::new(bytes).ok()? {
        FileRef::Font(_) => return Some(0),
        FileRef::Collection(c) => c.len(),
    };
    let family = |i: u32| {
        FontRef::from_index(bytes, i).ok().and_then(|f| {
            f.localized_strings(StringId::FAMILY_NAME)
                .english_or_first()
                .map(|s| s.to_string())
        })
    };
    (0..count)
        .find(|i| family(*i).is_some_and(|name| name.ends_with(" SC") || name.contains("SC ")))
        .or(Some(0))
}

/// The faces, loaded once per process. A failure is not remembered: installing the font
/// fixes a window that stays open.
pub(crate) fn faces() -> Result<Faces> {
    static FACES: OnceLock<Faces> = OnceLock::new();
    if let Some(faces) = FACES.get() {
        return Ok(faces.clone());
    }
    let FontFiles { regular, bold } = locate(FONT_ENV)?;
    let regular = Face::load(&regular)?;
    let bold = match bold {
        Some(path) => Face::load(&path).unwrap_or_else(|_| regular.clone()),
        None => regular.clone(),
    };
    Ok(FACES.get_or_init(|| Faces { regular, bold }).clone())
}
