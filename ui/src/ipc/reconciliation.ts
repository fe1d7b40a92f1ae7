// Typed wrappers for src-tauri/src/commands/reconciliation.rs: statements (picked file or
// downloaded through the channel), runs, discrepancies and their resolutions, the workbook.
import type { ItemFilter } from "./bindings/ItemFilter";
import type { ReconExport } from "./bindings/ReconExport";
import type { ReconItem } from "./bindings/ReconItem";
import type { ReconPeriod } from "./bindings/ReconPeriod";
import type { Resolution } from "./bindings/Resolution";
import type { RunSummary } from "./bindings/RunSummary";
import type { StatementImport } from "./bindings/StatementImport";
import { call } from "./invoke";

export type { ItemFilter, ReconExport, ReconItem, ReconPeriod, Resolution, RunSummary, StatementImport };

/** The native file dialog for a statement; null when cancelled. */
export const statementPickFile = (title: string) => call<string | null>("statement_pick_file", { title });
/** Imports a picked statement (the same file again changes nothing). */
export const statementImport = (file: string, account: string) =>
  call<StatementImport>("statement_import", { file, account });
/** Downloads a day's bill through the account's channel and imports it. */
export const statementDownload = (account: string, date: string) =>
  call<StatementImport>("statement_download", { account, date });
export const reconcileRun = (period: ReconPeriod) => call<RunSummary>("reconcile_run", { period });
export const reconcileItems = (filter: ItemFilter) => call<ReconItem[]>("reconcile_items", { filter });
export const reconcileResolve = (itemId: number, action: Resolution, note: string, billId?: number) =>
  call<ReconItem>("reconcile_resolve", { itemId, action, note, billId: billId ?? null });
/** Runs and saves the workbook (native save dialog; `e2eOut` only in e2e runs); null when cancelled. */
export const reconcileExport = (period: ReconPeriod, title: string, e2eOut?: string) =>
  call<ReconExport | null>("reconcile_export", { period, title, e2eOut: e2eOut || null });
