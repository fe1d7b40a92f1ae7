// Typed wrapper for src-tauri/src/commands/app.rs.
import type { AppInfo } from "./bindings/AppInfo";
import { call } from "./invoke";

export type { AppInfo };

/** Name, version, data folder, and whether test hooks are on. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}
