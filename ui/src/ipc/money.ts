// Typed wrappers for src-tauri/src/commands/money.rs: the dashboard's money and the books.
import type { AccountKind } from "./bindings/AccountKind";
import type { AgingBucket } from "./bindings/AgingBucket";
import type { MoneyFigures } from "./bindings/MoneyFigures";
import type { MoneyNode } from "./bindings/MoneyNode";
import type { MoneySummary } from "./bindings/MoneySummary";
import type { TrendDay } from "./bindings/TrendDay";
import type { TrialBalance } from "./bindings/TrialBalance";
import type { TrialLine } from "./bindings/TrialLine";
import { call } from "./invoke";

export type { AccountKind, AgingBucket, MoneyFigures, MoneyNode, MoneySummary, TrendDay, TrialBalance, TrialLine };

/** Aging buckets, in display order (src/billing/dashboard.rs `BUCKETS`). */
export const AGING_BUCKETS = ["not_due", "0_30", "31_60", "61_90", "90_plus"] as const;

export const moneySummary = (unit: string) => call<MoneySummary>("money_summary", { unit });
export const moneyTree = (unit: string) => call<MoneyNode>("money_tree", { unit });
export const ledgerTrialBalance = (unit: string, rollup: boolean) =>
  call<TrialBalance>("ledger_trial_balance", { unit, rollup });
