// Terms and classes: list and add.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n } from "../i18n";
import { toIsoDate } from "../dates";
import { classAdd, termAdd } from "../ipc/classes";
import { asIpcError } from "../ipc/invoke";
import { flatten, useClasses, useRefreshAll, useTerms, useTree } from "../queries";
import { UnitOptions } from "../components/UnitOptions";

export function Classes() {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const terms = useTerms();
  const classes = useClasses();
  const tree = useTree();
  const stores = flatten(tree.data).map((u) => u.node).filter((u) => u.kind === "store" && !u.archived);

  const [termName, setTermName] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const addTerm = useMutation({
    mutationFn: () => termAdd(termName, toIsoDate(start), toIsoDate(end)),
    onSuccess: async () => {
      setTermName("");
      await refresh();
    },
  });

  const [store, setStore] = useState("");
  const [term, setTerm] = useState("");
  const [className, setClassName] = useState("");
  const addClass = useMutation({
    mutationFn: () => classAdd(store || stores[0]?.code || "", term || terms.data?.[0]?.name || "", className),
    onSuccess: async () => {
      setClassName("");
      await refresh();
    },
  });

  const submitTerm = (e: FormEvent) => {
    e.preventDefault();
    addTerm.mutate();
  };
  const submitClass = (e: FormEvent) => {
    e.preventDefault();
    addClass.mutate();
  };

  return (
    <div className="stack">
      <section className="card">
        <h3>{t("classes.terms")}</h3>
        {terms.data && terms.data.length === 0 && <p className="muted">{t("classes.noTerms")}</p>}
        {terms.data && terms.data.length > 0 && (
          <table className="grid" data-testid="term-list">
            <thead>
              <tr>
                <th>{t("classes.termName")}</th>
                <th>{t("classes.start")}</th>
                <th>{t("classes.end")}</th>
              </tr>
            </thead>
            <tbody>
              {terms.data.map((term) => (
                <tr key={term.id}>
                  <td>{term.name}</td>
                  <td>{term.starts_on}</td>
                  <td>{term.ends_on}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h4>{t("classes.addTerm")}</h4>
        <form className="row-form" onSubmit={submitTerm}>
          <label>
            <span>{t("classes.termName")}</span>
            <input data-testid="term-name" value={termName} onChange={(e) => setTermName(e.target.value)} />
          </label>
          <label>
            <span>{t("classes.start")}</span>
            <input data-testid="term-start" value={start} placeholder={t("classes.datePlaceholder")} onChange={(e) => setStart(e.target.value)} onBlur={() => setStart(toIsoDate(start))} size={11} />
          </label>
          <label>
            <span>{t("classes.end")}</span>
            <input data-testid="term-end" value={end} placeholder={t("classes.datePlaceholder")} onChange={(e) => setEnd(e.target.value)} onBlur={() => setEnd(toIsoDate(end))} size={11} />
          </label>
          <button type="submit" className="primary" data-testid="term-submit" disabled={addTerm.isPending}>
            {t("classes.add")}
          </button>
        </form>
        <ErrorNote error={addTerm.error && asIpcError(addTerm.error)} testId="term-error" />
      </section>

      <section className="card">
        <h3>{t("classes.classes")}</h3>
        {classes.data && classes.data.length === 0 && <p className="muted">{t("classes.noClasses")}</p>}
        {classes.data && classes.data.length > 0 && (
          <table className="grid" data-testid="class-list">
            <thead>
              <tr>
                <th>{t("classes.store")}</th>
                <th>{t("classes.term")}</th>
                <th>{t("classes.className")}</th>
                <th className="num">{t("classes.members")}</th>
              </tr>
            </thead>
            <tbody>
              {classes.data.map((c) => (
                <tr key={c.id} data-testid="class-row">
                  <td>{c.unit_code}</td>
                  <td>{c.term_name}</td>
                  <td>{c.name}</td>
                  <td className="num">{c.members}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h4>{t("classes.addClass")}</h4>
        <form className="row-form" onSubmit={submitClass}>
          <label>
            <span>{t("classes.store")}</span>
            <select data-testid="class-store" value={store || stores[0]?.code || ""} onChange={(e) => setStore(e.target.value)}>
              <UnitOptions units={stores} />
            </select>
          </label>
          <label>
            <span>{t("classes.term")}</span>
            <select data-testid="class-term" value={term || terms.data?.[0]?.name || ""} onChange={(e) => setTerm(e.target.value)}>
              {(terms.data ?? []).map((x) => (
                <option key={x.id} value={x.name}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>{t("classes.className")}</span>
            <input data-testid="class-name" value={className} onChange={(e) => setClassName(e.target.value)} />
          </label>
          <button type="submit" className="primary" data-testid="class-submit" disabled={addClass.isPending}>
            {t("classes.add")}
          </button>
        </form>
        <ErrorNote error={addClass.error && asIpcError(addClass.error)} testId="class-error" />
      </section>
    </div>
  );
}
