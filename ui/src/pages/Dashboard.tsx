// First page: what exists. For now, the application itself (through the app_info command).
import { useEffect, useState } from "react";

import { useI18n } from "../i18n";
import { appInfo, type AppInfo } from "../ipc/app";
import { IpcError } from "../ipc/invoke";

type State =
  | { kind: "loading" }
  | { kind: "ready"; info: AppInfo }
  | { kind: "failed"; error: IpcError };

export function Dashboard() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ kind: "loading" });

  useEffect(() => {
    let live = true;
    appInfo().then(
      (info) => live && setState({ kind: "ready", info }),
      (error: unknown) =>
        live &&
        setState({
          kind: "failed",
          error: error instanceof IpcError ? error : new IpcError({ code: "internal", message: String(error) }),
        }),
    );
    return () => {
      live = false;
    };
  }, []);

  return (
    <>
      <section className="card hero">
        <h2>{t("dashboard.welcome")}</h2>
        <p className="muted">{t("dashboard.intro")}</p>
      </section>
      <section className="card">
        <h3>{t("dashboard.about")}</h3>
        {state.kind === "loading" && <p className="muted">{t("dashboard.loading")}</p>}
        {state.kind === "failed" && (
          <p className="error" role="alert" data-testid="app-info-error" data-code={state.error.code}>
            {t("dashboard.error")}: {state.error.message}
          </p>
        )}
        {state.kind === "ready" && (
          <dl className="facts" data-testid="app-info">
            <dt>{t("dashboard.name")}</dt>
            <dd data-testid="app-info-name">{state.info.name}</dd>
            <dt>{t("dashboard.version")}</dt>
            <dd data-testid="app-info-version">{state.info.version}</dd>
            <dt>{t("dashboard.dataDir")}</dt>
            <dd data-testid="app-info-data-dir">
              <code>{state.info.dataDir}</code>
            </dd>
          </dl>
        )}
      </section>
    </>
  );
}
