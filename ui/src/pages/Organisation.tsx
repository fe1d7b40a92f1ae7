// The HQ -> region -> store tree: select a unit, then add under it, rename, move, archive.
// Core errors show inline, in the UI's language.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n, type MessageKey } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { orgAddUnit, orgArchive, orgMove, orgRename, type Unit, type UnitNode } from "../ipc/org";
import { flatten, useRefreshAll, useTree } from "../queries";

function find(node: UnitNode | null | undefined, code: string): UnitNode | null {
  if (!node) return null;
  if (node.code === code) return node;
  for (const child of node.children) {
    const hit = find(child, code);
    if (hit) return hit;
  }
  return null;
}

export function Organisation() {
  const { t } = useI18n();
  const tree = useTree();
  const [selected, setSelected] = useState<string>("HQ");
  const units = flatten(tree.data);
  const unit = find(tree.data, selected) ?? tree.data ?? null;

  return (
    <div className="split">
      <section className="card tree-card">
        <h3>{t("org.tree")}</h3>
        {tree.isPending && <p className="muted">{t("common.loading")}</p>}
        <ErrorNote error={tree.error && asIpcError(tree.error)} testId="org-tree-error" />
        <ul className="tree" data-testid="org-tree" role="tree">
          {units.map(({ node, depth }) => (
            <li key={node.code} role="treeitem" aria-selected={node.code === unit?.code}>
              <button
                type="button"
                data-testid={`unit-${node.code}`}
                className={`tree-node kind-${node.kind}${node.code === unit?.code ? " selected" : ""}${node.archived ? " archived" : ""}`}
                style={{ paddingLeft: 8 + depth * 20 }}
                onClick={() => setSelected(node.code)}
              >
                <span className="kind-badge">{t(`kind.${node.kind}` as MessageKey)}</span>
                <span className="tree-name">{node.name}</span>
                <code className="tree-code">{node.code}</code>
                {node.archived && <span className="muted small">{t("org.archived")}</span>}
              </button>
            </li>
          ))}
        </ul>
      </section>
      {unit ? <UnitPanel key={unit.code} unit={unit} all={units.map((u) => u.node)} onAdded={setSelected} /> : (
        <section className="card"><p className="muted">{t("org.pick")}</p></section>
      )}
    </div>
  );
}

function within(node: UnitNode, code: string): boolean {
  return node.code === code || node.children.some((c) => within(c, code));
}

function UnitPanel({ unit, all, onAdded }: { unit: UnitNode; all: UnitNode[]; onAdded: (code: string) => void }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [kind, setKind] = useState<"region" | "store">("store");
  const [code, setCode] = useState("");
  const [name, setName] = useState("");
  const [newName, setNewName] = useState(unit.name);
  const parents = all.filter((u) => u.kind !== "store" && !u.archived && !within(unit, u.code));
  const [parent, setParent] = useState(parents[0]?.code ?? "");
  const [confirming, setConfirming] = useState(false);
  const [done, setDone] = useState(false);

  const action = useMutation({
    mutationFn: (run: () => Promise<Unit>) => run(),
    onSuccess: async (changed) => {
      setDone(true);
      setCode("");
      setName("");
      setConfirming(false);
      await refresh();
      if (changed.code !== unit.code) onAdded(changed.code);
    },
    onMutate: () => setDone(false),
  });
  const busy = action.isPending;
  const submitAdd = (e: FormEvent) => {
    e.preventDefault();
    action.mutate(() => orgAddUnit(unit.code, kind, code, name));
  };
  const submitRename = (e: FormEvent) => {
    e.preventDefault();
    action.mutate(() => orgRename(unit.code, newName));
  };
  const submitMove = (e: FormEvent) => {
    e.preventDefault();
    action.mutate(() => orgMove(unit.code, parent));
  };

  return (
    <section className="card unit-panel" data-testid="org-panel">
      <h3>
        {unit.name} <code>{unit.code}</code>
      </h3>
      <p className="muted">
        {t("org.kind")}: {t(`kind.${unit.kind}` as MessageKey)}
        {unit.archived && ` · ${t("org.archived")}`}
      </p>
      <ErrorNote error={action.error && asIpcError(action.error)} testId="org-error" />
      {done && !action.error && (
        <p className="ok" data-testid="org-done">
          {t("org.done")}
        </p>
      )}

      <h4>{t("org.add")}</h4>
      {unit.kind === "store" ? (
        <p className="muted small">{t("org.storeLeaf")}</p>
      ) : (
        <form className="row-form" onSubmit={submitAdd}>
          <label>
            <span>{t("org.kind")}</span>
            <select data-testid="org-add-kind" value={kind} onChange={(e) => setKind(e.target.value as "region" | "store")}>
              <option value="region">{t("kind.region")}</option>
              <option value="store">{t("kind.store")}</option>
            </select>
          </label>
          <label>
            <span>{t("org.code")}</span>
            <input data-testid="org-add-code" value={code} placeholder={t("org.codePlaceholder")} onChange={(e) => setCode(e.target.value)} size={10} />
          </label>
          <label>
            <span>{t("org.name")}</span>
            <input data-testid="org-add-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" className="primary" data-testid="org-add-submit" disabled={busy || unit.archived}>
            {t("org.addSubmit")}
          </button>
        </form>
      )}

      <h4>{t("org.rename")}</h4>
      <form className="row-form" onSubmit={submitRename}>
        <label>
          <span>{t("org.name")}</span>
          <input data-testid="org-rename-name" value={newName} onChange={(e) => setNewName(e.target.value)} />
        </label>
        <button type="submit" data-testid="org-rename-submit" disabled={busy}>
          {t("org.renameSubmit")}
        </button>
      </form>

      {unit.kind !== "hq" && (
        <>
          <h4>{t("org.move")}</h4>
          <form className="row-form" onSubmit={submitMove}>
            <label>
              <span>{t("org.move")}</span>
              <select data-testid="org-move-parent" value={parent} onChange={(e) => setParent(e.target.value)}>
                {parents.map((p) => (
                  <option key={p.code} value={p.code}>
                    {p.name} ({p.code})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" data-testid="org-move-submit" disabled={busy || !parent}>
              {t("org.moveSubmit")}
            </button>
          </form>

          {!unit.archived && (
            <>
              <h4>{t("org.archive")}</h4>
              {confirming ? (
                <div className="row-form">
                  <button type="button" className="danger" data-testid="org-archive-confirm" disabled={busy} onClick={() => action.mutate(() => orgArchive(unit.code))}>
                    {t("org.archiveConfirm")}
                  </button>
                  <button type="button" onClick={() => setConfirming(false)}>
                    {t("common.cancel")}
                  </button>
                </div>
              ) : (
                <button type="button" data-testid="org-archive" disabled={busy} onClick={() => setConfirming(true)}>
                  {t("org.archive")}
                </button>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
