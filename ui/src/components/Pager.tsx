// A list shown a page at a time (the reminders page drew hundreds of rendered messages, about
// 200,000 pixels tall). `usePaged` slices; `Pager` moves between pages and says where you are.
import { useEffect, useState } from "react";

import { useI18n } from "../i18n";

export const PAGE_SIZE = 25;

/** The page of `items` to show, and the pager's state. A list that shrinks keeps a valid page. */
export function usePaged<T>(items: T[], size = PAGE_SIZE) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages - 1);
  useEffect(() => {
    if (page !== current) setPage(current);
  }, [page, current]);
  return { shown: items.slice(current * size, (current + 1) * size), page: current, pages, total: items.length, setPage };
}

export function Pager({ testId, page, pages, total, setPage }: { testId: string; page: number; pages: number; total: number; setPage: (page: number) => void }) {
  const { t } = useI18n();
  if (pages <= 1) return null;
  return (
    <div className="row-form pager" data-testid={testId} data-page={page + 1} data-pages={pages}>
      <button type="button" data-testid={`${testId}-prev`} disabled={page === 0} onClick={() => setPage(page - 1)}>
        {t("pager.prev")}
      </button>
      <span className="muted small">{t("pager.where", { page: page + 1, pages, total })}</span>
      <button type="button" data-testid={`${testId}-next`} disabled={page >= pages - 1} onClick={() => setPage(page + 1)}>
        {t("pager.next")}
      </button>
    </div>
  );
}
