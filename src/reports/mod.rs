//! Reports: the monthly report workbook ([`monthly`]) with its charts ([`charts`], drawn by
//! plotters: PNG for the workbook, SVG for the dashboard), on the shared table writer
//! ([`sheet`]) the reconciliation workbook uses too.

pub mod charts;
pub mod facts;
pub mod monthly;
pub mod sheet;

pub use monthly::{
    ANCHOR_SHEET, MonthlyReport, export_monthly_report, export_monthly_report_anchored,
};
