// The money dialogs of a bill: an offline payment, a refund (through the channel or by hand)
// and a void. Each carries an idempotency key made when it opens, so a retry never pays twice.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { FormDialog } from "../components/FormDialog";
import { useI18n } from "../i18n";
import { billVoid, idempotencyKey, paymentRecord, refundRecord, type Bill, type BillPayment } from "../ipc/bills";
import { refundChannel } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import { receiptPage } from "../ipc/receipts";
import { billStatusLabel, channelLabel, isChannel } from "../labels";
import { formatMoney, minus, toFen } from "../money";
import { useAccounts, useRefreshAll } from "../queries";

export function PaymentDialog({ bill, onClose, onDone }: { bill: Bill; onClose: () => void; onDone: (text: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const accounts = useAccounts();
  // One key per submission: made when the dialog opens, sent again if the user retries it.
  const [key] = useState(idempotencyKey);
  const [amount, setAmount] = useState(bill.outstanding);
  const [account, setAccount] = useState(String(bill.account_id));
  const [reference, setReference] = useState("");
  const options = (accounts.data ?? []).filter((a) => !a.archived || a.id === bill.account_id);
  const pay = useMutation({
    mutationFn: () => paymentRecord({ bill_id: bill.id, amount, account, reference: reference || null, key }),
    onSuccess: async (result) => {
      await refresh();
      const paid = t("bills.paidFlash", {
        amount: formatMoney(result.amount),
        status: billStatusLabel(t, result.status),
        outstanding: formatMoney(result.outstanding),
      });
      onDone(result.receipt_no ? `${paid} ${t("bills.receiptIssued", { number: result.receipt_no })}` : paid);
    },
  });
  return (
    <FormDialog
      title={t("bills.payTitle", { id: bill.id, member: bill.member_name })}
      testId="pay-dialog"
      lead={t("bills.payLead", { outstanding: formatMoney(bill.outstanding), account: bill.account })}
      error={pay.error && asIpcError(pay.error)}
      submitLabel={t("bills.recordPayment")}
      pending={pay.isPending}
      status={pay.status}
      submittedAt={pay.submittedAt}
      onSubmit={() => pay.mutate()}
      onClose={onClose}
    >
      <label>
        <span>{t("bills.amount")}</span>
        <input data-testid="pay-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </label>
      <label>
        <span>{t("bills.account")}</span>
        <select data-testid="pay-account" value={account} onChange={(e) => setAccount(e.target.value)}>
          {options.map((a) => (
            <option key={a.id} value={String(a.id)}>
              {a.name} · {channelLabel(t, a.channel)} ({a.unit_code}){a.id === bill.account_id ? ` — ${t("bills.designated")}` : ""}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{t("bills.reference")}</span>
        <input data-testid="pay-reference" value={reference} placeholder={t("bills.referencePlaceholder")} onChange={(e) => setReference(e.target.value)} />
      </label>
    </FormDialog>
  );
}

export function RefundDialog({
  payment,
  billPayer,
  onClose,
  onDone,
}: {
  payment: BillPayment;
  /** Who the refund goes to when the receipt does not say (the member's name). */
  billPayer: string;
  onClose: () => void;
  onDone: (text: string) => void;
}) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [key] = useState(idempotencyKey);
  const left = minus(payment.amount, payment.refunded);
  const [amount, setAmount] = useState(left);
  const [reason, setReason] = useState("");
  // A channel payment goes back the way it came, unless the cashier refunds it by hand.
  const throughChannel = isChannel(payment.channel);
  const [viaChannel, setViaChannel] = useState(throughChannel);
  // The valid receipt of this payment: the one a refund reverses (红冲), named in the confirmation.
  const receipts = useQuery({
    queryKey: ["feedesk", "payment-receipts", payment.payment_id],
    queryFn: () =>
      receiptPage({ member_no: null, class_name: null, term_name: null, from: null, to: null, search: null, payment_id: payment.payment_id, bill_id: null }, 0, 20),
  });
  const receipt = receipts.data?.receipts.find((r) => r.status === "issued" && r.kind !== "reversal");
  const all = toFen(amount) !== null && toFen(amount) === toFen(left);
  const confirmText = [
    t("bills.confirmRefund", { amount: formatMoney(amount), payer: receipt?.payer || billPayer, reason: reason.trim() || t("bills.noReason") }),
    throughChannel && viaChannel ? t("bills.confirmRefundChannel", { channel: channelLabel(t, payment.channel) }) : t("bills.confirmRefundByHand"),
    receipt ? t(all ? "bills.confirmRefundReceiptAll" : "bills.confirmRefundReceipt", { number: receipt.number }) : "",
  ]
    .filter(Boolean)
    .join(" ");
  const refund = useMutation({
    mutationFn: () => {
      const form = { payment_id: payment.payment_id, amount, reason, key };
      return viaChannel ? refundChannel(form) : refundRecord(form);
    },
    onSuccess: async (result) => {
      await refresh();
      onDone(t("bills.refundedFlash", { amount: formatMoney(result.amount), status: billStatusLabel(t, result.status) }));
    },
  });
  return (
    <FormDialog
      title={t("bills.refundTitle", { id: payment.payment_id })}
      testId="refund-dialog"
      lead={t("bills.refundLead", { paid: formatMoney(payment.amount), left: formatMoney(left) })}
      error={refund.error && asIpcError(refund.error)}
      submitLabel={refund.isPending && viaChannel ? t("bills.refunding") : t("bills.refund")}
      pending={refund.isPending}
      status={refund.status}
      confirm={confirmText}
      onSubmit={() => refund.mutate()}
      onClose={onClose}
    >
      <label>
        <span>{t("bills.amount")}</span>
        <input data-testid="refund-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      </label>
      <label>
        <span>{t("bills.reason")}</span>
        <input data-testid="refund-reason" value={reason} placeholder={t("bills.refundReasonPlaceholder")} onChange={(e) => setReason(e.target.value)} />
      </label>
      {throughChannel && (
        <label className="check inline-check">
          <input type="checkbox" data-testid="refund-via-channel" checked={viaChannel} disabled={refund.isPending} onChange={(e) => setViaChannel(e.target.checked)} />
          <span>
            {t("bills.refundViaChannel", { channel: channelLabel(t, payment.channel) })}
            <span className="detail">{viaChannel ? t("bills.refundViaChannelHint") : t("bills.refundByHandHint")}</span>
          </span>
        </label>
      )}
    </FormDialog>
  );
}

export function VoidDialog({ bill, onClose, onDone }: { bill: Bill; onClose: () => void; onDone: (text: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [reason, setReason] = useState("");
  const voiding = useMutation({
    mutationFn: () => billVoid(bill.id, reason),
    onSuccess: async () => {
      await refresh();
      onDone(t("bills.voidedFlash", { id: bill.id }));
    },
  });
  return (
    <FormDialog
      title={t("bills.voidTitle", { id: bill.id, member: bill.member_name })}
      testId="void-dialog"
      lead={t("bills.voidLead", { due: formatMoney(bill.amount_due) })}
      error={voiding.error && asIpcError(voiding.error)}
      submitLabel={t("bills.void")}
      danger
      pending={voiding.isPending}
      confirm={t("bills.confirmVoid", {
        id: bill.id,
        member: bill.member_name,
        fee: bill.fee,
        due: formatMoney(bill.amount_due),
        reason: reason.trim() || t("bills.noReason"),
      })}
      onSubmit={() => voiding.mutate()}
      onClose={onClose}
    >
      <label>
        <span>{t("bills.reason")}</span>
        <input data-testid="void-reason" value={reason} placeholder={t("bills.voidReasonPlaceholder")} onChange={(e) => setReason(e.target.value)} />
      </label>
    </FormDialog>
  );
}
