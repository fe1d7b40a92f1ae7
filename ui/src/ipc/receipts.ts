// Typed wrappers for src-tauri/src/commands/receipts.rs: search, preview, save the archived PDF,
// void (红冲) and reissue, export a class's or a term's PDFs, verify.
import type { ExportReport } from "./bindings/ExportReport";
import type { Receipt } from "./bindings/Receipt";
import type { ReceiptContent } from "./bindings/ReceiptContent";
import type { ReceiptDetail } from "./bindings/ReceiptDetail";
import type { ReceiptFilter } from "./bindings/ReceiptFilter";
import type { Paper } from "./bindings/Paper";
import type { ReceiptPage } from "./bindings/ReceiptPage";
import type { ReceiptSettings } from "./bindings/ReceiptSettings";
import type { ReceiptView } from "./bindings/ReceiptView";
import type { VerifyReport } from "./bindings/VerifyReport";
import type { VoidResult } from "./bindings/VoidResult";
import { call } from "./invoke";

export type { ExportReport, Paper, ReceiptSettings, Receipt, ReceiptContent, ReceiptDetail, ReceiptFilter, ReceiptPage, ReceiptView, VerifyReport, VoidResult };

/** Receipt statuses as the core reports them (src/receipts/search.rs). */
export const RECEIPT_STATUSES = ["issued", "voided", "reversal"] as const;

export const receiptPage = (filter: ReceiptFilter, offset: number, limit: number) =>
  call<ReceiptPage>("receipt_page", { filter, offset, limit });
export const receiptGet = (number: string) => call<ReceiptView>("receipt_get", { number });
export const receiptVoid = (number: string, reason: string) => call<VoidResult>("receipt_void", { number, reason });
export const receiptVerify = () => call<VerifyReport>("receipt_verify");
/** Saves the archived PDF where the user picks (a save dialog); the path, or null if cancelled. */
export const receiptSavePdf = (number: string, title: string, e2eOut?: string) =>
  call<string | null>("receipt_save_pdf", { number, title, e2eOut: e2eOut ?? null });
export const receiptExport = (filter: ReceiptFilter, title: string, e2eOut?: string) =>
  call<ExportReport | null>("receipt_export", { filter, title, e2eOut: e2eOut ?? null });
export const receiptSettings = () => call<ReceiptSettings>("receipt_settings");
export const receiptSetPaper = (paper: Paper) => call<ReceiptSettings>("receipt_set_paper", { paper });
