// Reconciliation: pick a WeChat Pay or Alipay account and a period; import its statements (a
// file picked in the native dialog, or the day's bill downloaded through the channel); run;
// see every class counted and every discrepancy with what to do about it (record the missing
// payment, explain, follow up); export the workbook. All matching and every rule is the core's.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n, type MessageKey } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import {
  reconcileExport,
  reconcileItems,
  reconcileResolve,
  reconcileRun,
  statementDownload,
  statementImport,
  statementPickFile,
  type ReconItem,
  type ReconPeriod,
  type Resolution,
  type StatementImport,
} from "../ipc/reconciliation";
import { e2eUseFile } from "../ipc/roster";
import { isChannel } from "../labels";
import { formatMoney } from "../money";
import { keys, useAccounts, useAppInfo, useRefreshAll } from "../queries";

const CLASSES = ["matched", "amount_mismatch", "ours_only", "channel_only", "refund_mismatch"] as const;

/** Today in the institution's calendar (Asia/Shanghai), as YYYY-MM-DD. */
export function beijingToday(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}

export function Reconciliation() {
  const { t } = useI18n();
  const accounts = useAccounts();
  const channelAccounts = (accounts.data ?? []).filter((a) => isChannel(a.channel) && !a.archived);
  const [picked, setPicked] = useState("");
  const account = picked || channelAccounts[0]?.name || "";
  const [from, setFrom] = useState(beijingToday());
  const [to, setTo] = useState(beijingToday());
  const period: ReconPeriod = { account, from, to };

  if (accounts.data && channelAccounts.length === 0) {
    return <p className="card muted" data-testid="recon-no-accounts">{t("recon.noAccounts")}</p>;
  }
  return (
    <div className="stack" data-testid="recon-page">
      <div className="toolbar">
        <label className="inline">
          <span>{t("recon.account")}</span>
          <select data-testid="recon-account" value={account} onChange={(e) => setPicked(e.target.value)}>
            {channelAccounts.map((a) => (
              <option key={a.id} value={a.name}>
                {a.name} · {a.unit_code}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <span>{t("recon.from")}</span>
          <input type="date" data-testid="recon-from" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label className="inline">
          <span>{t("recon.to")}</span>
          <input type="date" data-testid="recon-to" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
      </div>
      {account && (
        <>
          <Statements account={account} day={to} />
          <Run period={period} />
          <Items period={period} />
          <Export period={period} />
        </>
      )}
    </div>
  );
}

function ImportResult({ result }: { result: StatementImport }) {
  const { t } = useI18n();
  return (
    <p className="ok small" data-testid="recon-import-result" data-new={result.new} data-duplicate={String(result.duplicate_file)}>
      {result.duplicate_file
        ? t("recon.duplicate", { file: result.file })
        : t("recon.imported", { file: result.file, lines: result.lines_read, payments: result.payments, refunds: result.refunds, new: result.new })}
    </p>
  );
}

function Statements({ account, day }: { account: string; day: string }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const refresh = useRefreshAll();
  const [testPath, setTestPath] = useState("");
  const importing = useMutation({
    mutationFn: async (testFile?: string) => {
      const file = testFile ? await e2eUseFile(testFile) : await statementPickFile(t("recon.pickTitle"));
      return file ? statementImport(file, account) : null;
    },
    onSuccess: () => refresh(),
  });
  const download = useMutation({ mutationFn: () => statementDownload(account, day), onSuccess: () => refresh() });
  const result = importing.data ?? download.data;
  return (
    <section className="card">
      <h2>{t("recon.statements")}</h2>
      <div className="row-form">
        <button type="button" data-testid="recon-pick" disabled={importing.isPending} onClick={() => importing.mutate(undefined)}>
          {t("recon.pick")}
        </button>
        <button type="button" data-testid="recon-download" disabled={download.isPending} onClick={() => download.mutate()}>
          {t("recon.download", { date: day })}
        </button>
        {info.data?.e2e && (
          <>
            <input data-testid="recon-file-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={40} />
            <button type="button" data-testid="recon-file-use" onClick={() => testPath.trim() && importing.mutate(testPath.trim())}>
              {t("import.testUse")}
            </button>
          </>
        )}
      </div>
      {result && <ImportResult result={result} />}
      <ErrorNote error={importing.error && asIpcError(importing.error)} testId="recon-import-error" />
      <ErrorNote error={download.error && asIpcError(download.error)} testId="recon-download-error" />
    </section>
  );
}

function Run({ period }: { period: ReconPeriod }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const run = useMutation({ mutationFn: () => reconcileRun(period), onSuccess: () => refresh() });
  const { reset } = run;
  useEffect(() => reset(), [period.account, period.from, period.to, reset]);
  const s = run.data;
  return (
    <section className="card">
      <div className="row-form">
        <button type="button" className="primary" data-testid="recon-run" disabled={run.isPending} onClick={() => run.mutate()}>
          {run.isPending ? t("recon.running") : t("recon.run")}
        </button>
      </div>
      {s && (
        <div data-testid="recon-summary" data-run={s.run_id}>
          <h3>{t("recon.summary", { from: s.from, to: s.to, lines: s.lines })}</h3>
          <div className="tiles">
            {CLASSES.map((c) => (
              <div key={c} className={`tile recon-${c}`} data-testid={`recon-tile-${c}`} data-count={s[c].count} data-amount={s[c].amount}>
                <div className="tile-label">{t(`recon.class.${c}` as MessageKey)}</div>
                <div className="tile-value">{s[c].count}</div>
                <div className="tile-sub">{formatMoney(s[c].amount)}</div>
              </div>
            ))}
            <div className="tile" data-testid="recon-tile-fees" data-amount={s.fees_total}>
              <div className="tile-label">{t("recon.fees")}</div>
              <div className="tile-value">{formatMoney(s.fees_total)}</div>
              <div className="tile-sub">{t("recon.feesPosted", { amount: formatMoney(s.fees_posted) })}</div>
            </div>
            <div className="tile" data-testid="recon-tile-open" data-count={s.open_items}>
              <div className="tile-label">{t("recon.open")}</div>
              <div className="tile-value">{s.open_items}</div>
            </div>
          </div>
        </div>
      )}
      <ErrorNote error={run.error && asIpcError(run.error)} testId="recon-run-error" />
    </section>
  );
}

function Items({ period }: { period: ReconPeriod }) {
  const { t } = useI18n();
  const items = useQuery({
    queryKey: [...keys.all, "recon-items", period.account, period.from, period.to],
    queryFn: () => reconcileItems({ account: period.account, from: period.from, to: period.to, class: null, status: null }),
  });
  const [resolving, setResolving] = useState<{ item: ReconItem; action: Resolution } | null>(null);
  const rows = items.data ?? [];
  return (
    <section className="card">
      <h2>{t("recon.items")}</h2>
      {rows.length === 0 ? (
        <p className="muted" data-testid="recon-no-items">{t("recon.noItems")}</p>
      ) : (
        <div className="table-scroll">
          <table className="recon-table" data-testid="recon-items">
            <thead>
              <tr>
                <th>{t("recon.col.day")}</th>
                <th>{t("recon.col.class")}</th>
                <th>{t("recon.col.kind")}</th>
                <th>{t("recon.col.order")}</th>
                <th className="num">{t("recon.col.channel")}</th>
                <th className="num">{t("recon.col.ours")}</th>
                <th>{t("recon.col.reason")}</th>
                <th>{t("recon.col.status")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {rows.map((item) => (
                <tr key={item.id} className={`recon-${item.class}`} data-testid="recon-item" data-id={item.id} data-class={item.class} data-status={item.status}>
                  <td className="nowrap">{item.day}</td>
                  <td className="nowrap">{t(`recon.class.${item.class}` as MessageKey)}</td>
                  <td>{t(`recon.kind.${item.kind}` as MessageKey)}</td>
                  <td className="mono small">{item.out_trade_no ?? item.out_refund_no ?? "-"}</td>
                  <td className="num">{item.channel_amount ? formatMoney(item.channel_amount) : "-"}</td>
                  <td className="num">{item.our_amount ? formatMoney(item.our_amount) : "-"}</td>
                  <td className="small">
                    {item.reason}
                    {item.note && <div className="muted">✎ {item.note}</div>}
                  </td>
                  <td className="nowrap">{t(`recon.status.${item.status}` as MessageKey)}</td>
                  <td className="nowrap">
                    {(item.status === "open" || item.status === "follow_up") &&
                      (["record", "explain", "follow-up"] as Resolution[])
                        .filter((a) => a !== "record" || (item.class === "channel_only" && item.kind === "payment"))
                        .filter((a) => a !== "follow-up" || item.status === "open")
                        .map((action) => (
                          <button key={action} type="button" className="small" data-testid={`recon-${action}-${item.id}`} onClick={() => setResolving({ item, action })}>
                            {t(`recon.action.${action}` as MessageKey)}
                          </button>
                        ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {resolving && <ResolveForm item={resolving.item} action={resolving.action} onDone={() => setResolving(null)} />}
    </section>
  );
}

function ResolveForm({ item, action, onDone }: { item: ReconItem; action: Resolution; onDone: () => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [note, setNote] = useState("");
  const [bill, setBill] = useState("");
  const resolve = useMutation({
    mutationFn: () => reconcileResolve(item.id, action, note, bill.trim() ? Number(bill) : undefined),
    onSuccess: async () => {
      await refresh();
      onDone();
    },
  });
  return (
    <form
      className="row-form"
      data-testid="recon-resolve-form"
      onSubmit={(e) => {
        e.preventDefault();
        resolve.mutate();
      }}
    >
      <strong>
        #{item.id} {t(`recon.action.${action}` as MessageKey)}
      </strong>
      <input data-testid="recon-note" placeholder={t("recon.note")} value={note} onChange={(e) => setNote(e.target.value)} size={40} />
      {action === "record" && <input data-testid="recon-bill" placeholder={t("recon.bill")} value={bill} onChange={(e) => setBill(e.target.value)} size={12} />}
      <button type="submit" className="primary" data-testid="recon-resolve-confirm" disabled={resolve.isPending}>
        {t("recon.confirm")}
      </button>
      <button type="button" onClick={onDone}>
        {t("common.cancel")}
      </button>
      <ErrorNote error={resolve.error && asIpcError(resolve.error)} testId="recon-resolve-error" />
    </form>
  );
}

function Export({ period }: { period: ReconPeriod }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const refresh = useRefreshAll();
  const [testPath, setTestPath] = useState("");
  const exporting = useMutation({
    mutationFn: (out?: string) => reconcileExport(period, t("recon.export"), out),
    onSuccess: () => refresh(),
  });
  const done = exporting.data;
  return (
    <section className="card">
      <div className="row-form">
        <button type="button" data-testid="recon-export" disabled={exporting.isPending} onClick={() => exporting.mutate(undefined)}>
          {exporting.isPending ? t("recon.exporting") : t("recon.export")}
        </button>
        {info.data?.e2e && (
          <>
            <input data-testid="recon-export-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={40} />
            <button type="button" data-testid="recon-export-use" onClick={() => testPath.trim() && exporting.mutate(testPath.trim())}>
              {t("import.testUse")}
            </button>
          </>
        )}
      </div>
      {done && (
        <p className="ok small" data-testid="recon-export-result" data-file={done.file}>
          {t("recon.exported", { file: done.file, matched: done.matched_rows, discrepancies: done.discrepancy_rows })}
        </p>
      )}
      <ErrorNote error={exporting.error && asIpcError(exporting.error)} testId="recon-export-error" />
    </section>
  );
}
