//! The report's charts, drawn by plotters: the collection trend by day, the aging of what is
//! owed, and the collection rate by store. Each is drawn once for any backend, so the workbook
//! gets PNG images (bitmap backend, encoded with `png`) and the dashboard SVG from the same code.
//!
//! Text needs a font with Chinese glyphs: [`crate::fonts`] finds one on the system (Noto Sans
//! CJK on Linux — the `fonts-noto-cjk` package —, Microsoft YaHei or SimHei on Windows, PingFang
//! SC on macOS, or the file `FEEDESK_CHART_FONT` names) and hands it to plotters through ab_glyph, so charts render
//! headless without fontconfig. Values are plotted as floating-point coordinates: a chart is a
//! picture of the money, never a record of it.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::Decimal;

use crate::{Error, Result};

/// The family every chart asks for; registered with the font found.
const FAMILY: &str = "feedesk-cjk";

/// An environment variable naming the charts' font file instead of the system's.
pub const CHART_FONT_ENV: &str = "FEEDESK_CHART_FONT";

/// Finds and registers the CJK font once; an error says how to get one.
pub fn ensure_font() -> Result<()> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        let path = crate::fonts::locate(CHART_FONT_ENV)
            .map_err(|e| format!("the charts cannot be drawn: {e}"))?
            .regular;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // plotters keeps fonts for the life of the program: leaked once, on purpose.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).map_err(|_| {
            format!(
                "{} is not a font the charts can use; set {CHART_FONT_ENV} to another \
                 .ttf/.ttc file with Simplified Chinese",
                path.display()
            )
        })
    })
    .clone()
    .map_err(Error::Io)
}

const TEAL: RGBColor = RGBColor(31, 122, 110);
const AMBER: RGBColor = RGBColor(214, 140, 40);
const GREY: RGBColor = RGBColor(120, 120, 120);

fn draw_err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Internal(format!("a chart could not be drawn: {e:?}"))
}

fn to_f64(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// A whole-yuan axis or bar label with thousands separators: `¥1,234,567`.
fn yuan_label(yuan: f64) -> String {
    let whole = yuan.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}¥{grouped}", if whole < 0 { "-" } else { "" })
}

/// A day under the trend's bars: the month where it starts (the first bar, and each 1st),
/// else the day alone: `9/30`, `01` → `10/1`, `02`.
fn day_label(index: usize, date: &str) -> String {
    let (Some(month), Some(day)) = (date.get(5..7), date.get(8..10)) else {
        return date.to_string();
    };
    if index == 0 || day == "01" {
        format!(
            "{}/{}",
            month.trim_start_matches('0'),
            day.trim_start_matches('0')
        )
    } else {
        day.to_string()
    }
}

/// The collection trend: yuan collected per day.
pub fn draw_trend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    days: &[(String, i64)],
) -> Result<()> {
    area.fill(&WHITE).map_err(draw_err)?;
    let max = days
        .iter()
        .map(|(_, f)| to_f64(*f))
        .fold(0.0, f64::max)
        .max(100.0)
        * 1.1;
    let n = days.len().max(1) as u32;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(78)
        .build_cartesian_2d((0u32..n).into_segmented(), 0f64..max)
        .map_err(draw_err)?;
    let labels: Vec<String> = days
        .iter()
        .enumerate()
        .map(|(i, (d, _))| day_label(i, d))
        .collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(days.len().min(16))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|y| yuan_label(*y))
        .light_line_style(TRANSPARENT)
        .label_style((FAMILY, 13))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(days.iter().enumerate().map(|(i, (_, fen))| {
            let i = i as u32;
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), to_f64(*fen)),
                ],
                TEAL.mix(0.8).filled(),
            )
        }))
        .map_err(draw_err)?;
    area.present().map_err(draw_err)
}

/// Bars with a label under each: aging buckets (yuan) or rates (percent).
fn draw_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[(String, f64)],
    color: RGBColor,
    value_label: &dyn Fn(f64) -> String,
    fixed_max: Option<f64>,
) -> Result<()> {
    area.fill(&WHITE).map_err(draw_err)?;
    let max = fixed_max
        .unwrap_or_else(|| bars.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(100.0) * 1.15);
    let n = bars.len().max(1) as u32;
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 22))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(78)
        .build_cartesian_2d((0u32..n).into_segmented(), 0f64..max)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().max(1))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bars
                .get(*i as usize)
                .map(|b| b.0.clone())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .y_label_formatter(&|y| value_label(*y))
        .light_line_style(TRANSPARENT)
        .label_style((FAMILY, 13))
        .draw()
        .map_err(draw_err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let i = i as u32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                color.mix(0.85).filled(),
            );
            bar.set_margin(0, 0, 12, 12);
            bar
        }))
        .map_err(draw_err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            // The value just above its bar.
            EmptyElement::at((SegmentValue::CenterOf(i as u32), *v))
                + Text::new(
                    value_label(*v),
                    (-18, -18),
                    (FAMILY, 13).into_font().color(&GREY),
                )
        }))
        .map_err(draw_err)?;
    area.present().map_err(draw_err)
}

/// Aging of what is owed: yuan per bucket.
pub fn draw_aging<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    buckets: &[(String, i64)],
) -> Result<()> {
    let bars: Vec<(String, f64)> = buckets
        .iter()
        .map(|(l, f)| (l.clone(), to_f64(*f)))
        .collect();
    draw_bars(area, title, &bars, AMBER, &|v| yuan_label(v), None)
}

/// Collection rate per store, in percent.
pub fn draw_rates<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    stores: &[(String, Decimal)],
) -> Result<()> {
    let bars: Vec<(String, f64)> = stores
        .iter()
        .map(|(l, r)| {
            (
                l.clone(),
                r.to_string().parse::<f64>().unwrap_or(0.0) * 100.0,
            )
        })
        .collect();
    draw_bars(
        area,
        title,
        &bars,
        TEAL,
        &|v| format!("{v:.0}%"),
        Some(110.0),
    )
}

/// Draws `draw` onto a `width` x `height` PNG.
pub fn png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    ensure_font()?;
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&area)?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(draw_err)?;
    writer.write_image_data(&rgb).map_err(draw_err)?;
    writer.finish().map_err(draw_err)?;
    Ok(out)
}

/// Draws `draw` as an SVG document.
pub fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let area = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(&area)?;
    }
    Ok(out)
}

/// The dashboard's charts of a subtree, as SVG documents drawn by the same code as the
/// workbook's PNGs: the last 30 days' collections and the aging of what is owed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DashboardCharts {
    pub unit: String,
    pub trend_svg: String,
    pub aging_svg: String,
}

/// Draws [`DashboardCharts`] for `unit_code`'s subtree from the dashboard's own figures.
pub async fn dashboard_charts(
    desk: &crate::FeeDesk,
    unit_code: &str,
    trend_title: &str,
    aging_title: &str,
) -> Result<DashboardCharts> {
    let summary = crate::billing::money_summary(desk, unit_code, None).await?;
    let trend: Vec<(String, i64)> = summary
        .trend
        .iter()
        .map(|d| (d.day.clone(), d.amount.fen()))
        .collect();
    let labels = super::facts::aging_labels();
    let aging: Vec<(String, i64)> = summary
        .aging
        .iter()
        .zip(labels)
        .map(|(b, label)| (label.to_string(), b.amount.fen()))
        .collect();
    ensure_font()?;
    let web = |svg: String| {
        svg.replace(
            &format!("font-family=\"{FAMILY}\""),
            "font-family=\"sans-serif\"",
        )
    };
    Ok(DashboardCharts {
        unit: summary.unit,
        trend_svg: web(svg(640, 260, |a| draw_trend(a, trend_title, &trend))?),
        aging_svg: web(svg(640, 260, |a| draw_aging(a, aging_title, &aging))?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_labels_group_thousands() {
        assert_eq!(yuan_label(0.0), "¥0");
        assert_eq!(yuan_label(999.4), "¥999");
        assert_eq!(yuan_label(1000.0), "¥1,000");
        assert_eq!(yuan_label(5_517_610.0), "¥5,517,610");
        assert_eq!(yuan_label(-12_345.0), "-¥12,345");
    }

    #[test]
    fn trend_days_name_their_month_where_it_starts() {
        assert_eq!(day_label(0, "2026-09-30"), "9/30");
        assert_eq!(day_label(1, "2026-10-01"), "10/1");
        assert_eq!(day_label(2, "2026-10-02"), "02");
        assert_eq!(day_label(3, "odd"), "odd");
    }
}
