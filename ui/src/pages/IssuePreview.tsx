// Issuing a plan: the dry run of exactly what the issue will write, and only then the button
// that commits it.
import { useMutation, useQuery } from "@tanstack/react-query";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { useI18n } from "../i18n";
import { planIssue, planPreview, type IssueReport, type Plan } from "../ipc/fees";
import { asIpcError } from "../ipc/invoke";
import { billStatusLabel } from "../labels";
import { formatMoney } from "../money";
import { useRefreshAll } from "../queries";

import { targetLabel } from "./Fees";

/** The dry run of an issue, and only then the button that commits it. */
export function IssuePreview({ plan, onClose, onIssued }: { plan: Plan; onClose: () => void; onIssued: (report: IssueReport) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const preview = useQuery({ queryKey: ["feedesk", "issue-preview", plan.id], queryFn: () => planPreview(plan.id), staleTime: 0, gcTime: 0 });
  const issue = useMutation({
    mutationFn: () => planIssue(plan.id),
    onSuccess: async (report) => {
      await refresh();
      onIssued(report);
    },
  });
  const r = preview.data;
  const nothing = r && r.new_bills === 0 && r.voided === 0;

  return (
    <Dialog title={t("issue.title", { id: plan.id, fee: plan.fee, target: targetLabel(t, plan) })} testId="issue-preview" onClose={onClose} wide>
      {preview.isPending && <p className="muted">{t("common.loading")}</p>}
      <ErrorNote error={preview.error && asIpcError(preview.error)} testId="issue-preview-error" />
      {r && (
        <>
          <p className="muted small">{t("issue.lead")}</p>
          <div className="tiles">
            <Figure testId="preview-targeted" label={t("issue.targeted")} value={String(r.targeted)} />
            <Figure testId="preview-new-bills" label={t("issue.newBills")} value={String(r.new_bills)} />
            <Figure testId="preview-already" label={t("issue.already")} value={String(r.already_billed)} />
            <Figure testId="preview-voided" label={t("issue.voided")} value={String(r.voided)} sub={r.voided > 0 ? formatMoney(r.voided_amount) : undefined} />
          </div>
          <div className="tiles">
            <Figure testId="preview-gross" label={t("issue.gross")} value={formatMoney(r.new_gross)} raw={r.new_gross} />
            <Figure testId="preview-discounts" label={t("issue.discounts")} value={formatMoney(r.new_discounts)} raw={r.new_discounts} />
            <Figure testId="preview-due" label={t("issue.due")} value={formatMoney(r.new_amount_due)} raw={r.new_amount_due} />
          </div>
          {r.by_unit.length > 0 && (
            <>
              <h4>{t("issue.byUnit")}</h4>
              <table className="grid" data-testid="preview-by-unit">
                <thead>
                  <tr>
                    <th>{t("members.store")}</th>
                    <th className="num">{t("issue.bills")}</th>
                    <th className="num">{t("issue.due")}</th>
                  </tr>
                </thead>
                <tbody>
                  {r.by_unit.map((u) => (
                    <tr key={u.unit_code} data-testid="preview-unit-row" data-unit={u.unit_code} data-bills={u.bills} data-due={u.amount_due}>
                      <td>{u.unit_code}</td>
                      <td className="num">{u.bills}</td>
                      <td className="num">{formatMoney(u.amount_due)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {r.sample.length > 0 && (
            <>
              <h4>{r.sample.length < r.new_bills ? t("issue.sampleFirst", { n: r.sample.length }) : t("issue.sample")}</h4>
              <div className="table-scroll short">
                <table className="grid" data-testid="preview-sample">
                  <thead>
                    <tr>
                      <th>{t("members.no")}</th>
                      <th>{t("members.name")}</th>
                      <th>{t("members.store")}</th>
                      <th className="num">{t("bills.gross")}</th>
                      <th className="num">{t("issue.discount")}</th>
                      <th className="num">{t("bills.amountDue")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.sample.map((b) => (
                      <tr key={`${b.unit_code}/${b.member_no}`} data-testid="preview-sample-row" data-member={b.member_no} data-due={b.amount_due}>
                        <td>{b.member_no}</td>
                        <td>{b.member_name}</td>
                        <td>{b.unit_code}</td>
                        <td className="num">{formatMoney(b.gross, false)}</td>
                        <td className="num">{b.discount === "0.00" ? "" : formatMoney(b.discount, false)}</td>
                        <td className="num">{formatMoney(b.amount_due, false)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
          {r.voided > 0 && (
            <p className="warn" data-testid="preview-void-note">
              {t("issue.voidNote", { n: r.voided, amount: formatMoney(r.voided_amount) })}
            </p>
          )}
          {r.kept.length > 0 && (
            <>
              <h4>{t("issue.kept")}</h4>
              <ul className="notes" data-testid="preview-kept">
                {r.kept.map((k) => (
                  <li key={k.bill_id}>
                    {t("issue.keptLine", { no: k.member_no, id: k.bill_id, status: billStatusLabel(t, k.status) })}
                    <span className="detail" lang="en">
                      {k.note}
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
          {nothing && <p className="muted" data-testid="preview-nothing">{t("issue.nothing")}</p>}
        </>
      )}
      <ErrorNote error={issue.error && asIpcError(issue.error)} testId="issue-error" />
      <div className="row-form dialog-actions">
        <button type="button" className="primary" data-testid="issue-confirm" disabled={!r || nothing || issue.isPending} onClick={() => issue.mutate()}>
          {r ? t("issue.confirm", { n: r.new_bills }) : t("fees.issue")}
        </button>
        <button type="button" data-testid="issue-cancel" onClick={onClose}>
          {t("common.cancel")}
        </button>
      </div>
    </Dialog>
  );
}
