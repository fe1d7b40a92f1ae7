// Typed wrappers for src-tauri/src/commands/reports.rs: the monthly report workbook, with its
// progress events.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { MonthlyReport } from "./bindings/MonthlyReport";
import type { JobProgress } from "./bindings/JobProgress";
import { call } from "./invoke";

export type { MonthlyReport };

/** A report's progress: the payload every long job sends. */
export type ReportProgress = JobProgress;

/** Writes the monthly report (native save dialog; `e2eOut` only in e2e runs); null when cancelled. */
export const reportMonthlyExport = (month: string, unit: string, title: string, jobId: string, e2eOut?: string) =>
  call<MonthlyReport | null>("report_monthly_export", { month, unit, title, jobId, e2eOut: e2eOut || null });

/** Cancels a running report (the roster's job_cancel serves every long job). */
export const reportCancel = (jobId: string) => call<void>("job_cancel", { jobId });

export const REPORT_PROGRESS_EVENT = "report-progress";

export function onReportProgress(handler: (p: ReportProgress) => void): Promise<UnlistenFn> {
  return listen<ReportProgress>(REPORT_PROGRESS_EVENT, (event) => handler(event.payload));
}

import type { DashboardCharts } from "./bindings/DashboardCharts";
export type { DashboardCharts };

/** The dashboard's charts of a subtree as SVG, drawn by the core (plotters). */
export const dashboardCharts = (unit: string, trendTitle: string, agingTitle: string) =>
  call<DashboardCharts>("dashboard_charts", { unit, trendTitle, agingTitle });
