// The one place that talks to Tauri's `invoke`. Per-command wrappers (one file per
// capability, e.g. ./org.ts) call `call`; components import the wrappers, never `invoke`.
import { invoke, type InvokeArgs } from "@tauri-apps/api/core";

import type { ErrorCode } from "./bindings/ErrorCode";
import type { IpcErrorPayload } from "./bindings/IpcErrorPayload";

export type { ErrorCode, IpcErrorPayload };

/** Thrown by wrappers; branch on `code`, show `message` only as secondary detail. */
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

/** Normalises anything thrown into an `IpcError`. */
export function asIpcError(error: unknown): IpcError {
  if (error instanceof IpcError) return error;
  if (isPayload(error)) return new IpcError(error);
  return new IpcError({ code: "internal", message: String(error) });
}

/** Invokes a command and normalises every failure into an `IpcError`. */
export async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    // Not a payload: the IPC bridge itself failed (e.g. no Tauri, denied by ACL).
    throw asIpcError(error);
  }
}
