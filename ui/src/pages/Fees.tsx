// Fees: for the unit picked at the top, its collection accounts, the fee items it may charge,
// and the fee plans of its subtree (add a plan; issue it after a preview of exactly what the
// issue will write). Every rule is the core's; its refusals show inline.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n, type MessageKey } from "../i18n";
import { CHANNELS, accountAdd, accountArchive, feeAdd, type Channel, type IssueReport, type Plan } from "../ipc/fees";
import { asIpcError } from "../ipc/invoke";
import { channelLabel } from "../labels";
import { formatMoney, tierSteps } from "../money";
import { flatten, lineage, useAccounts, useFees, usePlans, useRefreshAll, useTree } from "../queries";

import { PlanForm } from "./PlanForm";
import { IssuePreview } from "./IssuePreview";

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

export function targetLabel(t: (key: MessageKey) => string, plan: Plan): string {
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
