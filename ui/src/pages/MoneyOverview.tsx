// The dashboard's money: tiles for the selected unit's subtree (billed, collected, outstanding,
// collection rate, refunded), aging of what is owed, the 30-day collection trend, the per-unit
// drill-down tree (clicking a unit selects it), and the trial balance of the subtree's books.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { Figure } from "../components/Figure";
import { UnitOptions } from "../components/UnitOptions";
import { useI18n, type MessageKey } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { ledgerTrialBalance, moneySummary, moneyTree, type MoneyNode } from "../ipc/money";
import { agingLabel } from "../labels";
import { formatMoney, formatRate, maxAmount, share } from "../money";
import { flatten, keys, useTree } from "../queries";
import { DashboardCharts } from "./DashboardCharts";

/** A balance as accountants write it: the amount and its side (借 debit / 贷 credit). */
function balance(t: (key: MessageKey) => string, amount: string): string {
  if (amount === "0.00") return `${formatMoney(amount, false)} ${t("books.flat")}`;
  return amount.startsWith("-") ? `${formatMoney(amount.slice(1), false)} ${t("books.cr")}` : `${formatMoney(amount, false)} ${t("books.dr")}`;
}

function nodes(node: MoneyNode, depth = 0, out: { node: MoneyNode; depth: number }[] = []) {
  out.push({ node, depth });
  for (const child of node.children) nodes(child, depth + 1, out);
  return out;
}

export function MoneyOverview() {
  const { t } = useI18n();
  const tree = useTree();
  const root = tree.data?.code ?? "";
  const [picked, setPicked] = useState("");
  const unit = picked || root;
  const units = flatten(tree.data).map((u) => u.node);
  const summary = useQuery({ queryKey: [...keys.money, "summary", unit], queryFn: () => moneySummary(unit), enabled: unit !== "" });
  const drill = useQuery({ queryKey: [...keys.money, "tree", root], queryFn: () => moneyTree(root), enabled: root !== "" });
  const books = useQuery({ queryKey: [...keys.money, "books", unit], queryFn: () => ledgerTrialBalance(unit, true), enabled: unit !== "" });
  const s = summary.data;
  const maxAging = maxAmount(s?.aging.map((b) => b.amount) ?? []);
  const maxDay = maxAmount(s?.trend.map((d) => d.amount) ?? []);

  return (
    <>
      <section className="card" data-testid="money-overview" data-unit={unit}>
        <div className="card-head">
          <h3>{t("money.title")}</h3>
          <label className="inline">
            <span>{t("members.unit")}</span>
            <select data-testid="money-unit" value={unit} onChange={(e) => setPicked(e.target.value)}>
              <UnitOptions units={units} />
            </select>
          </label>
        </div>
        <ErrorNote error={summary.error && asIpcError(summary.error)} testId="money-error" />
        {s && (
          <>
            <p className="muted small" data-testid="money-scope">
              {t("money.scope", { name: s.unit_name, code: s.unit, date: s.as_of, bills: s.figures.bills })}
            </p>
            <div className="tiles money-tiles">
              <Figure testId="money-billed" label={t("money.billed")} value={formatMoney(s.figures.billed)} raw={s.figures.billed} />
              <Figure testId="money-collected" label={t("money.collected")} value={formatMoney(s.figures.collected)} raw={s.figures.collected} />
              <Figure testId="money-outstanding" label={t("money.outstanding")} value={formatMoney(s.figures.outstanding)} raw={s.figures.outstanding} />
              <Figure testId="money-rate" label={t("money.rate")} value={formatRate(s.figures.collection_rate)} raw={s.figures.collection_rate} />
              <Figure testId="money-refunded" label={t("money.refunded")} value={formatMoney(s.figures.refunded)} raw={s.figures.refunded} />
            </div>
            <div className="money-charts">
              <div>
                <h4>{t("money.aging")}</h4>
                <ul className="bars" data-testid="money-aging">
                  {s.aging.map((b) => (
                    <li key={b.bucket} data-testid={`aging-${b.bucket}`} data-bills={b.bills} data-amount={b.amount}>
                      <span className="bar-label">{agingLabel(t, b.bucket)}</span>
                      <span className="bar">
                        <span className={`fill aging-${b.bucket}`} style={{ width: `${share(b.amount, maxAging)}%` }} />
                      </span>
                      <span className="bar-value num">
                        {formatMoney(b.amount)}
                        <span className="muted small"> · {t(b.bills === 1 ? "money.bill1" : "money.billsN", { n: b.bills })}</span>
                      </span>
                    </li>
                  ))}
                </ul>
              </div>
              <div>
                <h4>{t("money.trend")}</h4>
                <div className="trend" data-testid="money-trend">
                  {s.trend.map((d) => (
                    <span key={d.day} className="trend-day" title={`${d.day} · ${formatMoney(d.amount)} · ${t("money.paymentsN", { n: d.payments })}`}>
                      <span className="trend-fill" style={{ height: `${Math.max(share(d.amount, maxDay), d.payments > 0 ? 3 : 0)}%` }} />
                    </span>
                  ))}
                </div>
                <div className="trend-axis muted small">
                  <span>{s.trend[0]?.day.slice(5)}</span>
                  <span>{s.trend[s.trend.length - 1]?.day.slice(5)}</span>
                </div>
              </div>
            </div>
          </>
        )}
      </section>
      <DashboardCharts unit={unit} />
      <section className="card">
        <h3>{t("money.drill")}</h3>
        <p className="muted small">{t("money.drillHint")}</p>
        <ErrorNote error={drill.error && asIpcError(drill.error)} testId="money-tree-error" />
        {drill.data && (
          <table className="grid middle" data-testid="money-tree">
            <thead>
              <tr>
                <th>{t("members.unit")}</th>
                <th className="num">{t("money.billed")}</th>
                <th className="num">{t("money.collected")}</th>
                <th className="num">{t("money.outstanding")}</th>
                <th className="num">{t("money.rate")}</th>
              </tr>
            </thead>
            <tbody>
              {nodes(drill.data).map(({ node, depth }) => (
                <tr key={node.code} className={node.code === unit ? "selected" : undefined} data-testid={`money-node-${node.code}`} data-billed={node.figures.billed}>
                  <td>
                    <button
                      type="button"
                      className={`tree-node kind-${node.kind}${node.code === unit ? " selected" : ""}`}
                      style={{ paddingLeft: 4 + depth * 18 }}
                      data-testid={`money-pick-${node.code}`}
                      onClick={() => setPicked(node.code)}
                    >
                      <span className="kind-badge">{t(`kind.${node.kind}` as MessageKey)}</span>
                      <span className="tree-name">{node.name}</span>
                      <code className="tree-code">{node.code}</code>
                    </button>
                  </td>
                  <td className="num">{formatMoney(node.figures.billed, false)}</td>
                  <td className="num">{formatMoney(node.figures.collected, false)}</td>
                  <td className="num">{formatMoney(node.figures.outstanding, false)}</td>
                  <td className="num">{formatRate(node.figures.collection_rate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card">
        <h3>{t("books.title")}</h3>
        <ErrorNote error={books.error && asIpcError(books.error)} testId="books-error" />
        {books.data && (
          <>
            <p className="muted small">
              {t("books.lead", { name: books.data.unit_name, code: books.data.unit })}{" "}
              <span className={books.data.balanced ? "ok" : "error"} data-testid="books-balanced" data-balanced={books.data.balanced}>
                {books.data.balanced ? t("books.balanced") : t("books.unbalanced")}
              </span>
            </p>
            {books.data.lines.length === 0 ? (
              <p className="muted">{t("books.empty")}</p>
            ) : (
              <table className="grid" data-testid="books">
                <thead>
                  <tr>
                    <th>{t("books.code")}</th>
                    <th>{t("books.account")}</th>
                    <th>{t("books.kind")}</th>
                    <th className="num">{t("books.debit")}</th>
                    <th className="num">{t("books.credit")}</th>
                    <th className="num">{t("books.balance")}</th>
                  </tr>
                </thead>
                <tbody>
                  {books.data.lines.map((l) => (
                    <tr key={l.code}>
                      <td className="mono">{l.code}</td>
                      <td>{l.name}</td>
                      <td>{t(`books.kind.${l.kind}` as MessageKey)}</td>
                      <td className="num">{formatMoney(l.debit, false)}</td>
                      <td className="num">{formatMoney(l.credit, false)}</td>
                      <td className="num">{balance(t, l.balance)}</td>
                    </tr>
                  ))}
                  <tr className="total">
                    <td colSpan={3}>{t("books.total")}</td>
                    <td className="num" data-testid="books-debit">
                      {formatMoney(books.data.total_debit, false)}
                    </td>
                    <td className="num" data-testid="books-credit">
                      {formatMoney(books.data.total_credit, false)}
                    </td>
                    <td />
                  </tr>
                </tbody>
              </table>
            )}
          </>
        )}
      </section>
    </>
  );
}
