// The pages of the frame, in navigation order. `id` is also the suffix of the nav item's
// data-testid (`nav-<id>`), which the e2e tests select by.
import type { MessageKey } from "./i18n";

export const PAGES = [
  "dashboard",
  "org",
  "members",
  "classes",
  "fees",
  "bills",
  "receipts",
  "reminders",
  "reconcile",
  "reports",
  "settings",
] as const;

export type PageId = (typeof PAGES)[number];

export function navLabel(page: PageId): MessageKey {
  return `nav.${page}`;
}
