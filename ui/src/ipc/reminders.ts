// Typed wrappers for src-tauri/src/commands/reminders.rs: reminder policies, the next batch
// (preview, approve), the delivery log, the follow-up list, and each bill's reminder tier.
import type { BillTier } from "./bindings/BillTier";
import type { FollowUp } from "./bindings/FollowUp";
import type { FollowUpUpdate } from "./bindings/FollowUpUpdate";
import type { Hold } from "./bindings/Hold";
import type { LogFilter } from "./bindings/LogFilter";
import type { NotifyChannel } from "./bindings/NotifyChannel";
import type { OutboxRow } from "./bindings/OutboxRow";
import type { Policy } from "./bindings/Policy";
import type { PolicyRequest } from "./bindings/PolicyRequest";
import type { Preview } from "./bindings/Preview";
import type { RunReport } from "./bindings/RunReport";
import { call } from "./invoke";

export type { BillTier, FollowUp, FollowUpUpdate, Hold, LogFilter, NotifyChannel, OutboxRow, Policy, PolicyRequest, Preview, RunReport };

export const reminderPolicies = () => call<Policy[]>("reminder_policies");
export const reminderPolicySet = (request: PolicyRequest) => call<Policy>("reminder_policy_set", { request });
export const reminderPreview = () => call<Preview>("reminder_preview");
export const reminderRun = () => call<RunReport>("reminder_run");
export const reminderApprove = (ids: number[]) => call<RunReport>("reminder_approve", { ids });
export const reminderLog = (filter: LogFilter) => call<OutboxRow[]>("reminder_log", { filter });
export const reminderResolve = (id: number, delivered: boolean) => call<void>("reminder_resolve", { id, delivered });
export const reminderChannels = () => call<NotifyChannel[]>("reminder_channels");
export const reminderHolds = () => call<Hold[]>("reminder_holds");
export const reminderBillTiers = (billIds: number[]) => call<BillTier[]>("reminder_bill_tiers", { billIds });
export const followupList = (includeClosed: boolean) => call<FollowUp[]>("followup_list", { includeClosed });
export const followupUpdate = (billId: number, update: FollowUpUpdate) =>
  call<void>("followup_update", { billId, update });
