// Bills & Collection: filters, the totals of everything they match, the bills (virtualised like
// the member list: only visible rows render, bill_page is asked for the pages they fall in),
// and a bill's detail with its payments, where offline payments, refunds and voids are
// recorded. Money calls carry an idempotency key made when their dialog opens. A bill collected
// into a WeChat Pay or Alipay account is collected by QR code (a dialog with the code and its
// live status), refunded through its channel, and a class's payment QR codes are exported as a
// workbook for its parent group.
import { useMutation, useQuery } from "@tanstack/react-query";
import { memo, useEffect, useMemo, useState, type FormEvent } from "react";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { useDebounced } from "../hooks";
import { usePagedList } from "../pagedList";
import { TermClassFilter } from "../components/TermClassFilter";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n } from "../i18n";
import {
  BILL_STATUSES,
  billGet,
  billPage,
  billVoid,
  idempotencyKey,
  paymentRecord,
  refundRecord,
  type Bill,
  type BillFilter,
  type BillPayment,
} from "../ipc/bills";
import { collectCheck, collectClose, collectStart, orderList, qrExportClass, refundChannel, svgDataUrl, type ChannelOrder } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import { ReminderTierBadge, useReminderTiers } from "../components/ReminderTier";
import type { BillTier } from "../ipc/reminders";
import { billStatusLabel, channelLabel, isChannel, localTime, orderStatusLabel } from "../labels";
import { formatMoney, minus } from "../money";
import { useOpenReceipts } from "../receiptLink";
import { flatten, keys, useAccounts, useAppInfo, useRefreshAll, useTree } from "../queries";

const PAGE = 200;
const ROW_HEIGHT = 36;

export function Bills() {
  const { t, lang } = useI18n();
  const tree = useTree();
  const [search, setSearch] = useState("");
  const [unit, setUnit] = useState("");
  const [term, setTerm] = useState("");
  const [className, setClassName] = useState("");
  const [status, setStatus] = useState("");
  const [selected, setSelected] = useState<number | null>(null);
  const debouncedSearch = useDebounced(search, 250);
  const filter: BillFilter = useMemo(
    () => ({
      unit_code: unit || null,
      term_name: term || null,
      class_name: className || null,
      status: status || null,
      plan_id: null,
      search: debouncedSearch || null,
    }),
    [unit, term, className, status, debouncedSearch],
  );
  const units = useMemo(() => flatten(tree.data).map((u) => u.node), [tree.data]);

  const { scrollRef, virtualizer, items, firstPage, rowAt, error } = usePagedList({
    queryKey: [...keys.bills, filter],
    fetchPage: (offset, limit) => billPage(filter, offset, limit),
    rowsOf: (page) => page.bills,
    pageSize: PAGE,
    rowHeight: ROW_HEIGHT,
    resetOn: filter,
  });
  const numbers = useMemo(() => new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en"), [lang]);
  const reminderTiers = useReminderTiers(items.map((item) => rowAt(item.index)?.id).filter((id): id is number => id !== undefined));
  const statusText = useMemo(() => Object.fromEntries(BILL_STATUSES.map((s) => [s, billStatusLabel(t, s)])), [t]);

  return (
    <div className="stack">
      <section className="card">
        <div className="row-form filters">
          <input
            type="search"
            className="grow"
            data-testid="bill-search"
            placeholder={t("bills.search")}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <label>
            <span>{t("members.unit")}</span>
            <select data-testid="bill-unit" value={unit} onChange={(e) => setUnit(e.target.value)}>
              <option value="">{t("common.all")}</option>
              <UnitOptions units={units} />
            </select>
          </label>
          <TermClassFilter
            testIdPrefix="bill"
            term={term}
            onTerm={setTerm}
            className={className}
            onClassName={setClassName}
          />
          <label>
            <span>{t("members.status")}</span>
            <select data-testid="bill-status" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">{t("common.all")}</option>
              {BILL_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusText[s]}
                </option>
              ))}
            </select>
          </label>
        </div>
        {className && <QrExport className={className} />}
        <div className="tiles money-tiles bill-totals" data-testid="bill-totals">
          <Figure testId="bill-count" label={t("bills.count")} value={firstPage ? numbers.format(firstPage.total) : "…"} raw={firstPage ? String(firstPage.total) : ""} />
          <Figure testId="bill-due" label={t("bills.due")} value={firstPage ? formatMoney(firstPage.amount_due) : "…"} raw={firstPage?.amount_due ?? ""} />
          <Figure testId="bill-paid" label={t("bills.paid")} value={firstPage ? formatMoney(firstPage.amount_paid) : "…"} raw={firstPage?.amount_paid ?? ""} />
          <Figure testId="bill-refunded" label={t("bills.refunded")} value={firstPage ? formatMoney(firstPage.amount_refunded) : "…"} raw={firstPage?.amount_refunded ?? ""} />
          <Figure testId="bill-outstanding" label={t("bills.outstanding")} value={firstPage ? formatMoney(firstPage.outstanding) : "…"} raw={firstPage?.outstanding ?? ""} />
        </div>
      </section>
      <section className="card bills-card">
        <ErrorNote error={error && asIpcError(error)} testId="bill-error" />
        <div className="bill-grid member-head" role="row">
          <span>{t("members.no")}</span>
          <span>{t("members.name")}</span>
          <span>{t("members.store")}</span>
          <span>{t("bills.fee")}</span>
          <span>{t("bills.dueDate")}</span>
          <span className="num">{t("bills.amountDue")}</span>
          <span className="num">{t("bills.amountPaid")}</span>
          <span className="num">{t("bills.outstanding")}</span>
          <span>{t("members.status")}</span>
        </div>
        <div className="member-scroll" ref={scrollRef} data-testid="bill-list">
          {firstPage && firstPage.total === 0 && <p className="muted empty">{t("bills.empty")}</p>}
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((item) => (
              <BillRow
                key={item.key}
                index={item.index}
                start={item.start}
                bill={rowAt(item.index)}
                statusText={statusText}
                reminder={reminderTiers.get(rowAt(item.index)?.id ?? -1)}
                selected={selected}
                onSelect={setSelected}
              />
            ))}
          </div>
        </div>
      </section>
      {selected !== null && <BillDrawer billId={selected} onClose={() => setSelected(null)} />}
    </div>
  );
}

const BillRow = memo(function BillRow({
  index,
  start,
  bill,
  statusText,
  reminder,
  selected,
  onSelect,
}: {
  index: number;
  start: number;
  bill: Bill | undefined;
  statusText: Record<string, string>;
  reminder?: BillTier;
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  const cls = `bill-grid member-row bill-row${index % 2 ? " odd" : ""}${bill && bill.id === selected ? " selected" : ""}`;
  return (
    <div
      className={cls}
      data-testid={bill ? "bill-row" : "bill-row-loading"}
      data-bill-id={bill?.id}
      data-member={bill?.member_no}
      data-fee={bill?.fee}
      data-status={bill?.status}
      role={bill ? "button" : undefined}
      tabIndex={bill ? 0 : undefined}
      style={{ height: ROW_HEIGHT, transform: `translateY(${start}px)` }}
      onClick={() => bill && onSelect(bill.id)}
      onKeyDown={(e) => bill && (e.key === "Enter" || e.key === " ") && onSelect(bill.id)}
    >
      {bill ? (
        <>
          <span>{bill.member_no}</span>
          <span>{bill.member_name}</span>
          <span>{bill.unit_code}</span>
          <span>{bill.fee}</span>
          <span>{bill.due_date}</span>
          <span className="num">{formatMoney(bill.amount_due, false)}</span>
          <span className="num">{formatMoney(bill.amount_paid, false)}</span>
          <span className="num">{formatMoney(bill.outstanding, false)}</span>
          <span>
            <StatusBadge status={bill.status} text={statusText[bill.status] ?? bill.status} />
            <ReminderTierBadge tier={reminder} />
          </span>
        </>
      ) : (
        <span className="muted">…</span>
      )}
    </div>
  );
});

function StatusBadge({ status, text }: { status: string; text: string }) {
  return <span className={`status status-${status}`}>{text}</span>;
}

type Action = { kind: "pay" } | { kind: "collect" } | { kind: "void" } | { kind: "refund"; payment: BillPayment };

/** A class's payment QR codes, as a workbook (saved where the user chooses). */
function QrExport({ className }: { className: string }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const refresh = useRefreshAll();
  const [testPath, setTestPath] = useState("");
  const exporting = useMutation({
    mutationFn: (out?: string) => qrExportClass(className, t("bills.qrExportTitle", { class: className }), out),
    onSuccess: () => refresh(),
  });
  const { reset } = exporting;
  useEffect(() => reset(), [className, reset]);
  const done = exporting.data;
  return (
    <div className="qr-export" data-testid="qr-export">
      <div className="row-form">
        <button type="button" data-testid="qr-export-button" disabled={exporting.isPending} onClick={() => exporting.mutate(undefined)}>
          {exporting.isPending ? t("bills.qrExporting") : t("bills.qrExport", { class: className })}
        </button>
        {info.data?.e2e && (
          <>
            <input data-testid="qr-export-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={40} />
            <button type="button" data-testid="qr-export-use" disabled={exporting.isPending} onClick={() => testPath.trim() && exporting.mutate(testPath.trim())}>
              {t("import.testUse")}
            </button>
          </>
        )}
        <span className="muted small">{t("bills.qrExportHint")}</span>
      </div>
      {done && (
        <p className="ok small" data-testid="qr-export-result" data-bills={done.bills} data-offline={done.offline} data-file={done.file}>
          {t("bills.qrExported", { bills: done.bills, file: done.file })}
          {done.offline > 0 && ` ${t("bills.qrExportedOffline", { n: done.offline })}`}
        </p>
      )}
      <ErrorNote error={exporting.error && asIpcError(exporting.error)} testId="qr-export-error" />
    </div>
  );
}

/** One bill: its figures, its payments, and what can be done with it. */
function BillDrawer({ billId, onClose }: { billId: number; onClose: () => void }) {
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

function PaymentDialog({ bill, onClose, onDone }: { bill: Bill; onClose: () => void; onDone: (text: string) => void }) {
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    pay.mutate();
  };
  return (
    <Dialog title={t("bills.payTitle", { id: bill.id, member: bill.member_name })} testId="pay-dialog" onClose={onClose}>
      <p className="muted small">{t("bills.payLead", { outstanding: formatMoney(bill.outstanding), account: bill.account })}</p>
      <form className="dialog-form" onSubmit={submit} data-testid="pay-form" data-status={pay.status} data-submitted={pay.submittedAt}>
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
        <ErrorNote error={pay.error && asIpcError(pay.error)} testId="pay-error" />
        <div className="row-form dialog-actions">
          <button type="submit" className="primary" data-testid="pay-submit" disabled={pay.isPending}>
            {t("bills.recordPayment")}
          </button>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RefundDialog({ payment, onClose, onDone }: { payment: BillPayment; onClose: () => void; onDone: (text: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [key] = useState(idempotencyKey);
  const left = minus(payment.amount, payment.refunded);
  const [amount, setAmount] = useState(left);
  const [reason, setReason] = useState("");
  // A channel payment goes back the way it came, unless the cashier refunds it by hand.
  const throughChannel = isChannel(payment.channel);
  const [viaChannel, setViaChannel] = useState(throughChannel);
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    refund.mutate();
  };
  return (
    <Dialog title={t("bills.refundTitle", { id: payment.payment_id })} testId="refund-dialog" onClose={onClose}>
      <p className="muted small">{t("bills.refundLead", { paid: formatMoney(payment.amount), left: formatMoney(left) })}</p>
      <form className="dialog-form" onSubmit={submit} data-testid="refund-form" data-status={refund.status}>
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
        <ErrorNote error={refund.error && asIpcError(refund.error)} testId="refund-error" />
        <div className="row-form dialog-actions">
          <button type="submit" className="primary" data-testid="refund-submit" disabled={refund.isPending}>
            {refund.isPending && viaChannel ? t("bills.refunding") : t("bills.refund")}
          </button>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function VoidDialog({ bill, onClose, onDone }: { bill: Bill; onClose: () => void; onDone: (text: string) => void }) {
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    voiding.mutate();
  };
  return (
    <Dialog title={t("bills.voidTitle", { id: bill.id, member: bill.member_name })} testId="void-dialog" onClose={onClose}>
      <p className="muted small">{t("bills.voidLead", { due: formatMoney(bill.amount_due) })}</p>
      <form className="dialog-form" onSubmit={submit}>
        <label>
          <span>{t("bills.reason")}</span>
          <input data-testid="void-reason" value={reason} placeholder={t("bills.voidReasonPlaceholder")} onChange={(e) => setReason(e.target.value)} />
        </label>
        <ErrorNote error={voiding.error && asIpcError(voiding.error)} testId="void-error" />
        <div className="row-form dialog-actions">
          <button type="submit" className="danger" data-testid="void-submit" disabled={voiding.isPending}>
            {t("bills.void")}
          </button>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The bill's QR-code orders, newest first. */
function OrderList({ orders }: { orders: ChannelOrder[] }) {
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

const POLL_MS = 2000;

/** The QR code for what the bill still owes, with its live status: the channel is asked every
 *  2 seconds while the dialog is open; a paid order is recorded once (by the core) and the bill
 *  refreshes. Closing the dialog while unpaid closes the order at the channel. */
function CollectDialog({ bill, onClose }: { bill: Bill; onClose: (flash?: string) => void }) {
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
