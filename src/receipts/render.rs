//! A receipt as a PDF: drawn from its record alone, so the same record always gives the same
//! bytes. Noto Sans CJK embedded as a subset with a ToUnicode map (krilla), so the text layer
//! gives back the names and the 大写 amount; the QR code drawn as vector squares. A5 landscape,
//! or the same receipt on the top half of an A4 sheet with a cut line.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke, StrokeDash};
use krilla::surface::Surface;
use qrcode::{Color, EcLevel, QrCode};
use serde::{Deserialize, Serialize};

use super::content::{ReceiptContent, ReceiptKind, qr_text};
use super::font::{Face, Faces, faces};
use crate::clock::local_display;
use crate::money::Money;
use crate::{Error, Result};

/// The paper a receipt is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Paper {
    /// A5 landscape (210 × 148 mm), the usual receipt book size.
    #[default]
    A5,
    /// A4 portrait, the receipt on the top half with a cut line.
    A4,
}

impl Paper {
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A5 => "a5",
            Paper::A4 => "a4",
        }
    }

    pub fn parse(text: &str) -> Result<Paper> {
        match text.trim().to_ascii_lowercase().as_str() {
            "a5" => Ok(Paper::A5),
            "a4" => Ok(Paper::A4),
            other => Err(Error::Validation(format!(
                "'{other}' is not a paper size for receipts; use a5 or a4"
            ))),
        }
    }
}

// A5 landscape in points; the receipt block is this size on both papers.
const W: f32 = 595.28;
const H: f32 = 419.53;
const A4_H: f32 = 841.89;
const LEFT: f32 = 34.0;
const RIGHT: f32 = W - 34.0;

const INK: (u8, u8, u8) = (0x1f, 0x23, 0x28);
const MUTED: (u8, u8, u8) = (0x5b, 0x63, 0x6e);
const RULE: (u8, u8, u8) = (0x8a, 0x93, 0x9e);
const LABEL_BG: (u8, u8, u8) = (0xf2, 0xf4, 0xf7);
const RED: (u8, u8, u8) = (0xb4, 0x1e, 0x1e);

fn color((r, g, b): (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill(c: (u8, u8, u8)) -> Fill {
    Fill {
        paint: color(c).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: (u8, u8, u8), width: f32) -> Stroke {
    Stroke {
        paint: color(c).into(),
        width,
        ..Default::default()
    }
}

/// ¥1,234.56, with a minus sign on a reversal.
pub(crate) fn yuan_figures(amount: Money) -> String {
    let fen = amount.fen();
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", fen % 100)
}

/// Renders `content` (whose record hash is `hash`) as a PDF.
pub fn render_pdf(content: &ReceiptContent, hash: &str, paper: Paper) -> Result<Vec<u8>> {
    let faces = faces()?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("收款收据 {}", content.number))
            .creator("FeeDesk".into())
            .language("zh-CN".into()),
    );
    let height = match paper {
        Paper::A5 => H,
        Paper::A4 => A4_H,
    };
    let settings =
        PageSettings::from_wh(W, height).ok_or_else(|| Error::Internal("page size".into()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();
    let mut pen = Pen {
        surface: &mut surface,
        faces: &faces,
    };
    pen.receipt(content, hash)?;
    if paper == Paper::A4 {
        pen.cut_line(H);
    }
    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| Error::Internal(format!("cannot write the receipt PDF: {e:?}")))
}

/// Draws on one page.
struct Pen<'a, 'b> {
    surface: &'a mut Surface<'b>,
    faces: &'a Faces,
}

impl Pen<'_, '_> {
    fn text(&mut self, x: f32, y: f32, text: &str, size: f32, bold: bool, c: (u8, u8, u8)) {
        if text.is_empty() {
            return;
        }
        let face = if bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        };
        let (glyphs, _) = face.glyphs(text);
        self.surface.set_stroke(None);
        self.surface.set_fill(Some(fill(c)));
        self.surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            face.font.clone(),
            text,
            size,
            false,
        );
    }

    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.faces.bold
        } else {
            &self.faces.regular
        }
    }

    /// The largest size up to `size` at which `text` fits in `width` (never below 6 pt).
    fn fit(&self, text: &str, size: f32, width: f32, bold: bool) -> f32 {
        let w = self.face(bold).width(text, size);
        if w <= width {
            size
        } else {
            (size * width / w).max(6.0)
        }
    }

    fn centered(&mut self, cx: f32, y: f32, text: &str, size: f32, bold: bool, c: (u8, u8, u8)) {
        let w = self.face(bold).width(text, size);
        self.text(cx - w / 2.0, y, text, size, bold, c);
    }

    fn right(&mut self, x: f32, y: f32, text: &str, size: f32, bold: bool, c: (u8, u8, u8)) {
        let w = self.face(bold).width(text, size);
        self.text(x - w, y, text, size, bold, c);
    }

    fn rect(&mut self, r: Rect, fill_color: Option<(u8, u8, u8)>, line: Option<Stroke>) {
        let mut pb = PathBuilder::new();
        pb.push_rect(r);
        if let Some(path) = pb.finish() {
            self.surface.set_fill(fill_color.map(fill));
            self.surface.set_stroke(line);
            self.surface.draw_path(&path);
        }
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, line: Stroke) {
        let mut pb = PathBuilder::new();
        pb.move_to(x1, y1);
        pb.line_to(x2, y2);
        if let Some(path) = pb.finish() {
            self.surface.set_fill(None);
            self.surface.set_stroke(Some(line));
            self.surface.draw_path(&path);
        }
    }

    fn receipt(&mut self, c: &ReceiptContent, hash: &str) -> Result<()> {
        let reversal = c.kind == ReceiptKind::Reversal;
        let accent = if reversal { RED } else { INK };
        // Title, with a double rule under it as on a printed receipt book.
        let title = if reversal {
            "收款收据（红冲）"
        } else {
            "收款收据"
        };
        let institution = if c.institution.is_empty() {
            c.issuer_name.clone()
        } else {
            c.institution.clone()
        };
        let size = self.fit(&institution, 11.0, 300.0, false);
        self.centered(W / 2.0, 40.0, &institution, size, false, MUTED);
        self.centered(W / 2.0, 66.0, title, 20.0, true, accent);
        let tw = self.face(true).width(title, 20.0) + 24.0;
        self.line(
            W / 2.0 - tw / 2.0,
            73.0,
            W / 2.0 + tw / 2.0,
            73.0,
            stroke(accent, 1.2),
        );
        self.line(
            W / 2.0 - tw / 2.0,
            76.0,
            W / 2.0 + tw / 2.0,
            76.0,
            stroke(accent, 0.5),
        );
        self.right(RIGHT, 44.0, &format!("No. {}", c.number), 11.0, true, RED);
        self.text(LEFT, 98.0, "开票单位：", 9.5, false, MUTED);
        let issuer = format!("{}（{}）", c.issuer_name, c.issuer_code);
        self.text(LEFT + 48.0, 98.0, &issuer, 9.5, false, INK);
        let date = local_display(&c.issued_at);
        self.right(RIGHT, 98.0, &format!("开票时间：{date}"), 9.5, false, MUTED);

        // The table: label | value | label | value, some values spanning.
        let amount = yuan_figures(c.amount);
        let capitals = format!("人民币 {}", c.amount_capitals);
        let dash = "—".to_string();
        let member = format!("{}（{}）", c.member_name, c.member_no);
        let channel = format!("{} · {}", c.channel, c.account);
        let mut note = vec![];
        if let Some(original) = &c.original {
            note.push(if reversal {
                format!("冲销原收据 No. {original}")
            } else {
                format!("替代原收据 No. {original}")
            });
        }
        if let Some(n) = &c.note {
            note.push(n.clone());
        }
        note.push(format!("账单 #{} · 付款 #{}", c.bill_id, c.payment_id));
        let note = note.join("；");
        let rows: [Vec<(&str, &str)>; 6] = [
            vec![("交款人", &c.payer), ("学员", &member)],
            vec![
                ("班级", c.class.as_ref().unwrap_or(&dash)),
                ("学期", c.term.as_ref().unwrap_or(&dash)),
            ],
            vec![("收费项目", &c.fee_item), ("金额（小写）", &amount)],
            vec![("金额（大写）", &capitals)],
            vec![
                ("支付方式", &channel),
                ("交易号/凭证号", c.reference.as_ref().unwrap_or(&dash)),
            ],
            vec![("备注", &note)],
        ];
        let cols = [LEFT, LEFT + 78.0, LEFT + 275.0, LEFT + 363.0, RIGHT];
        let top = 110.0;
        let row_h = 29.0;
        let frame = stroke(RULE, 0.6);
        for (i, row) in rows.iter().enumerate() {
            let y = top + row_h * i as f32;
            let baseline = y + row_h / 2.0 + 4.0;
            for (j, (label, value)) in row.iter().enumerate() {
                let (lx, vx, end) = if row.len() == 1 {
                    (cols[0], cols[1], cols[4])
                } else {
                    (cols[j * 2], cols[j * 2 + 1], cols[j * 2 + 2])
                };
                if let Some(r) = Rect::from_xywh(lx, y, vx - lx, row_h) {
                    self.rect(r, Some(LABEL_BG), None);
                }
                let ls = self.fit(label, 9.5, vx - lx - 12.0, false);
                self.text(lx + 8.0, baseline, label, ls, false, MUTED);
                let emphasis = *label == "金额（小写）" || *label == "金额（大写）";
                let size = if emphasis { 12.0 } else { 10.5 };
                let vs = self.fit(value, size, end - vx - 16.0, emphasis);
                let c = if emphasis { accent } else { INK };
                self.text(vx + 8.0, baseline, value, vs, emphasis, c);
            }
        }
        let bottom = top + row_h * rows.len() as f32;
        if let Some(r) = Rect::from_ltrb(LEFT, top, RIGHT, bottom) {
            self.rect(r, None, Some(stroke(INK, 1.0)));
        }
        for i in 1..rows.len() {
            let y = top + row_h * i as f32;
            self.line(LEFT, y, RIGHT, y, frame.clone());
        }
        for (i, row) in rows.iter().enumerate() {
            let y = top + row_h * i as f32;
            let xs: &[f32] = if row.len() == 1 {
                &cols[1..2]
            } else {
                &cols[1..4]
            };
            for x in xs {
                self.line(*x, y, *x, y + row_h, frame.clone());
            }
        }

        // Signatures, verification and the QR code.
        let qr_size = 74.0;
        let qr_x = RIGHT - qr_size;
        let qr_y = bottom + 12.0;
        self.qr(&qr_text(&c.number, hash), qr_x, qr_y, qr_size)?;
        self.centered(
            qr_x + qr_size / 2.0,
            qr_y + qr_size + 10.0,
            "扫码核验",
            7.5,
            false,
            MUTED,
        );
        let y = bottom + 30.0;
        self.text(LEFT, y, "收款单位（盖章）：", 9.5, false, MUTED);
        self.text(LEFT + 86.0, y, &c.issuer_name, 10.0, false, INK);
        self.text(LEFT + 250.0, y, "经办人：", 9.5, false, MUTED);
        let op = c.operator.strip_prefix("local:").unwrap_or(&c.operator);
        let os = self.fit(op, 10.0, 120.0, false);
        self.text(LEFT + 290.0, y, op, os, false, INK);
        let short = hash.get(..32).unwrap_or(hash);
        self.text(LEFT, y + 26.0, "校验码（SHA-256）：", 8.0, false, MUTED);
        self.text(LEFT + 82.0, y + 26.0, short, 8.0, false, INK);
        self.text(
            LEFT,
            y + 42.0,
            "本收据为电子收据，记录不可修改，逐张链式存证；更正须红冲后重开。",
            7.5,
            false,
            MUTED,
        );
        self.text(
            LEFT,
            y + 55.0,
            "核验：扫描右侧二维码，或在 FeeDesk 中运行 feedesk receipt verify。",
            7.5,
            false,
            MUTED,
        );
        if reversal {
            // A red stamp-like mark so a reversal is never mistaken for a receipt.
            if let Some(r) = Rect::from_xywh(RIGHT - 150.0, 56.0, 58.0, 24.0) {
                self.rect(r, None, Some(stroke(RED, 1.4)));
            }
            self.centered(RIGHT - 121.0, 73.0, "作废冲销", 11.0, true, RED);
        }
        Ok(())
    }

    /// The QR code as filled squares (runs of dark modules merged into one rectangle each).
    fn qr(&mut self, text: &str, x: f32, y: f32, size: f32) -> Result<()> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| Error::Internal(format!("cannot draw the receipt's QR code: {e}")))?;
        let n = code.width();
        let colors = code.to_colors();
        let module = size / n as f32;
        let mut pb = PathBuilder::new();
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == Color::Dark {
                        col += 1;
                    }
                    if let Some(r) = Rect::from_xywh(
                        x + start as f32 * module,
                        y + row as f32 * module,
                        (col - start) as f32 * module,
                        module,
                    ) {
                        pb.push_rect(r);
                    }
                } else {
                    col += 1;
                }
            }
        }
        if let Some(path) = pb.finish() {
            self.surface.set_stroke(None);
            self.surface.set_fill(Some(fill(INK)));
            self.surface.draw_path(&path);
        }
        Ok(())
    }

    fn cut_line(&mut self, y: f32) {
        let line = Stroke {
            dash: Some(StrokeDash {
                array: vec![4.0, 3.0],
                offset: 0.0,
            }),
            ..stroke(RULE, 0.6)
        };
        self.line(20.0, y, W - 20.0, y, line);
        self.centered(W / 2.0, y + 12.0, "沿虚线裁开", 7.0, false, RULE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_have_thousands_separators() {
        let m = |s: &str| s.parse::<Money>().unwrap();
        assert_eq!(yuan_figures(m("2520")), "¥2,520.00");
        assert_eq!(yuan_figures(m("0.05")), "¥0.05");
        assert_eq!(yuan_figures(m("1234567.8")), "¥1,234,567.80");
        assert_eq!(yuan_figures(m("-100")), "-¥100.00");
    }

    #[test]
    fn paper_parses() {
        assert_eq!(Paper::parse(" A4 ").unwrap(), Paper::A4);
        assert!(Paper::parse("letter").is_err());
    }
}
