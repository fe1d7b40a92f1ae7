// The roster import wizard: pick a file, choose unit and term, preview (detected sheet, header
// row, editable column mapping, every row problem pinned to row and column), choose the mode,
// import with progress and cancel, then the result and the error workbook.
import { useMutation } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n, type MessageKey } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import {
  FIELDS,
  e2eUseFile,
  jobCancel,
  onImportProgress,
  rosterImport,
  rosterPickFile,
  rosterPreview,
  saveErrorWorkbook,
  type Field,
  type ImportMode,
  type ImportProgress,
  type ImportReport,
  type RosterRequest,
} from "../ipc/roster";
import { flatten, useAppInfo, useRefreshAll, useTerms, useTree } from "../queries";
import { UnitOptions } from "../components/UnitOptions";

/** How many problem rows the preview lists; the error workbook has them all. */
const SHOWN_ERRORS = 500;

export function ImportWizard({ onHistory }: { onHistory: () => void }) {
  const { t } = useI18n();
  const info = useAppInfo();
  const tree = useTree();
  const terms = useTerms();
  const refresh = useRefreshAll();
  const units = flatten(tree.data).map((u) => u.node).filter((u) => !u.archived);

  const [file, setFile] = useState<string | null>(null);
  const [testPath, setTestPath] = useState("");
  const [unit, setUnit] = useState("");
  const [term, setTerm] = useState<string | null>(null);
  const [createClasses, setCreateClasses] = useState(false);
  const [mapping, setMapping] = useState<Record<string, Field | null>>({});
  const [mode, setMode] = useState<ImportMode>("valid");
  const [progress, setProgress] = useState<ImportProgress | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [manualHeader, setManualHeader] = useState("");
  const [manualField, setManualField] = useState<Field>("guardian_phone");
  const jobRef = useRef<string | null>(null);
  const resultRef = useRef<HTMLDivElement>(null);

  const unitCode = unit || units[0]?.code || "";
  const termName = term ?? terms.data?.[0]?.name ?? "";

  const request = (overrides: Record<string, Field | null>): RosterRequest => ({
    file: file ?? "",
    unit_code: unitCode,
    term_name: termName || null,
    sheet: null,
    overrides: Object.entries(overrides).map(([header, field]) => ({ header, field })),
    create_classes: createClasses,
    mode,
  });

  const preview = useMutation({ mutationFn: (req: RosterRequest) => rosterPreview(req) });
  const commit = useMutation({
    mutationFn: async (req: RosterRequest) => {
      const jobId = `import-${Date.now()}`;
      jobRef.current = jobId;
      setProgress(null);
      const unlisten = await onImportProgress((p) => p.job_id === jobId && setProgress(p));
      try {
        return await rosterImport(req, jobId);
      } finally {
        unlisten();
        jobRef.current = null;
      }
    },
    onSettled: () => refresh(),
  });

  // A new file or scope starts over.
  useEffect(() => {
    preview.reset();
    commit.reset();
    setMapping({});
    setSaved(null);
  }, [file, unitCode, termName, createClasses]);

  useEffect(() => {
    if (commit.data) resultRef.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }, [commit.data]);

  const report: ImportReport | undefined = preview.data;
  const mappingChanged = report ? report.columns.some((c) => c.header in mapping && mapping[c.header] !== c.field) : false;
  const result = commit.data;

  const pick = useMutation({
    mutationFn: (testPath?: string) => (testPath ? e2eUseFile(testPath) : rosterPickFile(t("import.pickTitle"))),
    onSuccess: (path) => path && setFile(path),
  });
  const save = useMutation({
    mutationFn: (from: string) => saveErrorWorkbook(from, t("import.saveTitle")),
    onSuccess: (path) => path && setSaved(path),
  });

  return (
    <div className="stack wizard" data-testid="import-wizard">
      <section className="card">
        <h3>{t("import.step1")}</h3>
        <div className="row-form">
          <button type="button" data-testid="roster-pick" onClick={() => pick.mutate(undefined)} disabled={commit.isPending || pick.isPending}>
            {t("import.pick")}
          </button>
          <code className="file" data-testid="roster-file">
            {file ?? t("import.noFile")}
          </code>
        </div>
        {info.data?.e2e && (
          <div className="row-form test-hook">
            <label>
              <span>{t("import.testPath")}</span>
              <input data-testid="roster-path" value={testPath} onChange={(e) => setTestPath(e.target.value)} size={50} />
            </label>
            <button type="button" data-testid="roster-path-use" onClick={() => testPath.trim() && pick.mutate(testPath.trim())}>
              {t("import.testUse")}
            </button>
          </div>
        )}
        <ErrorNote error={pick.error && asIpcError(pick.error)} testId="pick-error" />
        <div className="row-form">
          <label>
            <span>{t("import.unit")}</span>
            <select data-testid="roster-unit" value={unitCode} onChange={(e) => setUnit(e.target.value)}>
              <UnitOptions units={units} />
            </select>
          </label>
          <label>
            <span>{t("import.term")}</span>
            <select data-testid="roster-term" value={termName} onChange={(e) => setTerm(e.target.value)}>
              <option value="">{t("common.none")}</option>
              {(terms.data ?? []).map((x) => (
                <option key={x.id} value={x.name}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" data-testid="roster-create-classes" checked={createClasses} onChange={(e) => setCreateClasses(e.target.checked)} />
            <span>{t("import.createClasses")}</span>
          </label>
          <button
            type="button"
            className="primary"
            data-testid="roster-preview"
            disabled={!file || !unitCode || preview.isPending || commit.isPending}
            onClick={() => preview.mutate(request(mapping))}
          >
            {preview.isPending ? t("firstRun.working") : t("import.preview")}
          </button>
        </div>
        <ErrorNote error={preview.error && asIpcError(preview.error)} testId="preview-error" />
        {preview.error && asIpcError(preview.error).code === "import_format" && (
          // A required column the core could not recognise: name its header and field here.
          <div className="row-form" data-testid="map-manual">
            <label>
              <span>{t("import.manualHeader")}</span>
              <input data-testid="map-manual-header" value={manualHeader} onChange={(e) => setManualHeader(e.target.value)} />
            </label>
            <label>
              <span>{t("import.manualField")}</span>
              <select data-testid="map-manual-field" value={manualField} onChange={(e) => setManualField(e.target.value as Field)}>
                {FIELDS.map((f) => (
                  <option key={f} value={f}>
                    {t(`field.${f}` as MessageKey)}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              data-testid="map-manual-apply"
              disabled={!manualHeader.trim() || preview.isPending}
              onClick={() => {
                const next = { ...mapping, [manualHeader.trim()]: manualField };
                setMapping(next);
                preview.mutate(request(next));
              }}
            >
              {t("import.repreview")}
            </button>
          </div>
        )}
      </section>

      {report && (
        <section className="card" data-testid="preview">
          <h3>{t("import.step2")}</h3>
          <p data-testid="preview-summary" data-rejected={report.rejected}>
            {t("import.summary", {
              sheet: report.sheet,
              header: report.header_row,
              rows: report.rows_read,
              ok: report.imported + report.updated + report.unchanged,
              bad: report.rejected,
            })}
          </p>
          <h4>{t("import.mapping")}</h4>
          <div className="mapping" data-testid="preview-mapping">
            {report.columns.map((column) => {
              const value = column.header in mapping ? mapping[column.header] : column.field;
              return (
                <label key={column.index} className={value ? "map-col" : "map-col ignored"}>
                  <span className="map-header">{column.header || `#${column.index + 1}`}</span>
                  <select
                    data-testid={`map-${column.index}`}
                    value={value ?? ""}
                    onChange={(e) => setMapping({ ...mapping, [column.header]: (e.target.value || null) as Field | null })}
                  >
                    <option value="">{t("import.ignore")}</option>
                    {FIELDS.map((f) => (
                      <option key={f} value={f}>
                        {t(`field.${f}` as MessageKey)}
                      </option>
                    ))}
                  </select>
                </label>
              );
            })}
          </div>
          {mappingChanged && (
            <button type="button" data-testid="roster-repreview" onClick={() => preview.mutate(request(mapping))} disabled={preview.isPending}>
              {t("import.repreview")}
            </button>
          )}
          {report.class_merges.length > 0 && (
            <>
              <h4>{t("import.merged")}</h4>
              <ul data-testid="preview-class-merges">
                {report.class_merges.map((m) => (
                  <li key={`${m.store}/${m.class}`}>
                    {t("import.mergedLine", { store: m.store, class: m.class, names: m.names.join("、") })}
                  </li>
                ))}
              </ul>
            </>
          )}
          <h4>{t("import.errors")}</h4>
          <ProblemTable report={report} />
        </section>
      )}

      {report && (
        <section className="card" data-testid="commit-step">
          <h3>{t("import.step3")}</h3>
          <div className="radios">
            <label className="check">
              <input type="radio" name="mode" data-testid="mode-all" checked={mode === "all"} onChange={() => setMode("all")} />
              <span>{t("import.modeAll")}</span>
            </label>
            <label className="check">
              <input type="radio" name="mode" data-testid="mode-valid" checked={mode === "valid"} onChange={() => setMode("valid")} />
              <span>{t("import.modeValid")}</span>
            </label>
          </div>
          <div className="row-form">
            <button
              type="button"
              className="primary"
              data-testid="roster-commit"
              disabled={commit.isPending || mappingChanged || Boolean(result)}
              onClick={() => commit.mutate(request(mapping))}
            >
              {t("import.commit")}
            </button>
            {commit.isPending && (
              <button type="button" className="danger" data-testid="import-cancel" onClick={() => jobRef.current && jobCancel(jobRef.current).catch(() => {})}>
                {t("import.cancel")}
              </button>
            )}
          </div>
          {commit.isPending && <ProgressBar progress={progress} />}
          <ErrorNote error={commit.error && asIpcError(commit.error)} testId="import-error" />
          {result && (
            <div className="result" ref={resultRef} data-testid="import-result" data-committed={String(result.committed)} data-imported={result.imported}>
              <h4>{t("import.result")}</h4>
              <p className={result.committed ? "ok" : "warn"}>
                {result.committed
                  ? t("import.committed", { imported: result.imported, updated: result.updated, unchanged: result.unchanged, rejected: result.rejected })
                  : t("import.refused", { rejected: result.rejected })}
              </p>
              <div className="row-form">
                {result.rejected > 0 && result.errors_workbook && (
                  <button type="button" data-testid="save-errors" onClick={() => save.mutate(result.errors_workbook!)}>
                    {t("import.saveErrors")}
                  </button>
                )}
                <button type="button" data-testid="import-history" onClick={onHistory}>
                  {t("members.tabHistory")}
                </button>
                <button type="button" data-testid="import-again" onClick={() => setFile(null)}>
                  {t("import.again")}
                </button>
              </div>
              {saved && <p className="ok small">{t("import.saved", { path: saved })}</p>}
              <ErrorNote error={save.error && asIpcError(save.error)} testId="save-error" />
            </div>
          )}
        </section>
      )}
    </div>
  );
}

function ProblemTable({ report }: { report: ImportReport }) {
  const { t, tCode, lang } = useI18n();
  if (report.errors.length === 0) return <p className="ok" data-testid="preview-no-errors">{t("import.noErrors")}</p>;
  return (
    <>
      <div className="table-scroll">
        <table className="grid" data-testid="preview-errors">
          <thead>
            <tr>
              <th className="num">{t("import.row")}</th>
              <th>{t("import.column")}</th>
              <th>{t("import.problem")}</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.slice(0, SHOWN_ERRORS).map((e, i) => {
              const text = tCode("problem", e.code);
              return (
                <tr key={i} data-testid="preview-error-row" data-row={e.row} data-code={e.code}>
                  <td className="num">{e.row}</td>
                  <td>{e.field ? `${e.column}（${t(`field.${e.field}` as MessageKey)}）` : e.column}</td>
                  <td>
                    {text && lang === "zh" ? (
                      <>
                        <strong>{text}</strong>
                        <small className="detail" lang="en">
                          {e.message}
                        </small>
                      </>
                    ) : (
                      e.message
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {report.errors.length > SHOWN_ERRORS && <p className="muted small">{t("import.moreErrors", { n: SHOWN_ERRORS })}</p>}
    </>
  );
}

function ProgressBar({ progress }: { progress: ImportProgress | null }) {
  const { t } = useI18n();
  const fraction = progress?.total ? Math.min(1, progress.done / progress.total) : null;
  const phase = progress ? t(`import.phase.${progress.phase}` as MessageKey) ?? progress.phase : "";
  return (
    <div className="progress" data-testid="import-progress">
      <div className={fraction === null ? "bar indeterminate" : "bar"}>
        <div className="fill" style={{ width: fraction === null ? "30%" : `${Math.round(fraction * 100)}%` }} />
      </div>
      <span className="muted small">
        {phase} {progress ? `${progress.done}${progress.total ? ` / ${progress.total}` : ""}` : ""}
      </span>
    </div>
  );
}
