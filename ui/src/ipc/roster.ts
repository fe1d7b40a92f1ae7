// Typed wrappers for src-tauri/src/commands/roster.rs, and the import progress event.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { Batch } from "./bindings/Batch";
import type { Column } from "./bindings/Column";
import type { ColumnOverride } from "./bindings/ColumnOverride";
import type { Field } from "./bindings/Field";
import type { ImportMode } from "./bindings/ImportMode";
import type { JobProgress } from "./bindings/JobProgress";
import type { ImportReport } from "./bindings/ImportReport";
import type { RosterRequest } from "./bindings/RosterRequest";
import type { RowError } from "./bindings/RowError";
import type { UndoReport } from "./bindings/UndoReport";
import { call } from "./invoke";

export type { Batch, Column, ColumnOverride, Field, ImportMode, ImportReport, RosterRequest, RowError, UndoReport };

/** Every field a column can carry, in display order (src/roster/header.rs `Field::ALL`). */
export const FIELDS: Field[] = [
  "member_no",
  "name",
  "store",
  "class",
  "guardian_name",
  "guardian_phone",
  "guardian_email",
  "id_number",
  "enrolled_on",
  "status",
];

/** Opens the native file dialog; only a file picked here can be previewed or imported.
 *  Null when the user cancels. */
export const rosterPickFile = (title: string) => call<string | null>("roster_pick_file", { title });
/** Test-only stand-in for the dialog (refused unless the app runs with FEEDESK_E2E=1). */
export const e2eUseFile = (path: string) => call<string>("e2e_use_file", { path });
/** Dry run: the detected sheet, header row, mapping and every row problem; writes nothing. */
export const rosterPreview = (request: RosterRequest) => call<ImportReport>("roster_preview", { request });
/** Imports; progress arrives through `onImportProgress`, `jobCancel(jobId)` stops it. */
export const rosterImport = (request: RosterRequest, jobId: string) =>
  call<ImportReport>("roster_import", { request, jobId });
export const jobCancel = (jobId: string) => call<null>("job_cancel", { jobId });
export const rosterHistory = () => call<Batch[]>("roster_history");
export const rosterUndo = (batchId: number) => call<UndoReport>("roster_undo", { batchId });
/** Asks where to save (native dialog) and copies the error workbook there; the path, or null
 *  when the user cancels. `from` must be a workbook the core wrote under the data folder. */
export const saveErrorWorkbook = (from: string, title: string) => call<string | null>("save_error_workbook", { from, title });

/** An import's progress: the payload every long job sends. */
export type ImportProgress = JobProgress;

export const IMPORT_PROGRESS_EVENT = "import-progress";

export function onImportProgress(handler: (progress: ImportProgress) => void): Promise<UnlistenFn> {
  return listen<ImportProgress>(IMPORT_PROGRESS_EVENT, (event) => handler(event.payload));
}
