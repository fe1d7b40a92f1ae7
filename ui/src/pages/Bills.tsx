// Bills & Collection: filters, the totals of everything they match, the bills (virtualised like
// the member list: only visible rows render, bill_page is asked for the pages they fall in),
// and a bill's detail with its payments, where offline payments, refunds and voids are
// recorded. Money calls carry an idempotency key made when their dialog opens. A bill collected
// into a WeChat Pay or Alipay account is collected by QR code (a dialog with the code and its
// live status), refunded through its channel, and a class's payment QR codes are exported as a
// workbook for its parent group.
import { useMutation } from "@tanstack/react-query";
import { memo, useEffect, useMemo, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { useDebounced } from "../hooks";
import { usePagedList } from "../pagedList";
import { TermClassFilter } from "../components/TermClassFilter";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n } from "../i18n";
import { BILL_STATUSES, billPage, type Bill, type BillFilter } from "../ipc/bills";
import { qrExportClass } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import { ReminderTierBadge, useReminderTiers } from "../components/ReminderTier";
import type { BillTier } from "../ipc/reminders";
import { billStatusLabel } from "../labels";
import { formatMoney } from "../money";
import { flatten, keys, useAppInfo, useRefreshAll, useTree } from "../queries";

import { BillDrawer } from "./BillDrawer";

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
          <Figure
            testId="bill-count"
            label={t("bills.count")}
            value={firstPage ? numbers.format(firstPage.total) : "…"}
            raw={firstPage ? String(firstPage.total) : ""}
            sub={firstPage && firstPage.voided > 0 ? t("bills.countVoided", { n: numbers.format(firstPage.voided) }) : undefined}
          />
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

export function StatusBadge({ status, text }: { status: string; text: string }) {
  return <span className={`status status-${status}`}>{text}</span>;
}

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
