// Bills & Collection: filters, the totals of everything they match, the bills (virtualised like
// the member list: only visible rows render, bill_page is asked for the pages they fall in),
// and a bill's detail with its payments, where offline payments, refunds and voids are
// recorded. Money calls carry an idempotency key made when their dialog opens.
import { keepPreviousData, useMutation, useQueries, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { memo, useEffect, useMemo, useRef, useState, type FormEvent } from "react";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { useDebounced } from "../hooks";
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
import { asIpcError } from "../ipc/invoke";
import { billStatusLabel, channelLabel, localTime } from "../labels";
import { formatMoney, minus } from "../money";
import { flatten, keys, useAccounts, useClasses, useRefreshAll, useTerms, useTree } from "../queries";

const PAGE = 200;
const ROW_HEIGHT = 36;

export function Bills() {
  const { t, lang } = useI18n();
  const tree = useTree();
  const terms = useTerms();
  const classes = useClasses();
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
  // Classes as STORE/NAME, of the chosen term when there is one.
  const classOptions = useMemo(() => {
    const seen = new Set<string>();
    return (classes.data ?? [])
      .filter((c) => !term || c.term_name === term)
      .map((c) => `${c.unit_code}/${c.name}`)
      .filter((v) => (seen.has(v) ? false : (seen.add(v), true)))
      .sort();
  }, [classes.data, term]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const [total, setTotal] = useState(0);
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const first = items.length ? Math.floor(items[0].index / PAGE) : 0;
  const last = items.length ? Math.floor(items[items.length - 1].index / PAGE) : 0;
  const pageIndexes: number[] = [];
  for (let p = first; p <= last; p++) pageIndexes.push(p);
  const pages = useQueries({
    queries: pageIndexes.map((p) => ({
      queryKey: [...keys.bills, filter, p],
      queryFn: () => billPage(filter, p * PAGE, PAGE),
      staleTime: 30_000,
      placeholderData: p === 0 ? keepPreviousData : undefined,
    })),
  });
  const firstPage = pages[0]?.data;
  useEffect(() => {
    if (firstPage) setTotal(firstPage.total);
  }, [firstPage]);
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [filter]);
  const rows = new Map<number, Bill[]>();
  pages.forEach((q, i) => q.data && rows.set(pageIndexes[i], q.data.bills));
  const error = pages.find((q) => q.error)?.error;
  const numbers = useMemo(() => new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en"), [lang]);
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
          <label>
            <span>{t("classes.term")}</span>
            <select data-testid="bill-term" value={term} onChange={(e) => setTerm(e.target.value)}>
              <option value="">{t("common.all")}</option>
              {(terms.data ?? []).map((x) => (
                <option key={x.id} value={x.name}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t("members.class")}</span>
            <select data-testid="bill-class" value={className} onChange={(e) => setClassName(e.target.value)}>
              <option value="">{t("common.all")}</option>
              {classOptions.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </label>
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
                bill={rows.get(Math.floor(item.index / PAGE))?.[item.index % PAGE]}
                statusText={statusText}
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
  selected,
  onSelect,
}: {
  index: number;
  start: number;
  bill: Bill | undefined;
  statusText: Record<string, string>;
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

type Action = { kind: "pay" } | { kind: "void" } | { kind: "refund"; payment: BillPayment };

/** One bill: its figures, its payments, and what can be done with it. */
function BillDrawer({ billId, onClose }: { billId: number; onClose: () => void }) {
  const { t } = useI18n();
  const detail = useQuery({ queryKey: [...keys.bill, billId], queryFn: () => billGet(billId) });
  const [action, setAction] = useState<Action | null>(null);
  const [flash, setFlash] = useState("");
  useEffect(() => setFlash(""), [billId]);
  const bill = detail.data?.bill;
  const payments = detail.data?.payments ?? [];
  const payable = bill && (bill.status === "open" || bill.status === "partial");
  const voidable = bill && bill.status === "open" && bill.amount_paid === "0.00";

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
            {payable && (
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
          <h4>{t("bills.payments")}</h4>
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
      onDone(
        t("bills.paidFlash", {
          amount: formatMoney(result.amount),
          status: billStatusLabel(t, result.status),
          outstanding: formatMoney(result.outstanding),
        }),
      );
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
  const refund = useMutation({
    mutationFn: () => refundRecord({ payment_id: payment.payment_id, amount, reason, key }),
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
      <form className="dialog-form" onSubmit={submit}>
        <label>
          <span>{t("bills.amount")}</span>
          <input data-testid="refund-amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
        </label>
        <label>
          <span>{t("bills.reason")}</span>
          <input data-testid="refund-reason" value={reason} placeholder={t("bills.refundReasonPlaceholder")} onChange={(e) => setReason(e.target.value)} />
        </label>
        <ErrorNote error={refund.error && asIpcError(refund.error)} testId="refund-error" />
        <div className="row-form dialog-actions">
          <button type="submit" className="primary" data-testid="refund-submit" disabled={refund.isPending}>
            {t("bills.refund")}
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
