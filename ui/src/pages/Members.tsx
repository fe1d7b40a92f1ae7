// Rosters & Members: the member list, the import wizard, the import history.
import { useState } from "react";

import { useI18n } from "../i18n";
import { ImportHistory } from "./ImportHistory";
import { ImportWizard } from "./ImportWizard";
import { MemberList } from "./MemberList";

type Tab = "list" | "import" | "history";

export function Members() {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>("list");
  const tabs: { id: Tab; label: string }[] = [
    { id: "list", label: t("members.tabList") },
    { id: "import", label: t("members.tabImport") },
    { id: "history", label: t("members.tabHistory") },
  ];
  return (
    <div className="stack">
      <div className="tabs" role="tablist">
        {tabs.map(({ id, label }) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={tab === id}
            className={tab === id ? "tab active" : "tab"}
            data-testid={`tab-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      {tab === "list" && <MemberList />}
      {tab === "import" && <ImportWizard onHistory={() => setTab("history")} />}
      {tab === "history" && <ImportHistory />}
    </div>
  );
}
