// A bill row's reminder standing (the highest reminder tier sent, follow-up, paused): one query
// for the rows on screen, so the bills list stays a single page read plus this.
import { useQuery } from "@tanstack/react-query";

import { useI18n } from "../i18n";
import { reminderBillTiers, type BillTier } from "../ipc/reminders";
import { keys } from "../queries";

/** The reminder standing of the bills with these ids, by bill id. */
export function useReminderTiers(billIds: number[]): Map<number, BillTier> {
  const ids = [...billIds].sort((a, b) => a - b);
  const query = useQuery({
    queryKey: [...keys.bills, "reminder-tiers", ids],
    queryFn: () => reminderBillTiers(ids),
    enabled: ids.length > 0,
    placeholderData: (previous) => previous,
  });
  return new Map((query.data ?? []).map((t) => [t.bill_id, t]));
}

export function ReminderTierBadge({ tier }: { tier: BillTier | undefined }) {
  const { t } = useI18n();
  if (!tier) return null;
  const text = tier.followup
    ? t("bills.reminderFollowup")
    : tier.paused
      ? t("bills.reminderPaused")
      : tier.sent_tier > 0
        ? t("bills.reminderTier", { tier: tier.sent_tier })
        : null;
  if (!text) return null;
  return (
    <span className={`reminder-tier${tier.followup ? " followup" : ""}`} data-testid="bill-reminder-tier" data-tier={tier.sent_tier}>
      {text}
    </span>
  );
}
