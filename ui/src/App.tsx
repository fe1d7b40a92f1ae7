// The frame: a fixed navigation column and the current page.
import { useCallback, useEffect, useState } from "react";

import { useI18n } from "./i18n";
import { onOrdersSynced } from "./ipc/collection";
import { PAGES, navLabel, type PageId } from "./nav";
import { ComingSoon } from "./pages/ComingSoon";
import { Classes } from "./pages/Classes";
import { Bills } from "./pages/Bills";
import { Dashboard } from "./pages/Dashboard";
import { Fees } from "./pages/Fees";
import { FirstRun } from "./pages/FirstRun";
import { Members } from "./pages/Members";
import { Organisation } from "./pages/Organisation";
import { Receipts } from "./pages/Receipts";
import { ReceiptLinkProvider, type ReceiptFocus } from "./receiptLink";
import { Reconciliation } from "./pages/Reconciliation";
import { Reports } from "./pages/Reports";
import { Reminders } from "./pages/Reminders";
import { Settings } from "./pages/Settings";
import { useOverview, useRefreshAll } from "./queries";

const ICONS: Record<PageId, string> = {
  dashboard: "◎",
  org: "⌂",
  members: "☰",
  classes: "▦",
  fees: "¥",
  bills: "▤",
  receipts: "✓",
  reminders: "◷",
  reconcile: "⇄",
  reports: "▥",
  settings: "⚙",
};

export function App() {
  const { t, toggle } = useI18n();
  const [page, setPage] = useState<PageId>("dashboard");
  // What the Receipts page was opened on from another page (a bill, a payment).
  const [receiptFocus, setReceiptFocus] = useState<ReceiptFocus | null>(null);
  const openReceipts = useCallback((focus: ReceiptFocus) => {
    setReceiptFocus(focus);
    setPage("receipts");
  }, []);
  const overview = useOverview();
  const refresh = useRefreshAll();
  // The start-up sync settles orders left open (the app was closed with a QR code on screen):
  // re-read everything when it did.
  useEffect(() => {
    const unlisten = onOrdersSynced(() => void refresh());
    return () => void unlisten.then((stop) => stop());
  }, [refresh]);
  // Until the institution exists, the pages that need it show the first-run screen.
  const needsInstitution = ["dashboard", "org", "members", "classes", "fees", "bills", "receipts", "reminders", "settings", "reconcile", "reports"].includes(page);
  const firstRun = overview.data !== undefined && overview.data.institution === null;

  return (
    <div className="frame">
      <nav className="sidebar" aria-label="main">
        <div className="brand">
          <img src="/icon.png" alt="" width={32} height={32} />
          <div>
            <div className="brand-name">{t("appName")}</div>
            <div className="brand-tagline">{t("tagline")}</div>
          </div>
        </div>
        <ul className="nav-list">
          {PAGES.map((id) => (
            <li key={id}>
              <button
                type="button"
                data-testid={`nav-${id}`}
                className={id === page ? "nav-item active" : "nav-item"}
                aria-current={id === page ? "page" : undefined}
                onClick={() => {
                  if (id === "receipts") setReceiptFocus(null);
                  setPage(id);
                }}
              >
                <span className="nav-icon" aria-hidden="true">
                  {ICONS[id]}
                </span>
                <span className="nav-label">{t(navLabel(id))}</span>
              </button>
            </li>
          ))}
        </ul>
        <button
          type="button"
          className="lang-toggle"
          data-testid="lang-toggle"
          title={t("langToggleTitle")}
          onClick={toggle}
        >
          {t("langToggle")}
        </button>
      </nav>
      <main className="content" data-testid={`page-${page}`}>
        <header className="page-header">
          <h1>{t(navLabel(page))}</h1>
        </header>
        <ReceiptLinkProvider value={openReceipts}>
          {firstRun && needsInstitution ? (
            <FirstRun />
          ) : page === "receipts" ? (
            <Receipts focus={receiptFocus} onClearFocus={() => setReceiptFocus(null)} />
          ) : (
            <Page page={page} />
          )}
        </ReceiptLinkProvider>
      </main>
    </div>
  );
}

function Page({ page }: { page: PageId }) {
  switch (page) {
    case "dashboard":
      return <Dashboard />;
    case "org":
      return <Organisation />;
    case "members":
      return <Members />;
    case "classes":
      return <Classes />;
    case "fees":
      return <Fees />;
    case "bills":
      return <Bills />;
    case "settings":
      return <Settings />;
    case "reconcile":
      return <Reconciliation />;
    case "reports":
      return <Reports />;
    case "reminders":
      return <Reminders />;
    default:
      return <ComingSoon page={page} />;
  }
}
