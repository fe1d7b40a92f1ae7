// Adding a fee plan: its fee item, target (a class, a term or a whole unit), amount rule,
// due date, designated account and discounts. Every rule is checked by the core.
import { useMutation } from "@tanstack/react-query";
import { useMemo, useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { toIsoDate } from "../dates";
import { useI18n, type MessageKey } from "../i18n";
import { planAdd, type PlanTarget } from "../ipc/fees";
import { asIpcError } from "../ipc/invoke";
import { channelLabel } from "../labels";
import { lineage, subtree, useAccounts, useClasses, useFees, useRefreshAll, useTerms, useTree } from "../queries";

export const RULE_KINDS = ["fixed", "split", "tiers", "declared"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export type TargetKind = PlanTarget["kind"];

export function PlanForm({ unit }: { unit: string }) {
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
        due_on: toIsoDate(due),
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
              <input data-testid="plan-due" value={due} placeholder={t("classes.datePlaceholder")} size={11} onChange={(e) => setDue(e.target.value)} onBlur={() => setDue(toIsoDate(due))} />
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
