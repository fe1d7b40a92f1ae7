// Fees: for the unit picked at the top, its collection accounts, the fee items it may charge,
// and the fee plans of its subtree (add a plan; issue it after a preview of exactly what the
// issue will write). Every rule is the core's; its refusals show inline.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";

import { Dialog } from "../components/Dialog";
import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n, type MessageKey } from "../i18n";
import {
  CHANNELS,
  accountAdd,
  accountArchive,
  feeAdd,
  planAdd,
  planIssue,
  planPreview,
  type Channel,
  type IssueReport,
  type Plan,
  type PlanTarget,
} from "../ipc/fees";
import { asIpcError } from "../ipc/invoke";
import { billStatusLabel, channelLabel } from "../labels";
import { formatMoney, tierSteps } from "../money";
import { flatten, lineage, subtree, useAccounts, useClasses, useFees, usePlans, useRefreshAll, useTerms, useTree } from "../queries";

/** "¥2,800 until 8/31, then ¥3,000" for an early-bird rule; null otherwise. */
function tierSchedule(t: ReturnType<typeof useI18n>["t"], rule: string): string | null {
  const steps = tierSteps(rule);
  if (!steps) return null;
  return steps
    .map((s) =>
      s.day ? t("rule.schedule.until", { price: s.price, day: s.day }) : t("rule.schedule.then", { price: s.price }),
    )
    .join(", ");
}

export function Fees() {
  const { t } = useI18n();
  const tree = useTree();
  const units = flatten(tree.data).map((u) => u.node);
  const [picked, setPicked] = useState("");
  const unit = picked || tree.data?.code || "";

  return (
    <div className="stack">
      <div className="toolbar">
        <label className="inline">
          <span>{t("fees.unit")}</span>
          <select data-testid="fees-unit" value={unit} onChange={(e) => setPicked(e.target.value)}>
            <UnitOptions units={units} />
          </select>
        </label>
        <p className="muted small">{t("fees.unitHint")}</p>
      </div>
      {unit && (
        <>
          <div className="pair">
            <Accounts unit={unit} />
            <FeeItems unit={unit} />
          </div>
          <Plans unit={unit} />
        </>
      )}
    </div>
  );
}

function Accounts({ unit }: { unit: string }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const accounts = useAccounts();
  const mine = (accounts.data ?? []).filter((a) => a.unit_code === unit);
  const [channel, setChannel] = useState<Channel>("offline-cash");
  const [name, setName] = useState("");
  const [archiving, setArchiving] = useState<number | null>(null);
  const add = useMutation({
    mutationFn: () => accountAdd(unit, channel, name),
    onSuccess: async () => {
      setName("");
      await refresh();
    },
  });
  const archive = useMutation({
    mutationFn: (id: number) => accountArchive(String(id)),
    onSuccess: async () => {
      setArchiving(null);
      await refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };

  return (
    <section className="card" data-testid="accounts">
      <h3>{t("fees.accounts")}</h3>
      <p className="muted small">{t("fees.accountsHint")}</p>
      {accounts.data && mine.length === 0 && <p className="muted">{t("fees.noAccounts")}</p>}
      {mine.length > 0 && (
        <table className="grid" data-testid="account-list">
          <thead>
            <tr>
              <th>{t("fees.accountName")}</th>
              <th>{t("fees.channel")}</th>
              <th>{t("fees.accountId")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {mine.map((a) => (
              <tr key={a.id} data-testid="account-row" data-account-id={a.id} className={a.archived ? "undone" : undefined}>
                <td>
                  {a.name}
                  {a.archived && <span className="detail">{t("fees.archived")}</span>}
                </td>
                <td>{channelLabel(t, a.channel)}</td>
                <td className="mono">{a.id}</td>
                <td className="actions">
                  {!a.archived &&
                    (archiving === a.id ? (
                      <>
                        <button type="button" className="danger" data-testid={`account-archive-confirm-${a.id}`} disabled={archive.isPending} onClick={() => archive.mutate(a.id)}>
                          {t("fees.archiveConfirm")}
                        </button>
                        <button type="button" onClick={() => setArchiving(null)}>
                          {t("common.cancel")}
                        </button>
                      </>
                    ) : (
                      <button type="button" data-testid={`account-archive-${a.id}`} onClick={() => setArchiving(a.id)}>
                        {t("fees.archive")}
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ErrorNote error={archive.error && asIpcError(archive.error)} testId="account-archive-error" />
      <h4>{t("fees.addAccount")}</h4>
      <form className="row-form" onSubmit={submit}>
        <label>
          <span>{t("fees.channel")}</span>
          <select data-testid="account-channel" value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
            {CHANNELS.map((c) => (
              <option key={c} value={c}>
                {channelLabel(t, c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>{t("fees.accountName")}</span>
          <input data-testid="account-name" value={name} placeholder={t("fees.accountPlaceholder")} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary" data-testid="account-submit" disabled={add.isPending}>
          {t("classes.add")}
        </button>
      </form>
      <ErrorNote error={add.error && asIpcError(add.error)} testId="account-error" />
    </section>
  );
}

function FeeItems({ unit }: { unit: string }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const tree = useTree();
  const fees = useFees();
  const line = lineage(tree.data, unit);
  const usable = (fees.data ?? []).filter((f) => line.includes(f.unit_code));
  const [name, setName] = useState("");
  const add = useMutation({
    mutationFn: () => feeAdd(unit, name),
    onSuccess: async () => {
      setName("");
      await refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };

  return (
    <section className="card" data-testid="fee-items">
      <h3>{t("fees.items")}</h3>
      <p className="muted small">{t("fees.itemsHint")}</p>
      {fees.data && usable.length === 0 && <p className="muted">{t("fees.noItems")}</p>}
      {usable.length > 0 && (
        <table className="grid" data-testid="fee-list">
          <thead>
            <tr>
              <th>{t("fees.itemName")}</th>
              <th>{t("fees.itemUnit")}</th>
            </tr>
          </thead>
          <tbody>
            {usable.map((f) => (
              <tr key={f.id} data-testid="fee-row">
                <td>{f.name}</td>
                <td>{f.unit_code}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h4>{t("fees.addItem")}</h4>
      <form className="row-form" onSubmit={submit}>
        <label>
          <span>{t("fees.itemName")}</span>
          <input data-testid="fee-name" value={name} placeholder={t("fees.itemPlaceholder")} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit" className="primary" data-testid="fee-submit" disabled={add.isPending}>
          {t("classes.add")}
        </button>
      </form>
      <ErrorNote error={add.error && asIpcError(add.error)} testId="fee-error" />
    </section>
  );
}

const RULE_KINDS = ["fixed", "split", "tiers", "declared"] as const;
type RuleKind = (typeof RULE_KINDS)[number];
type TargetKind = PlanTarget["kind"];

function targetLabel(t: (key: MessageKey) => string, plan: Plan): string {
  return `${t(`target.${plan.target_kind}` as MessageKey)} · ${plan.target}`;
}

function Plans({ unit }: { unit: string }) {
  const { t } = useI18n();
  const plans = usePlans(unit);
  const [issuing, setIssuing] = useState<Plan | null>(null);
  const [issued, setIssued] = useState<IssueReport | null>(null);

  return (
    <section className="card" data-testid="plans">
      <h3>{t("fees.plans")}</h3>
      <p className="muted small">{t("fees.plansHint")}</p>
      <ErrorNote error={plans.error && asIpcError(plans.error)} testId="plan-list-error" />
      {plans.data && plans.data.length === 0 && <p className="muted">{t("fees.noPlans")}</p>}
      {plans.data && plans.data.length > 0 && (
        <div className="table-scroll">
          <table className="grid plan-list" data-testid="plan-list">
            <thead>
              <tr>
                <th>#</th>
                <th>
                  {t("fees.planFee")} / {t("fees.planTarget")}
                </th>
                <th>{t("fees.planRule")}</th>
                <th>{t("fees.planDue")}</th>
                <th>{t("fees.planAccount")}</th>
                <th className="num">{t("fees.planBills")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {plans.data.map((p) => (
                <tr key={p.id} data-testid="plan-row" data-plan-id={p.id}>
                  <td className="mono">{p.id}</td>
                  <td>
                    <strong>{p.fee}</strong>
                    <span className="detail">{targetLabel(t, p)}</span>
                  </td>
                  <td>
                    <code>{p.rule}</code>
                    {tierSchedule(t, p.rule) && (
                      <span className="detail" data-testid="plan-price-schedule">
                        {tierSchedule(t, p.rule)} ({t("rule.schedule.note")})
                      </span>
                    )}
                    <span className="detail">
                      {p.allow_partial ? t("fees.partialYes") : t("fees.partialNo")}
                      {p.discounts > 0 && ` · ${t("fees.discountCount", { n: p.discounts })}`}
                    </span>
                  </td>
                  <td className="nowrap">{p.due_on}</td>
                  <td>
                    {p.account}
                    <span className="detail">{channelLabel(t, p.channel)}</span>
                  </td>
                  <td className="num" data-testid={`plan-bills-${p.id}`}>
                    {p.bills}
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      data-testid={`plan-issue-${p.id}`}
                      onClick={() => {
                        setIssued(null);
                        setIssuing(p);
                      }}
                    >
                      {p.bills > 0 ? t("fees.reissue") : t("fees.issue")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {issued && <IssueResult report={issued} />}
      <PlanForm unit={unit} />
      {issuing && (
        <IssuePreview
          plan={issuing}
          onClose={() => setIssuing(null)}
          onIssued={(report) => {
            setIssuing(null);
            setIssued(report);
          }}
        />
      )}
    </section>
  );
}

function IssueResult({ report }: { report: IssueReport }) {
  const { t } = useI18n();
  return (
    <p className="ok" data-testid="issue-result" data-new-bills={report.new_bills} data-voided={report.voided}>
      {t("fees.issued", {
        id: report.plan_id,
        bills: report.new_bills,
        due: formatMoney(report.new_amount_due),
        voided: report.voided,
      })}
    </p>
  );
}

function PlanForm({ unit }: { unit: string }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const tree = useTree();
  const fees = useFees();
  const terms = useTerms();
  const classes = useClasses();
  const accounts = useAccounts();

  const line = lineage(tree.data, unit);
  const usableFees = (fees.data ?? []).filter((f) => line.includes(f.unit_code));
  const [fee, setFee] = useState("");
  const feeValue = usableFees.some((f) => `${f.unit_code}/${f.name}` === fee) ? fee : usableFees[0] ? `${usableFees[0].unit_code}/${usableFees[0].name}` : "";
  const feeUnit = feeValue.split("/")[0] ?? "";

  // A fee item charges inside its unit's subtree; the plan is run by the unit it charges (a
  // class's store, a unit; for a term the fee item's unit) and collects into an account of that
  // unit or one above it. The lists offer only those; the core checks both again.
  const inside = useMemo(() => subtree(tree.data, feeUnit), [tree.data, feeUnit]);
  const insideCodes = new Set(inside.map((u) => u.code));
  // A class is named STORE/NAME (the core's PlanTarget::Class); the same name in two terms of
  // one store would be ambiguous, so it is listed once and the core says so if it is.
  const seen = new Set<string>();
  const classOptions = (classes.data ?? [])
    .filter((c) => insideCodes.has(c.unit_code))
    .map((c) => ({ value: `${c.unit_code}/${c.name}`, label: `${c.name} · ${c.unit_code} · ${c.term_name}` }))
    .filter((o) => (seen.has(o.value) ? false : (seen.add(o.value), true)));

  const [targetKind, setTargetKind] = useState<TargetKind>("class");
  const [target, setTarget] = useState("");
  const targetOptions: { value: string; label: string }[] =
    targetKind === "class"
      ? classOptions
      : targetKind === "term"
        ? (terms.data ?? []).map((x) => ({ value: x.name, label: x.name }))
        : inside.map((u) => ({ value: u.code, label: `${u.name} (${u.code})` }));
  const targetValue = targetOptions.some((o) => o.value === target) ? target : (targetOptions[0]?.value ?? "");
  const runBy = targetKind === "class" ? targetValue.split("/")[0] : targetKind === "unit" ? targetValue : feeUnit;
  const runLine = lineage(tree.data, runBy);
  const accountOptions = (accounts.data ?? []).filter((a) => !a.archived && runLine.includes(a.unit_code));

  const [ruleKind, setRuleKind] = useState<RuleKind>("fixed");
  const [ruleBody, setRuleBody] = useState("");
  const [due, setDue] = useState("");
  const [partial, setPartial] = useState(false);
  const [account, setAccount] = useState("");
  const accountValue = accountOptions.some((a) => String(a.id) === account) ? account : accountOptions[0] ? String(accountOptions[0].id) : "";
  const [discounts, setDiscounts] = useState("");

  const add = useMutation({
    mutationFn: () =>
      planAdd({
        fee: feeValue,
        target: { kind: targetKind, name: targetValue },
        rule: `${ruleKind}:${ruleBody.trim()}`,
        due_on: due,
        allow_partial: partial,
        account: accountValue,
        discounts: discounts.split("\n").map((d) => d.trim()).filter(Boolean),
      }),
    onSuccess: async () => {
      setRuleBody("");
      setDiscounts("");
      setPartial(false);
      await refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };

  return (
    <>
      <h4>{t("fees.addPlan")}</h4>
      {usableFees.length === 0 ? (
        <p className="muted small">{t("fees.needItem")}</p>
      ) : (
        <form className="plan-form" onSubmit={submit} data-testid="plan-form">
          <div className="row-form">
            <label>
              <span>{t("fees.planFee")}</span>
              <select data-testid="plan-fee" value={feeValue} onChange={(e) => setFee(e.target.value)}>
                {usableFees.map((f) => (
                  <option key={f.id} value={`${f.unit_code}/${f.name}`}>
                    {f.name} ({f.unit_code})
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span>{t("fees.targetKind")}</span>
              <select data-testid="plan-target-kind" value={targetKind} onChange={(e) => setTargetKind(e.target.value as TargetKind)}>
                <option value="class">{t("target.class")}</option>
                <option value="term">{t("target.term")}</option>
                <option value="unit">{t("target.unit")}</option>
              </select>
            </label>
            <label>
              <span>{t("fees.planTarget")}</span>
              <select data-testid="plan-target" value={targetValue} onChange={(e) => setTarget(e.target.value)}>
                {targetOptions.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="row-form">
            <label>
              <span>{t("fees.ruleKind")}</span>
              <select data-testid="plan-rule-kind" value={ruleKind} onChange={(e) => setRuleKind(e.target.value as RuleKind)}>
                {RULE_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`rule.${k}` as MessageKey)}
                  </option>
                ))}
              </select>
            </label>
            <label className="grow">
              <span>{t(`rule.${ruleKind}.label` as MessageKey)}</span>
              <input data-testid="plan-rule" value={ruleBody} placeholder={t(`rule.${ruleKind}.placeholder` as MessageKey)} onChange={(e) => setRuleBody(e.target.value)} />
            </label>
            <label>
              <span>{t("fees.planDue")}</span>
              <input data-testid="plan-due" value={due} placeholder={t("classes.datePlaceholder")} size={11} onChange={(e) => setDue(e.target.value)} />
            </label>
          </div>
          <div className="row-form">
            <label>
              <span>{t("fees.planAccount")}</span>
              <select data-testid="plan-account" value={accountValue} onChange={(e) => setAccount(e.target.value)}>
                {accountOptions.map((a) => (
                  <option key={a.id} value={String(a.id)}>
                    {a.name} · {channelLabel(t, a.channel)} ({a.unit_code})
                  </option>
                ))}
              </select>
            </label>
            <label className="check">
              <input type="checkbox" data-testid="plan-partial" checked={partial} onChange={(e) => setPartial(e.target.checked)} />
              <span>{t("fees.allowPartial")}</span>
            </label>
          </div>
          {accountOptions.length === 0 && <p className="muted small">{t("fees.needAccount")}</p>}
          <div className="row-form">
            <label className="grow">
              <span>{t("fees.discounts")}</span>
              <textarea data-testid="plan-discounts" rows={2} value={discounts} placeholder={t("fees.discountsPlaceholder")} onChange={(e) => setDiscounts(e.target.value)} />
            </label>
          </div>
          <p className="muted small">{t("fees.ruleHint")}</p>
          <button type="submit" className="primary" data-testid="plan-submit" disabled={add.isPending}>
            {t("fees.addPlanSubmit")}
          </button>
        </form>
      )}
      <ErrorNote error={add.error && asIpcError(add.error)} testId="plan-error" />
      {add.data && !add.error && (
        <p className="ok" data-testid="plan-added" data-plan-id={add.data.id}>
          {t("fees.planAdded", { id: add.data.id })}
        </p>
      )}
    </>
  );
}

/** The dry run of an issue, and only then the button that commits it. */
function IssuePreview({ plan, onClose, onIssued }: { plan: Plan; onClose: () => void; onIssued: (report: IssueReport) => void }) {
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
