// Reports: choose a month and a unit (its subtree), export the monthly report workbook with a
// progress bar (one step per sheet) and a cancel button; the figures of the export are shown.
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { onReportProgress, reportCancel, reportMonthlyExport, type ReportProgress } from "../ipc/reports";
import { formatMoney, formatRate } from "../money";
import { flatten, useAppInfo, useTree } from "../queries";
import { beijingToday } from "./Reconciliation";

export function Reports() {
  const { t } = useI18n();
  const info = useAppInfo();
  const tree = useTree();
  const units = flatten(tree.data).map((u) => u.node);
  const [picked, setPicked] = useState("");
  const unit = picked || tree.data?.code || "";
  const [month, setMonth] = useState(beijingToday().slice(0, 7));
  const [testPath, setTestPath] = useState("");
  const [progress, setProgress] = useState<ReportProgress | null>(null);
  const job = useRef("");
  useEffect(() => {
    const unlisten = onReportProgress((p) => {
      if (p.job_id === job.current) setProgress(p);
    });
    return () => void unlisten.then((stop) => stop());
  }, []);
  const exporting = useMutation({
    mutationFn: (out?: string) => {
      job.current = `report-${Date.now()}`;
      setProgress(null);
      return reportMonthlyExport(month, unit, t("reports.exportTitle"), job.current, out);
    },
  });
  const done = exporting.data;
  const fraction = progress?.total ? Math.min(1, progress.done / progress.total) : null;

  return (
    <div className="stack" data-testid="reports-page">
      <section className="card">
        <p className="muted">{t("reports.lead")}</p>
        <div className="row-form">
          <label className="inline">
            <span>{t("reports.month")}</span>
            <input type="month" data-testid="reports-month" value={month} onChange={(e) => setMonth(e.target.value)} />
          </label>
          <label className="inline">
            <span>{t("reports.unit")}</span>
            <select data-testid="reports-unit" value={unit} onChange={(e) => setPicked(e.target.value)}>
              <UnitOptions units={units} />
            </select>
          </label>
          <button type="button" className="primary" data-testid="reports-export" disabled={exporting.isPending || !unit} onClick={() => exporting.mutate(undefined)}>
            {exporting.isPending ? t("reports.exporting") : t("reports.export")}
          </button>
          {info.data?.e2e && (
            <>
              <input data-testid="reports-path" value={testPath} placeholder={t("import.testPath")} onChange={(e) => setTestPath(e.target.value)} size={40} />
              <button type="button" data-testid="reports-use" disabled={exporting.isPending} onClick={() => testPath.trim() && exporting.mutate(testPath.trim())}>
                {t("import.testUse")}
              </button>
            </>
          )}
        </div>
        {exporting.isPending && (
          <div className="progress" data-testid="reports-progress">
            <div className={fraction === null ? "bar indeterminate" : "bar"}>
              <div className="fill" style={{ width: fraction === null ? "30%" : `${Math.round(fraction * 100)}%` }} />
            </div>
            <span className="muted small">{progress ? t("reports.progress", { done: progress.done, total: progress.total ?? "?" }) : ""}</span>
            <button type="button" data-testid="reports-cancel" onClick={() => void reportCancel(job.current)}>
              {t("reports.cancel")}
            </button>
          </div>
        )}
        {done && (
          <div data-testid="reports-result" data-sheets={done.sheets.length} data-charts={done.charts} data-file={done.file}>
            <p className="ok small">{t("reports.done", { file: done.file, sheets: done.sheets.length, charts: done.charts })}</p>
            <div className="tiles money-tiles report-tiles">
              {(
                [
                  ["billed", "reports.billed", formatMoney(done.billed), done.billed],
                  ["collected", "reports.collected", formatMoney(done.collected), done.collected],
                  ["refunded", "reports.refunded", formatMoney(done.refunded), done.refunded],
                  ["outstanding", "reports.outstanding", formatMoney(done.outstanding), done.outstanding],
                  ["rate", "reports.rate", formatRate(done.collection_rate), done.collection_rate],
                  ["fees", "reports.fees", formatMoney(done.channel_fees), done.channel_fees],
                ] as const
              ).map(([id, label, value, raw]) => (
                <Figure key={id} testId={`report-tile-${id}`} label={t(label)} value={value} raw={raw} />
              ))}
            </div>
            <p className="muted small">{done.sheets.join(" · ")}</p>
          </div>
        )}
        <ErrorNote error={exporting.error && asIpcError(exporting.error)} testId="reports-error" />
      </section>
    </div>
  );
}
