// Typed wrappers for src-tauri/src/commands/fees.rs: collection accounts, fee items, plans, issue.
import type { Channel } from "./bindings/Channel";
import type { CollectionAccount } from "./bindings/CollectionAccount";
import type { FeeItem } from "./bindings/FeeItem";
import type { IssueReport } from "./bindings/IssueReport";
import type { KeptBill } from "./bindings/KeptBill";
import type { Plan } from "./bindings/Plan";
import type { PlanForm } from "./bindings/PlanForm";
import type { PlanTarget } from "./bindings/PlanTarget";
import type { PreviewBill } from "./bindings/PreviewBill";
import type { UnitBills } from "./bindings/UnitBills";
import { call } from "./invoke";

export type { Channel, CollectionAccount, FeeItem, IssueReport, KeptBill, Plan, PlanForm, PlanTarget, PreviewBill, UnitBills };

/** Every channel, in display order (src/billing/accounts.rs `Channel::ALL`). */
// The channels an account can be added for. UnionPay is not among them: FeeDesk has no UnionPay
// client, so nothing could ever be paid into such an account (the core refuses it too).
export const CHANNELS: Channel[] = ["wechat", "alipay", "offline-cash", "offline-bank"];

export const accountList = () => call<CollectionAccount[]>("account_list");
export const accountAdd = (unit: string, channel: Channel, name: string) =>
  call<CollectionAccount>("account_add", { unit, channel, name });
/** `account`: the account's id (as text) or its name. */
export const accountArchive = (account: string) => call<CollectionAccount>("account_archive", { account });
export const feeList = () => call<FeeItem[]>("fee_list");
export const feeAdd = (unit: string, name: string) => call<FeeItem>("fee_add", { unit, name });
/** Plans of the unit's subtree (all plans when `unit` is empty), newest first. */
export const planList = (unit?: string) => call<Plan[]>("plan_list", { unit: unit || null });
export const planAdd = (plan: PlanForm) => call<Plan>("plan_add", { plan });
/** What issuing would do; writes nothing. */
export const planPreview = (planId: number) => call<IssueReport>("plan_preview", { planId });
/** Issues the plan (idempotent: issuing again adds only what is missing). */
export const planIssue = (planId: number) => call<IssueReport>("plan_issue", { planId });
