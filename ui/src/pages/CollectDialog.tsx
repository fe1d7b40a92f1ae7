// Collecting a bill by QR code: the channel's code with its live status (polled), and the
// bill's orders, newest first.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { useI18n } from "../i18n";
import { type Bill } from "../ipc/bills";
import { collectCheck, collectClose, collectStart, svgDataUrl, type ChannelOrder } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import { channelLabel, localTime, orderStatusLabel } from "../labels";
import { formatMoney } from "../money";
import { useRefreshAll } from "../queries";

/** The bill's QR-code orders, newest first. */
export function OrderList({ orders }: { orders: ChannelOrder[] }) {
  const { t } = useI18n();
  return (
    <>
      <h4>{t("bills.orders")}</h4>
      <table className="grid compact" data-testid="order-list">
        <thead>
          <tr>
            <th>{t("collect.orderNo")}</th>
            <th className="num">{t("bills.amountShort")}</th>
            <th>{t("members.status")}</th>
          </tr>
        </thead>
        <tbody>
          {orders.map((o) => (
            <tr key={o.id} data-testid="order-row" data-order-no={o.order_no} data-status={o.status}>
              <td>
                <span className="mono">{o.order_no}</span>
                <span className="detail">
                  {channelLabel(t, o.channel)} · {localTime(o.created_at)}
                  {o.transaction_id && ` · ${o.transaction_id}`}
                </span>
                {o.note && <span className="detail warn">{o.note}</span>}
              </td>
              <td className="num">{formatMoney(o.amount, false)}</td>
              <td>
                <span className={`status order-${o.status}`}>{orderStatusLabel(t, o.status)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export const POLL_MS = 2000;

/** The QR code for what the bill still owes, with its live status: the channel is asked every
 *  2 seconds while the dialog is open; a paid order is recorded once (by the core) and the bill
 *  refreshes. Closing the dialog while unpaid closes the order at the channel. */
export function CollectDialog({ bill, onClose }: { bill: Bill; onClose: (flash?: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  // Outside the "feedesk" keys: re-reading everything after a payment must not open a new order.
  const start = useQuery({
    queryKey: ["collect", bill.id],
    queryFn: () => collectStart(bill.id),
    staleTime: Infinity,
    gcTime: 0,
  });
  const order = start.data?.order;
  const status = useQuery({
    queryKey: ["collect-status", order?.order_no],
    queryFn: () => collectCheck(order!.order_no),
    enabled: order !== undefined,
    gcTime: 0,
    refetchInterval: (q) => (q.state.data && q.state.data.status !== "open" ? false : POLL_MS),
    refetchIntervalInBackground: true,
  });
  const state = status.data?.status ?? "open";
  const settled = state !== "open";
  useEffect(() => {
    if (settled) void refresh();
  }, [settled, refresh]);
  const close = useMutation({ mutationFn: (orderNo: string) => collectClose(orderNo) });
  const [forced, setForced] = useState(false);

  const finish = async () => {
    if (!order || settled || forced) {
      onClose(state === "paid" && order ? t("bills.collectedFlash", { amount: formatMoney(order.amount) }) : undefined);
      return;
    }
    try {
      const closed = await close.mutateAsync(order.order_no);
      await refresh();
      onClose(
        closed.status === "paid"
          ? t("bills.collectedFlash", { amount: formatMoney(closed.amount) })
          : t("bills.collectClosedFlash", { order: closed.order_no }),
      );
    } catch {
      // The error shows in the dialog; closing again closes it anyway.
      setForced(true);
    }
  };

  return (
    <Dialog title={t("collect.title", { id: bill.id, member: bill.member_name })} testId="collect-dialog" className="collect-dialog" onClose={() => void finish()}>
      {start.isPending && <p className="muted">{t("collect.opening")}</p>}
      <ErrorNote error={start.error && asIpcError(start.error)} testId="collect-error" />
      {order && start.data && (
        <div className="collect" data-testid="collect-order" data-order-no={order.order_no} data-channel={order.channel} data-amount={order.amount}>
          <div className={`qr-frame${settled ? " settled" : ""}`}>
            <img src={svgDataUrl(start.data.qr_svg)} alt={t("collect.qrAlt")} width={220} height={220} data-testid="collect-qr" />
            {state === "paid" && (
              <div className="qr-paid" aria-hidden="true">
                ✓
              </div>
            )}
          </div>
          <div className="collect-facts">
            <div className="collect-amount" data-testid="collect-amount">
              {formatMoney(order.amount)}
            </div>
            <p className="muted small">{t("collect.scan", { channel: channelLabel(t, order.channel) })}</p>
            <dl className="facts compact-facts">
              <dt>{t("collect.account")}</dt>
              <dd>
                {order.account} <span className="muted small">{channelLabel(t, order.channel)}</span>
              </dd>
              <dt>{t("collect.orderNo")}</dt>
              <dd className="mono" data-testid="collect-order-no">
                {order.order_no}
              </dd>
              <dt>{t("collect.expires")}</dt>
              <dd>{localTime(order.expires_at)}</dd>
              <dt>{t("collect.status")}</dt>
              <dd data-testid="collect-status" data-status={state}>
                <span className={`status order-${state}`}>{orderStatusLabel(t, state)}</span>
              </dd>
            </dl>
            {order.reused && <p className="muted small">{t("collect.reused")}</p>}
            {state === "open" && <p className="muted small">{t("collect.polling")}</p>}
            {state === "paid" && (
              <p className="ok" data-testid="collect-paid">
                {t("collect.paid", { amount: formatMoney(order.amount) })}
              </p>
            )}
            {state === "closed" && <p className="muted">{t("collect.closed")}</p>}
            {state === "unapplied" && (
              <p className="warn" data-testid="collect-unapplied">
                {t("collect.unapplied", { note: status.data?.note ?? "" })}
              </p>
            )}
          </div>
        </div>
      )}
      <ErrorNote error={status.error && asIpcError(status.error)} testId="collect-status-error" />
      <ErrorNote error={close.error && asIpcError(close.error)} testId="collect-close-error" />
      <div className="row-form dialog-actions">
        {settled || !order ? (
          <button type="button" className="primary" data-testid="collect-done" onClick={() => void finish()}>
            {t("collect.done")}
          </button>
        ) : (
          <button type="button" data-testid="collect-cancel" disabled={close.isPending} onClick={() => void finish()}>
            {close.isPending ? t("collect.closing") : forced ? t("collect.closeAnyway") : t("collect.cancel")}
          </button>
        )}
      </div>
    </Dialog>
  );
}
