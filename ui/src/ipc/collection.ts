// Typed wrappers for src-tauri/src/commands/collection.rs: QR-code collection, its live status,
// refunds through the channel, a class's payment QR workbook, and the start-up sync event.
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { ChannelOrder } from "./bindings/ChannelOrder";
import type { CollectOrder } from "./bindings/CollectOrder";
import type { CollectView } from "./bindings/CollectView";
import type { QrExport } from "./bindings/QrExport";
import type { RefundForm } from "./bindings/RefundForm";
import type { RefundResult } from "./bindings/RefundResult";
import type { SyncReport } from "./bindings/SyncReport";
import { call } from "./invoke";

export type { ChannelOrder, CollectOrder, CollectView, QrExport, SyncReport };

/** Opens (or on retry returns) the bill's QR-code order, with its QR code as SVG. */
export const collectStart = (billId: number) => call<CollectView>("collect_start", { billId });
/** Asks the channel about the order now; a paid order is recorded (once). */
export const collectCheck = (orderNo: string) => call<ChannelOrder>("collect_check", { orderNo });
/** Closes an unpaid order (recorded instead if it was paid meanwhile). */
export const collectClose = (orderNo: string) => call<ChannelOrder>("collect_close", { orderNo });
/** A bill's channel orders, newest first. */
export const orderList = (billId: number) => call<ChannelOrder[]>("order_list", { billId });
/** Refunds a channel payment through its channel, then records it (same idempotency key). */
export const refundChannel = (refund: RefundForm) => call<RefundResult>("refund_channel", { refund });
/** Asks where to save (native dialog) and writes the class's payment QR workbook; null when
 *  cancelled. `e2eOut` replaces the dialog in e2e runs only (FEEDESK_E2E=1). */
export const qrExportClass = (className: string, title: string, e2eOut?: string) =>
  call<QrExport | null>("qr_export_class", { class: className, title, e2eOut: e2eOut || null });

/** A QR code SVG as an image source (shown as an image, never inserted as markup). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

export const ORDERS_SYNCED_EVENT = "orders-synced";

/** The start-up sync settled orders or refunds. */
export function onOrdersSynced(handler: (report: SyncReport) => void): Promise<UnlistenFn> {
  return listen<SyncReport>(ORDERS_SYNCED_EVENT, (event) => handler(event.payload));
}
