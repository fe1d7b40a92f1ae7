// Receipts: search by number or name, member, term, class and date range; a receipt's preview
// (drawn from its record, as its PDF prints it); its archived PDF saved to print or send; void
// (红冲) with a reason, which reissues it; a class's or a term's PDFs as a zip; and verify.
import { useMutation, useQuery } from "@tanstack/react-query";
import { memo, useEffect, useMemo, useState, type FormEvent } from "react";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { TermClassFilter } from "../components/TermClassFilter";
import { useDebounced } from "../hooks";
import { useI18n, type MessageKey } from "../i18n";
import { svgDataUrl } from "../ipc/collection";
import { asIpcError } from "../ipc/invoke";
import {
  receiptExport,
  receiptGet,
  receiptPage,
  receiptSavePdf,
  receiptSetPaper,
  receiptSettings,
  receiptVerify,
  receiptVoid,
  type Paper,
  type Receipt,
  type ReceiptContent,
  type ReceiptFilter,
} from "../ipc/receipts";
import { localTime } from "../labels";
import { formatMoney } from "../money";
import { usePagedList } from "../pagedList";
import { keys, useAppInfo, useRefreshAll } from "../queries";
import type { ReceiptFocus } from "../receiptLink";
import "./receipts.css";

const PAGE = 200;
const ROW_HEIGHT = 36;
const receiptKeys = { list: [...keys.all, "receipts"] as const, one: [...keys.all, "receipt"] as const };

export function Receipts({ focus, onClearFocus }: { focus: ReceiptFocus | null; onClearFocus: () => void }) {
  const { t } = useI18n();
  const [search, setSearch] = useState("");
  const [member, setMember] = useState("");
  const [term, setTerm] = useState("");
  const [className, setClassName] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [selected, setSelected] = useState<string | null>(null);
  const debouncedSearch = useDebounced(search, 250);
  const debouncedMember = useDebounced(member, 250);
  const filter: ReceiptFilter = useMemo(
    () => ({
      member_no: debouncedMember.trim() || null,
      class_name: className || null,
      term_name: term || null,
      from: from || null,
      to: to || null,
      search: debouncedSearch.trim() || null,
      payment_id: focus?.paymentId ?? null,
      bill_id: focus?.billId ?? null,
    }),
    [debouncedMember, className, term, from, to, debouncedSearch, focus],
  );
  const { scrollRef, virtualizer, items, firstPage, rowAt, error } = usePagedList({
    queryKey: [...receiptKeys.list, filter],
    fetchPage: (offset, limit) => receiptPage(filter, offset, limit),
    rowsOf: (page) => page.receipts,
    pageSize: PAGE,
    rowHeight: ROW_HEIGHT,
    resetOn: filter,
  });
  // Opened on one payment's receipts: show its live receipt at once.
  useEffect(() => {
    const only = firstPage?.receipts;
    if (focus?.paymentId && only) {
      const live = only.find((r) => r.status === "issued") ?? only[0];
      if (live) setSelected(live.number);
    }
  }, [focus, firstPage]);

  return (
    <div className="stack">
      <section className="card">
        <div className="row-form filters">
          <input type="search" className="grow" data-testid="receipt-search" placeholder={t("receipts.search")} value={search} onChange={(e) => setSearch(e.target.value)} />
          <label>
            <span>{t("members.no")}</span>
            <input data-testid="receipt-member" value={member} size={10} onChange={(e) => setMember(e.target.value)} />
          </label>
          <TermClassFilter
            testIdPrefix="receipt"
            term={term}
            onTerm={setTerm}
            className={className}
            onClassName={setClassName}
          />
          <label>
            <span>{t("receipts.from")}</span>
            <input type="date" data-testid="receipt-from" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            <span>{t("receipts.to")}</span>
            <input type="date" data-testid="receipt-to" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
        </div>
        {focus && (
          <p className="receipt-focus" data-testid="receipt-focus">
            {focus.label}
            <button type="button" data-testid="receipt-focus-clear" onClick={onClearFocus}>
              {t("receipts.showAll")}
            </button>
          </p>
        )}
        <div className="row-form receipt-tools">
          <span className="muted small" data-testid="receipt-count" data-total={firstPage?.total ?? ""}>
            {firstPage ? t("receipts.count", { n: firstPage.total }) : "…"}
          </span>
          <Export filter={filter} />
          <Verify />
          <PaperSetting />
        </div>
      </section>
      <section className="card bills-card">
        <ErrorNote error={error && asIpcError(error)} testId="receipt-error" />
        <div className="receipt-grid member-head" role="row">
          <span>{t("receipts.number")}</span>
          <span>{t("receipts.issuedAt")}</span>
          <span>{t("members.no")}</span>
          <span>{t("members.name")}</span>
          <span>{t("receipts.payer")}</span>
          <span>{t("bills.fee")}</span>
          <span className="num">{t("receipts.amount")}</span>
          <span>{t("members.status")}</span>
        </div>
        <div className="member-scroll" ref={scrollRef} data-testid="receipt-list">
          {firstPage && firstPage.total === 0 && <p className="muted empty">{t("receipts.empty")}</p>}
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((item) => (
              <ReceiptRow key={item.key} start={item.start} receipt={rowAt(item.index)} selected={selected} onSelect={setSelected} />
            ))}
          </div>
        </div>
      </section>
      {selected !== null && <ReceiptDrawer number={selected} onClose={() => setSelected(null)} onOpen={setSelected} />}
    </div>
  );
}

const ReceiptRow = memo(function ReceiptRow({
  start,
  receipt,
  selected,
  onSelect,
}: {
  start: number;
  receipt: Receipt | undefined;
  selected: string | null;
  onSelect: (number: string) => void;
}) {
  const { t } = useI18n();
  const style = { height: ROW_HEIGHT, transform: `translateY(${start}px)` };
  if (!receipt)
    return (
      <div className="receipt-grid member-row" style={style}>
        <span className="muted">…</span>
      </div>
    );
  return (
    <div
      className={`receipt-grid member-row bill-row${selected === receipt.number ? " selected" : ""}`}
      style={style}
      role="button"
      tabIndex={0}
      onKeyDown={(e) => (e.key === "Enter" || e.key === " ") && onSelect(receipt.number)}
      data-testid="receipt-row"
      data-number={receipt.number}
      data-status={receipt.status}
      data-amount={receipt.amount}
      onClick={() => onSelect(receipt.number)}
    >
      <span className="mono">{receipt.number}</span>
      <span className="nowrap">{localTime(receipt.issued_at)}</span>
      <span>{receipt.member_no}</span>
      <span>{receipt.member_name}</span>
      <span>{receipt.payer}</span>
      <span>{receipt.fee_item}</span>
      <span className="num">{formatMoney(receipt.amount)}</span>
      <span>
        <span className={`status receipt-${receipt.status}`}>{t(`receipts.status.${receipt.status}` as MessageKey)}</span>
        {!receipt.sha256 && <span className="muted small"> · {t("receipts.pending")}</span>}
      </span>
    </div>
  );
});

/** One receipt: its preview, and what can be done with it. */
function ReceiptDrawer({ number, onClose, onOpen }: { number: string; onClose: () => void; onOpen: (number: string) => void }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const view = useQuery({ queryKey: [...receiptKeys.one, number], queryFn: () => receiptGet(number) });
  const [voiding, setVoiding] = useState(false);
  const [testPath, setTestPath] = useState("");
  const save = useMutation({ mutationFn: (out?: string) => receiptSavePdf(number, t("receipts.saveTitle", { number }), out) });
  const { reset } = save;
  useEffect(() => reset(), [number, reset]);
  const detail = view.data?.detail;
  const r = detail?.receipt;
  return (
    <aside className="drawer card receipt-drawer" data-testid="receipt-detail" data-number={number} aria-label={t("receipts.detail")}>
      <header className="dialog-head">
        <h3>{t("receipts.detailTitle", { number })}</h3>
        <button type="button" className="close" aria-label={t("common.close")} data-testid="receipt-detail-close" onClick={onClose}>
          ×
        </button>
      </header>
      {view.isPending && <p className="muted">{t("common.loading")}</p>}
      <ErrorNote error={view.error && asIpcError(view.error)} testId="receipt-detail-error" />
      {detail && r && view.data && (
        <>
          <ReceiptPreview content={detail.content} qrSvg={view.data.qr_svg} hash={r.hash} />
          <dl className="facts small">
            <dt>{t("members.status")}</dt>
            <dd data-testid="receipt-detail-status" data-status={r.status}>
              {t(`receipts.status.${r.status}` as MessageKey)}
              {r.reversed_by && (
                <button type="button" className="link" data-testid="receipt-reversed-by" onClick={() => onOpen(r.reversed_by ?? "")}>
                  {t("receipts.reversedBy", { number: r.reversed_by })}
                </button>
              )}
              {r.original && (
                <button type="button" className="link" data-testid="receipt-original" onClick={() => onOpen(r.original ?? "")}>
                  {t(r.status === "reversal" ? "receipts.reverses" : "receipts.replaces", { number: r.original })}
                </button>
              )}
            </dd>
            <dt>{t("receipts.pdf")}</dt>
            <dd className="mono small" data-testid="receipt-detail-sha" data-sha={r.sha256 ?? ""}>
              {r.sha256 ? `SHA-256 ${r.sha256.slice(0, 16)}…` : t("receipts.pending")}
            </dd>
          </dl>
          <div className="row-form">
            <button type="button" className="primary" data-testid="receipt-print" onClick={() => window.print()}>
              {t("receipts.print")}
            </button>
            <button type="button" data-testid="receipt-save" disabled={save.isPending} onClick={() => save.mutate(undefined)}>
              {t("receipts.savePdf")}
            </button>
            {r.status === "issued" && (
              <button type="button" className="danger" data-testid="receipt-void" onClick={() => setVoiding(true)}>
                {t("receipts.void")}
              </button>
            )}
          </div>
          {info.data?.e2e && (
            <div className="row-form">
              <input data-testid="receipt-save-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={36} />
              <button type="button" data-testid="receipt-save-use" onClick={() => testPath.trim() && save.mutate(testPath.trim())}>
                {t("import.testUse")}
              </button>
            </div>
          )}
          {save.data && (
            <p className="ok small" data-testid="receipt-saved" data-file={save.data}>
              {t("receipts.saved", { file: save.data })}
            </p>
          )}
          <ErrorNote error={save.error && asIpcError(save.error)} testId="receipt-save-error" />
          {voiding && (
            <VoidDialog
              number={number}
              onClose={() => setVoiding(false)}
              onDone={(reissued) => {
                setVoiding(false);
                if (reissued) onOpen(reissued);
              }}
            />
          )}
        </>
      )}
    </aside>
  );
}

/** The receipt as its PDF prints it, drawn from the same record (the PDF is the archived file). */
function ReceiptPreview({ content: c, qrSvg, hash }: { content: ReceiptContent; qrSvg: string; hash: string }) {
  const reversal = c.kind === "reversal";
  const dash = "—";
  const notes = [
    c.original ? (reversal ? `冲销原收据 No. ${c.original}` : `替代原收据 No. ${c.original}`) : null,
    c.note,
    `账单 #${c.bill_id} · 付款 #${c.payment_id}`,
  ].filter(Boolean);
  return (
    <div className={`receipt-preview${reversal ? " reversal" : ""}`} data-testid="receipt-preview" lang="zh-CN">
      <div className="rp-head">
        <div className="rp-inst">{c.institution || c.issuer_name}</div>
        <div className="rp-title">{reversal ? "收款收据（红冲）" : "收款收据"}</div>
        <div className="rp-no">No. {c.number}</div>
      </div>
      <div className="rp-meta">
        <span>开票单位：{c.issuer_name}（{c.issuer_code}）</span>
        <span>开票时间：{localTime(c.issued_at)}</span>
      </div>
      <table className="rp-table">
        {/* Fixed columns: a long transaction number breaks inside its own cell instead of
            squeezing the Chinese cells to one character per line. */}
        <colgroup>
          <col className="rp-col-th" />
          <col />
          <col className="rp-col-th" />
          <col />
        </colgroup>
        <tbody>
          <tr>
            <th>交款人</th>
            <td data-testid="rp-payer">{c.payer}</td>
            <th>学员</th>
            <td>
              {c.member_name}（{c.member_no}）
            </td>
          </tr>
          <tr>
            <th>班级</th>
            <td>{c.class ?? dash}</td>
            <th>学期</th>
            <td>{c.term ?? dash}</td>
          </tr>
          <tr>
            <th>收费项目</th>
            <td>{c.fee_item}</td>
            <th>金额（小写）</th>
            <td className="rp-amount" data-testid="rp-amount">
              {formatMoney(c.amount)}
            </td>
          </tr>
          <tr>
            <th>金额（大写）</th>
            <td colSpan={3} className="rp-amount" data-testid="rp-capitals">
              人民币 {c.amount_capitals}
            </td>
          </tr>
          <tr>
            <th>支付方式</th>
            <td>
              {c.channel} · {c.account}
            </td>
            <th>交易号/凭证号</th>
            <td className="rp-ref" data-testid="rp-reference">
              {c.reference ?? dash}
            </td>
          </tr>
          <tr>
            <th>备注</th>
            <td colSpan={3}>{notes.join("；")}</td>
          </tr>
        </tbody>
      </table>
      <div className="rp-foot">
        <div>
          <div>
            收款单位（盖章）：{c.issuer_name}　　经办人：{c.operator.replace(/^local:/, "")}
          </div>
          <div className="rp-hash">校验码（SHA-256）：{hash.slice(0, 32)}</div>
        </div>
        <img src={svgDataUrl(qrSvg)} alt="QR" width={84} height={84} />
      </div>
    </div>
  );
}

function VoidDialog({ number, onClose, onDone }: { number: string; onClose: () => void; onDone: (reissued: string | null) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [reason, setReason] = useState("");
  const voiding = useMutation({
    mutationFn: () => receiptVoid(number, reason),
    onSuccess: async (result) => {
      await refresh();
      onDone(result.reissued);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    voiding.mutate();
  };
  return (
    <Dialog title={t("receipts.voidTitle", { number })} testId="receipt-void-dialog" onClose={onClose}>
      <p className="muted small">{t("receipts.voidLead")}</p>
      <form className="dialog-form" onSubmit={submit}>
        <label>
          <span>{t("receipts.reason")}</span>
          <input data-testid="receipt-void-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <ErrorNote error={voiding.error && asIpcError(voiding.error)} testId="receipt-void-error" />
        <div className="row-form dialog-actions">
          <button type="submit" className="danger" data-testid="receipt-void-submit" disabled={voiding.isPending}>
            {t("receipts.voidSubmit")}
          </button>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** A class's or a term's PDFs as a zip, saved where the user picks. */
function Export({ filter }: { filter: ReceiptFilter }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const [testPath, setTestPath] = useState("");
  const what = filter.class_name ?? filter.term_name;
  const exporting = useMutation({ mutationFn: (out?: string) => receiptExport(filter, t("receipts.exportTitle", { what: what ?? "" }), out) });
  const { reset } = exporting;
  useEffect(() => reset(), [what, reset]);
  const done = exporting.data;
  return (
    <>
      <button type="button" data-testid="receipt-export" disabled={!what || exporting.isPending} title={what ? undefined : t("receipts.exportHint")} onClick={() => exporting.mutate(undefined)}>
        {what ? t("receipts.export", { what }) : t("receipts.exportNeeds")}
      </button>
      {info.data?.e2e && what && (
        <>
          <input data-testid="receipt-export-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={30} />
          <button type="button" data-testid="receipt-export-use" onClick={() => testPath.trim() && exporting.mutate(testPath.trim())}>
            {t("import.testUse")}
          </button>
        </>
      )}
      {done && (
        <span className="ok small" data-testid="receipt-exported" data-receipts={done.receipts} data-file={done.file}>
          {t("receipts.exported", { n: done.receipts, file: done.file })}
        </span>
      )}
      <ErrorNote error={exporting.error && asIpcError(exporting.error)} testId="receipt-export-error" />
    </>
  );
}

function Verify() {
  const { t } = useI18n();
  const verify = useMutation({ mutationFn: receiptVerify });
  const r = verify.data;
  return (
    <>
      <button type="button" data-testid="receipt-verify" disabled={verify.isPending} onClick={() => verify.mutate()}>
        {t("receipts.verify")}
      </button>
      {r && (
        <span className={r.intact ? "ok small" : "error-note small"} data-testid="receipt-verified" data-intact={String(r.intact)}>
          {r.intact
            ? t("receipts.intact", { n: r.receipts, files: r.files_checked, pending: r.pending.length })
            : t("receipts.broken", { first: r.problems[0] ?? "", n: r.problems.length })}
        </span>
      )}
      <ErrorNote error={verify.error && asIpcError(verify.error)} testId="receipt-verify-error" />
    </>
  );
}

/** The paper new receipts are archived on (A5 landscape, or A4 with a cut line). */
function PaperSetting() {
  const { t } = useI18n();
  const settings = useQuery({ queryKey: [...receiptKeys.list, "settings"], queryFn: receiptSettings });
  const setPaper = useMutation({ mutationFn: (paper: Paper) => receiptSetPaper(paper), onSuccess: () => settings.refetch() });
  return (
    <label className="receipt-paper">
      <span>{t("receipts.paper")}</span>
      <select
        data-testid="receipt-paper"
        value={settings.data?.paper ?? "a5"}
        disabled={!settings.data || setPaper.isPending}
        onChange={(e) => setPaper.mutate(e.target.value as Paper)}
      >
        <option value="a5">{t("receipts.paperA5")}</option>
        <option value="a4">{t("receipts.paperA4")}</option>
      </select>
      <ErrorNote error={setPaper.error && asIpcError(setPaper.error)} testId="receipt-paper-error" />
    </label>
  );
}
