//! QR codes for what a payer scans: SVG for the window, PNG for workbooks.

use qrcode::{Color, EcLevel, QrCode};

use crate::{Error, Result};

fn code(text: &str) -> Result<QrCode> {
    // Level M survives a smudged print or a cracked screen, and channel URLs are short.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| Error::Validation(format!("cannot draw a QR code for this text: {e}")))
}

/// An SVG drawing of `text`'s QR code, at least `size` pixels wide, with its quiet zone.
pub fn qr_svg(text: &str, size: u32) -> Result<String> {
    Ok(code(text)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build())
}

/// A grayscale PNG of `text`'s QR code, `scale` pixels per module, with a 4-module quiet zone.
pub fn qr_png(text: &str, scale: u32) -> Result<Vec<u8>> {
    let code = code(text)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; (side * side) as usize];
    for y in 0..modules {
        for x in 0..modules {
            if colors[(y * modules + x) as usize] == Color::Dark {
                for dy in 0..scale {
                    let row = ((y + quiet) * scale + dy) * side;
                    let start = (row + (x + quiet) * scale) as usize;
                    pixels[start..start + scale as usize].fill(0);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let fail =
        |e: png::EncodingError| Error::Internal(format!("cannot encode a QR code image: {e}"));
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(&pixels).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_svg_and_png() {
        let svg = qr_svg("weixin://wxpay/bizpayurl?pr=abc", 200).unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
        let png = qr_png("weixin://wxpay/bizpayurl?pr=abc", 4).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // Same text, same picture.
        assert_eq!(png, qr_png("weixin://wxpay/bizpayurl?pr=abc", 4).unwrap());
    }
}
