// Dates as people type them into forms, read as the roster import reads them
// (src/roster/normalize.rs): 2026-09-01, 2026/9/1, 2026.9.1, 2026年9月1日, 20260901, with
// full-width digits. Forms send the core YYYY-MM-DD; what is not a date goes as typed, so the
// core's refusal names it.

/** `text` as YYYY-MM-DD when it reads as a real calendar date, else `text` trimmed. */
export function toIsoDate(text: string): string {
  const folded = text.trim().replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
  const m = /^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))$/.exec(folded);
  if (!m) return text.trim();
  const [year, month, day] = [Number(m[1]), Number(m[2] ?? m[4]), Number(m[3] ?? m[5])];
  const at = new Date(Date.UTC(year, month - 1, day));
  if (at.getUTCFullYear() !== year || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) return text.trim();
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}
