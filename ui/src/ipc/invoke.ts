// The one place that talks to Tauri's `invoke`. Per-command wrappers (one file per
// capability, e.g. ./app.ts) call `call`; components import the wrappers, never `invoke`.
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";

/** Stable error codes: the core's `ErrorCode` (src/error.rs), sent by src-tauri/src/error.rs.
 *  To be replaced by the ts-rs generated type once bindings are generated. */
export type ErrorCode =
  | "validation"
  | "not_found"
  | "conflict"
  | "import_format"
  | "too_large"
  | "cancelled"
  | "io"
  | "storage"
  | "internal";

/** The `{ code, message }` shape every command fails with. */
export interface IpcErrorPayload {
  code: ErrorCode;
  message: string;
}

/** Thrown by wrappers; branch on `code`, show `message`. */
export class IpcError extends Error {
  readonly code: ErrorCode;

  constructor(payload: IpcErrorPayload) {
    super(payload.message);
    this.name = "IpcError";
    this.code = payload.code;
  }
}

function isPayload(value: unknown): value is IpcErrorPayload {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as IpcErrorPayload).code === "string" &&
    typeof (value as IpcErrorPayload).message === "string"
  );
}

/** Invokes a command and normalises every failure into an `IpcError`. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    if (isPayload(error)) throw new IpcError(error);
    // Not from our command: the IPC bridge itself failed (e.g. no Tauri, denied by ACL).
    throw new IpcError({ code: "internal", message: String(error) });
  }
}
