// Typed wrappers for src-tauri/src/commands/classes.rs.
import type { Class } from "./bindings/Class";
import type { Term } from "./bindings/Term";
import { call } from "./invoke";

export type { Class, Term };

export const termList = () => call<Term[]>("term_list");
/** `start` and `end` are `YYYY-MM-DD`. */
export const termAdd = (name: string, start: string, end: string) => call<Term>("term_add", { name, start, end });
export const classList = (term?: string) => call<Class[]>("class_list", { term: term ?? null });
export const classAdd = (unit: string, term: string, name: string) => call<Class>("class_add", { unit, term, name });
