// Honest placeholder for pages whose capability has not landed yet.
import { useI18n, type MessageKey } from "../i18n";
import type { PageId } from "../nav";

export function ComingSoon({ page }: { page: Exclude<PageId, "dashboard"> }) {
  const { t } = useI18n();
  return (
    <section className="card coming" data-testid="coming-soon">
      <span className="badge">{t("coming.badge")}</span>
      <p className="muted">{t("coming.lead")}</p>
      <p>{t(`coming.${page}` as MessageKey)}</p>
    </section>
  );
}
