// Typed wrappers for src-tauri/src/commands/org.rs.
import type { DemoReport } from "./bindings/DemoReport";
import type { Overview } from "./bindings/Overview";
import type { Unit } from "./bindings/Unit";
import type { UnitKind } from "./bindings/UnitKind";
import type { UnitNode } from "./bindings/UnitNode";
import { call } from "./invoke";

export type { DemoReport, Overview, Unit, UnitKind, UnitNode };

export const orgOverview = () => call<Overview>("org_overview");
export const orgTree = () => call<UnitNode | null>("org_tree");
export const orgInit = (name: string) => call<Unit>("org_init", { name });
export const orgAddUnit = (parent: string, kind: Exclude<UnitKind, "hq">, code: string, name: string) =>
  call<Unit>("org_add_unit", { parent, kind, code, name });
export const orgRename = (code: string, name: string) => call<Unit>("org_rename", { code, name });
export const orgMove = (code: string, parent: string) => call<Unit>("org_move", { code, parent });
export const orgArchive = (code: string) => call<Unit>("org_archive", { code });
export const demoLoad = () => call<DemoReport>("demo_load");
