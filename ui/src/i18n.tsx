// Chinese by default, English on request; the choice is remembered in localStorage.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

import { appEn, appZh } from "./messages/app";
import { orgEn, orgZh } from "./messages/org";
import { rosterEn, rosterZh } from "./messages/roster";
import { feesEn, feesZh } from "./messages/fees";
import { moneyEn, moneyZh } from "./messages/money";
import { billsEn, billsZh } from "./messages/bills";
import { receiptsEn, receiptsZh } from "./messages/receipts";
import { remindersEn, remindersZh } from "./messages/reminders";
import { settingsEn, settingsZh } from "./messages/settings";
import { reconEn, reconZh } from "./messages/reconciliation";

export type Lang = "zh" | "en";

const STORAGE_KEY = "feedesk.lang";

// One dictionary per feature (messages/), merged here.
const zh = {
  ...appZh,
  ...orgZh,
  ...rosterZh,
  ...feesZh,
  ...moneyZh,
  ...billsZh,
  ...receiptsZh,
  ...remindersZh,
  ...settingsZh,
  ...reconZh,
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  ...appEn,
  ...orgEn,
  ...rosterEn,
  ...feesEn,
  ...moneyEn,
  ...billsEn,
  ...receiptsEn,
  ...remindersEn,
  ...settingsEn,
  ...reconEn,
};

const messages: Record<Lang, Record<MessageKey, string>> = { zh, en };

function initialLang(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "zh";
  } catch {
    return "zh";
  }
}

interface I18n {
  lang: Lang;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  /** A localised problem or error text for a code, when one exists. */
  tCode: (prefix: "problem" | "error", code: string) => string | null;
  toggle: () => void;
}

const I18nContext = createContext<I18n | null>(null);

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLang] = useState<Lang>(initialLang);

  const toggle = useCallback(() => {
    setLang((current) => {
      const next: Lang = current === "zh" ? "en" : "zh";
      try {
        localStorage.setItem(STORAGE_KEY, next);
      } catch {
        // Storage unavailable: the switch still works for this session.
      }
      return next;
    });
  }, []);

  const value = useMemo<I18n>(
    () => ({
      lang,
      toggle,
      t: (key, vars) => {
        let text: string = messages[lang][key];
        if (vars) for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, String(value));
        return text;
      },
      tCode: (prefix, code) => {
        const key = `${prefix}.${code}`;
        return key in messages[lang] ? messages[lang][key as MessageKey] : null;
      },
    }),
    [lang, toggle],
  );

  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  }, [lang]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}
