// Typed wrappers for src-tauri/src/commands/bills.rs: bills, offline payments, refunds, voids.
// Money is a decimal string ("33.34") both ways; every money call carries an idempotency key.
import type { Bill } from "./bindings/Bill";
import type { BillDetail } from "./bindings/BillDetail";
import type { BillFilter } from "./bindings/BillFilter";
import type { BillPage } from "./bindings/BillPage";
import type { BillPayment } from "./bindings/BillPayment";
import type { PaymentForm } from "./bindings/PaymentForm";
import type { PaymentResult } from "./bindings/PaymentResult";
import type { RefundForm } from "./bindings/RefundForm";
import type { RefundResult } from "./bindings/RefundResult";
import { call } from "./invoke";

export type { Bill, BillDetail, BillFilter, BillPage, BillPayment, PaymentForm, PaymentResult, RefundForm, RefundResult };

/** Bill statuses, in display order (src/billing/bills.rs `STATUSES`). */
export const BILL_STATUSES = ["open", "partial", "paid", "voided", "refunded"] as const;

export const billPage = (filter: BillFilter, offset: number, limit: number) =>
  call<BillPage>("bill_page", { filter, offset, limit });
export const billGet = (billId: number) => call<BillDetail>("bill_get", { billId });
export const billVoid = (billId: number, reason: string) => call<Bill>("bill_void", { billId, reason });
export const paymentRecord = (payment: PaymentForm) => call<PaymentResult>("payment_record", { payment });
export const refundRecord = (refund: RefundForm) => call<RefundResult>("refund_record", { refund });

/** A fresh idempotency key: make one per submission (when its dialog opens) and send the same
 *  key again when retrying that submission, so a retry never records the money twice. */
export function idempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
