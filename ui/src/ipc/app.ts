// Typed wrapper for src-tauri/src/commands/app.rs.
import { call } from "./invoke";

/** Mirrors `AppInfo` in src-tauri/src/commands/app.rs (serde camelCase). */
export interface AppInfo {
  name: string;
  version: string;
  dataDir: string;
}

/** Name, version and data folder of the running app. */
export function appInfo(): Promise<AppInfo> {
  return call<AppInfo>("app_info");
}
