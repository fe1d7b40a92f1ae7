// The dashboard's charts drawn by the core with plotters (the same drawing code as the monthly
// report's images), as SVG shown as images (never inserted as markup).
import { useQuery } from "@tanstack/react-query";

import { useI18n } from "../i18n";
import { dashboardCharts } from "../ipc/reports";
import { svgDataUrl } from "../ipc/collection";
import { keys } from "../queries";

export function DashboardCharts({ unit }: { unit: string }) {
  const { t } = useI18n();
  const charts = useQuery({
    queryKey: [...keys.money, "charts", unit, t("charts.trend")],
    queryFn: () => dashboardCharts(unit, t("charts.trend"), t("charts.aging")),
    enabled: unit !== "",
  });
  if (!charts.data) return null;
  return (
    <section className="card" data-testid="dashboard-charts" data-unit={charts.data.unit}>
      <div className="pair">
        <img data-testid="chart-trend" src={svgDataUrl(charts.data.trend_svg)} alt={t("charts.trend")} style={{ width: "100%" }} />
        <img data-testid="chart-aging" src={svgDataUrl(charts.data.aging_svg)} alt={t("charts.aging")} style={{ width: "100%" }} />
      </div>
    </section>
  );
}
