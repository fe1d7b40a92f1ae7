// Words for the core's codes (channels, bill statuses, aging buckets) in the UI's language.
import type { MessageKey } from "./i18n";

type T = (key: MessageKey) => string;

export const channelLabel = (t: T, channel: string) => t(`channel.${channel}` as MessageKey);
export const billStatusLabel = (t: T, status: string) => t(`billStatus.${status}` as MessageKey);
export const orderStatusLabel = (t: T, status: string) => t(`orderStatus.${status}` as MessageKey);
export const agingLabel = (t: T, bucket: string) => t(`aging.${bucket}` as MessageKey);

/** Whether money in this channel is collected through a payment channel (QR code, refunds
 *  through the channel), not recorded by hand. */
export const isChannel = (channel: string) => channel === "wechat" || channel === "alipay";

/** A stored UTC timestamp (RFC 3339) as the institution reads it: "2026-09-02 09:00" in
 *  Asia/Shanghai, the zone the core keeps its calendar in (src/clock.rs). */
export function localTime(utc: string): string {
  const at = new Date(utc);
  if (Number.isNaN(at.getTime())) return utc;
  // UTC+8 without daylight saving: shift and read the UTC fields.
  const local = new Date(at.getTime() + 8 * 3600 * 1000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)}`;
}
