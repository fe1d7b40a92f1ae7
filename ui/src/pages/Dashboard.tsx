// First page: what exists (counts from org_overview), the money of any part of the
// organisation (MoneyOverview), and the installation itself.
import { useEffect } from "react";

import { useI18n, type MessageKey } from "../i18n";
import type { Overview } from "../ipc/org";
import { asIpcError } from "../ipc/invoke";
import { ErrorNote } from "../components/ErrorNote";
import { useAppInfo, useOverview } from "../queries";
import { MoneyOverview } from "./MoneyOverview";

const TILES: { key: keyof Overview; label: MessageKey }[] = [
  { key: "regions", label: "count.regions" },
  { key: "stores", label: "count.stores" },
  { key: "terms", label: "count.terms" },
  { key: "classes", label: "count.classes" },
  { key: "members", label: "count.members" },
  { key: "import_batches", label: "count.imports" },
];

/** Performance mark set when the dashboard first shows the overview counts. */
export const PAINT_MARK = "feedesk-overview-painted";

export function Dashboard() {
  const { t, lang } = useI18n();
  const overview = useOverview();
  const info = useAppInfo();
  const numbers = new Intl.NumberFormat(lang === "zh" ? "zh-CN" : "en");
  const ready = overview.data !== undefined;
  useEffect(() => {
    // For the cold-start benchmark (tests/e2e/bench.mjs): the first frame with the counts.
    if (ready && performance.getEntriesByName(PAINT_MARK).length === 0) {
      requestAnimationFrame(() => performance.mark(PAINT_MARK));
    }
  }, [ready]);

  return (
    <>
      <section className="card hero">
        <h2 data-testid="institution-name">{overview.data?.institution ?? t("dashboard.welcome")}</h2>
        <p className="muted">{t("dashboard.intro")}</p>
      </section>
      <section className="card">
        <h3>{t("dashboard.counts")}</h3>
        <ErrorNote error={overview.error && asIpcError(overview.error)} testId="overview-error" />
        {overview.isPending && <p className="muted">{t("common.loading")}</p>}
        {overview.data && (
          <div className="tiles" data-testid="overview">
            {TILES.map(({ key, label }) => (
              <div className="tile" key={key} data-testid={`count-${key}`}>
                <div className="tile-value">{numbers.format(Number(overview.data[key]))}</div>
                <div className="tile-label">{t(label)}</div>
                {key === "members" && (
                  <div className="tile-sub">{t("count.activeMembers", { n: numbers.format(overview.data.active_members) })}</div>
                )}
              </div>
            ))}
          </div>
        )}
      </section>
      {overview.data?.institution && <MoneyOverview />}
      <section className="card">
        <h3>{t("dashboard.about")}</h3>
        {info.isPending && <p className="muted">{t("dashboard.loading")}</p>}
        {info.error && (
          <p className="error" role="alert" data-testid="app-info-error" data-code={asIpcError(info.error).code}>
            {t("dashboard.error")}: {asIpcError(info.error).message}
          </p>
        )}
        {info.data && (
          <dl className="facts" data-testid="app-info">
            <dt>{t("dashboard.name")}</dt>
            <dd data-testid="app-info-name">{info.data.name}</dd>
            <dt>{t("dashboard.version")}</dt>
            <dd data-testid="app-info-version">{info.data.version}</dd>
            <dt>{t("dashboard.dataDir")}</dt>
            <dd data-testid="app-info-data-dir">
              <code>{info.data.dataDir}</code>
            </dd>
          </dl>
        )}
      </section>
    </>
  );
}
