// First run: create the institution (its HQ), or load the demo institution.
import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ErrorNote } from "../components/ErrorNote";
import { useI18n } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { demoLoad, orgInit } from "../ipc/org";
import { useRefreshAll } from "../queries";

export function FirstRun() {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [name, setName] = useState("");
  const create = useMutation({ mutationFn: () => orgInit(name), onSuccess: refresh });
  const demo = useMutation({ mutationFn: demoLoad, onSuccess: refresh });
  const busy = create.isPending || demo.isPending;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };

  return (
    <section className="card first-run" data-testid="first-run">
      <h2>{t("firstRun.title")}</h2>
      <p className="muted">{t("firstRun.lead")}</p>
      <form className="row-form" onSubmit={submit}>
        <label>
          <span>{t("firstRun.name")}</span>
          <input
            data-testid="first-run-name"
            value={name}
            placeholder={t("firstRun.namePlaceholder")}
            onChange={(e) => setName(e.target.value)}
            maxLength={100}
          />
        </label>
        <button type="submit" className="primary" data-testid="first-run-create" disabled={busy || !name.trim()}>
          {create.isPending ? t("firstRun.working") : t("firstRun.create")}
        </button>
      </form>
      <ErrorNote error={create.error && asIpcError(create.error)} testId="first-run-error" />
      <div className="divider">{t("firstRun.or")}</div>
      <button type="button" data-testid="first-run-demo" disabled={busy} onClick={() => demo.mutate()}>
        {demo.isPending ? t("firstRun.working") : t("firstRun.demo")}
      </button>
      <p className="muted small">{t("firstRun.demoHint")}</p>
      <ErrorNote error={demo.error && asIpcError(demo.error)} testId="first-run-demo-error" />
    </section>
  );
}
