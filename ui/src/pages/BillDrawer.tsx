// A bill's detail beside the list: its lines, payments (each opening its receipt), refunds,
// QR-code orders and reminder tier, and the actions a cashier takes on it, each in its dialog.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n } from "../i18n";
import { billGet, type BillPayment } from "../ipc/bills";
import { orderList } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import { billStatusLabel, channelLabel, isChannel, localTime } from "../labels";
import { formatMoney, minus } from "../money";
import { useOpenReceipts } from "../receiptLink";
import { keys, useAccounts } from "../queries";

import { PaymentDialog, RefundDialog, VoidDialog } from "./BillDialogs";
import { OrderList, CollectDialog } from "./CollectDialog";
import { StatusBadge } from "./Bills";

export type Action = { kind: "pay" } | { kind: "collect" } | { kind: "void" } | { kind: "refund"; payment: BillPayment };

/** One bill: its figures, its payments, and what can be done with it. */
export function BillDrawer({ billId, onClose }: { billId: number; onClose: () => void }) {
  const { t } = useI18n();
  const detail = useQuery({ queryKey: [...keys.bill, billId], queryFn: () => billGet(billId) });
  const orders = useQuery({ queryKey: [...keys.orders, billId], queryFn: () => orderList(billId) });
  const accounts = useAccounts();
  const [action, setAction] = useState<Action | null>(null);
  const [flash, setFlash] = useState("");
  useEffect(() => setFlash(""), [billId]);
  const bill = detail.data?.bill;
  const payments = detail.data?.payments ?? [];
  const openReceipts = useOpenReceipts();
  const payable = bill && (bill.status === "open" || bill.status === "partial");
  const voidable = bill && bill.status === "open" && bill.amount_paid === "0.00";
  // Collected by QR code when the plan's designated account is a WeChat Pay or Alipay one (the
  // core refuses payments by hand into those accounts, so the offline form is not offered).
  const channel = bill && accounts.data?.find((a) => a.id === bill.account_id)?.channel;
  const collectable = payable && channel !== undefined && isChannel(channel);

  return (
    <aside className="drawer card" data-testid="bill-detail" data-bill-id={billId} aria-label={t("bills.detail")}>
      <header className="dialog-head">
        <h3>{bill ? t("bills.detailTitle", { id: bill.id, fee: bill.fee }) : t("bills.detail")}</h3>
        <button type="button" className="close" aria-label={t("common.close")} data-testid="bill-detail-close" onClick={onClose}>
          ×
        </button>
      </header>
      {detail.isPending && <p className="muted">{t("common.loading")}</p>}
      <ErrorNote error={detail.error && asIpcError(detail.error)} testId="bill-detail-error" />
      {bill && (
        <>
          <p className="drawer-member">
            <strong>{bill.member_name}</strong> <span className="mono">{bill.member_no}</span> · {bill.unit_code}{" "}
            <span data-testid="bill-detail-status" data-status={bill.status}>
              <StatusBadge status={bill.status} text={billStatusLabel(t, bill.status)} />
            </span>
          </p>
          <dl className="facts money-facts">
            <dt>{t("bills.gross")}</dt>
            <dd className="num">{formatMoney(bill.gross)}</dd>
            {bill.discount !== "0.00" && (
              <>
                <dt>{t("issue.discount")}</dt>
                <dd className="num">-{formatMoney(bill.discount)}</dd>
              </>
            )}
            <dt>{t("bills.amountDue")}</dt>
            <dd className="num" data-testid="bill-detail-due" data-value={bill.amount_due}>
              {formatMoney(bill.amount_due)}
            </dd>
            <dt>{t("bills.amountPaid")}</dt>
            <dd className="num" data-testid="bill-detail-paid" data-value={bill.amount_paid}>
              {formatMoney(bill.amount_paid)}
            </dd>
            <dt>{t("bills.refunded")}</dt>
            <dd className="num" data-testid="bill-detail-refunded" data-value={bill.amount_refunded}>
              {formatMoney(bill.amount_refunded)}
            </dd>
            <dt>{t("bills.outstanding")}</dt>
            <dd className="num strong" data-testid="bill-detail-outstanding" data-value={bill.outstanding}>
              {formatMoney(bill.outstanding)}
            </dd>
            <dt>{t("bills.dueDate")}</dt>
            <dd>{bill.due_date}</dd>
            <dt>{t("bills.account")}</dt>
            <dd>
              {bill.account} <span className="muted small">#{bill.account_id}</span>
            </dd>
            <dt>{t("bills.partial")}</dt>
            <dd>{bill.allow_partial ? t("fees.partialYes") : t("fees.partialNo")}</dd>
            {bill.note && (
              <>
                <dt>{t("bills.note")}</dt>
                <dd data-testid="bill-detail-note">{bill.note}</dd>
              </>
            )}
          </dl>
          {flash && (
            <p className="ok" data-testid="bill-flash">
              {flash}
            </p>
          )}
          <div className="row-form">
            {collectable && (
              <button type="button" className="primary" data-testid="bill-collect" onClick={() => setAction({ kind: "collect" })}>
                {t("bills.collect")}
              </button>
            )}
            {payable && !collectable && (
              <button type="button" className="primary" data-testid="bill-pay" onClick={() => setAction({ kind: "pay" })}>
                {t("bills.recordPayment")}
              </button>
            )}
            {voidable && (
              <button type="button" className="danger" data-testid="bill-void" onClick={() => setAction({ kind: "void" })}>
                {t("bills.void")}
              </button>
            )}
          </div>
          <h4>
            {t("bills.payments")}
            {payments.length > 0 && (
              <button type="button" className="link" data-testid="bill-receipts" onClick={() => openReceipts({ billId, label: t("bills.receiptsOfBill", { id: billId }) })}>
                {t("bills.allReceipts")}
              </button>
            )}
          </h4>
          {payments.length === 0 ? (
            <p className="muted small">{t("bills.noPayments")}</p>
          ) : (
            <table className="grid compact" data-testid="payment-list">
              <thead>
                <tr>
                  <th>{t("bills.receivedAt")}</th>
                  <th>{t("bills.account")}</th>
                  <th className="num">{t("bills.amountShort")}</th>
                  <th className="num">{t("bills.refunded")}</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {payments.map((p) => (
                  <tr key={p.payment_id} data-testid="payment-row" data-payment-id={p.payment_id} data-amount={p.amount} data-refunded={p.refunded}>
                    <td className="nowrap">{localTime(p.received_at)}</td>
                    <td>
                      {p.account}
                      <span className="detail">
                        {channelLabel(t, p.channel)}
                        {p.reference && ` · ${p.reference}`}
                      </span>
                    </td>
                    <td className="num">{formatMoney(p.amount, false)}</td>
                    <td className="num">{p.refunded === "0.00" ? "" : formatMoney(p.refunded, false)}</td>
                    <td className="actions">
                      <button
                        type="button"
                        data-testid={`receipt-of-${p.payment_id}`}
                        onClick={() => openReceipts({ paymentId: p.payment_id, label: t("bills.receiptsOfPayment", { id: p.payment_id }) })}
                      >
                        {t("bills.receipt")}
                      </button>
                      {minus(p.amount, p.refunded) !== "0.00" && (
                        <button type="button" data-testid={`refund-${p.payment_id}`} onClick={() => setAction({ kind: "refund", payment: p })}>
                          {t("bills.refund")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {(orders.data ?? []).length > 0 && <OrderList orders={orders.data ?? []} />}
          {action?.kind === "collect" && (
            <CollectDialog
              bill={bill}
              onClose={(text) => {
                setAction(null);
                if (text) setFlash(text);
              }}
            />
          )}
          {action?.kind === "pay" && (
            <PaymentDialog
              bill={bill}
              onClose={() => setAction(null)}
              onDone={(text) => {
                setAction(null);
                setFlash(text);
              }}
            />
          )}
          {action?.kind === "refund" && (
            <RefundDialog
              payment={action.payment}
              billPayer={bill.member_name}
              onClose={() => setAction(null)}
              onDone={(text) => {
                setAction(null);
                setFlash(text);
              }}
            />
          )}
          {action?.kind === "void" && (
            <VoidDialog
              bill={bill}
              onClose={() => setAction(null)}
              onDone={(text) => {
                setAction(null);
                setFlash(text);
              }}
            />
          )}
        </>
      )}
    </aside>
  );
}
