// Chinese by default, English on request; the choice is remembered in localStorage.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";

export type Lang = "zh" | "en";

const STORAGE_KEY = "feedesk.lang";

const zh = {
  appName: "FeeDesk 收费台",
  tagline: "机构收费财务台",
  langToggle: "English",
  langToggleTitle: "Switch to English",
  "nav.dashboard": "概览",
  "nav.org": "组织架构",
  "nav.members": "名册与成员",
  "nav.classes": "学期与班级",
  "nav.fees": "收费项目",
  "nav.bills": "账单与收款",
  "nav.receipts": "电子收据",
  "nav.reminders": "催缴提醒",
  "nav.reconcile": "对账",
  "nav.reports": "报表",
  "nav.settings": "设置",
  "dashboard.welcome": "欢迎使用 FeeDesk",
  "dashboard.intro": "这是第一个版本：窗口、导航和与核心库的连接已经就绪，各项功能将逐步上线。",
  "dashboard.about": "关于本机",
  "dashboard.name": "应用",
  "dashboard.version": "版本",
  "dashboard.dataDir": "数据目录",
  "dashboard.loading": "正在读取…",
  "dashboard.error": "无法读取应用信息",
  "coming.badge": "即将推出",
  "coming.lead": "此页面尚未实现。计划内容：",
  "coming.org": "总部 → 区域 → 门店 的组织树：新增、改名、移动、归档，历史不丢失。",
  "coming.members": "从 Excel/CSV 导入名册（表头识别、逐行校验、预览、撤销），十万级成员的搜索与筛选，敏感信息脱敏。",
  "coming.classes": "学期与班级，以及成员的入班管理。",
  "coming.fees": "收费项目与定向收费方案：固定金额、精确到分的均摊、早鸟价、折扣、自主申报，指定收款账户。",
  "coming.bills": "按方案生成账单，记录线上线下收款与退款，幂等、不重复扣款。",
  "coming.receipts": "不可篡改的电子收据：连续编号、金额大写、PDF 归档与哈希链校验。",
  "coming.reminders": "分级逾期提醒（1 天、7 天、14 天）与人工跟进清单。",
  "coming.reconcile": "与微信支付、支付宝、银联对账单逐笔核对，差异一目了然。",
  "coming.reports": "按组织子树汇总的收费、欠费与渠道报表，可导出 Excel。",
  "coming.settings": "机构信息、收款账户（密钥仅存于系统钥匙串）、语言与提醒渠道。",
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  appName: "FeeDesk",
  tagline: "Fee collection console",
  langToggle: "中文",
  langToggleTitle: "切换到中文",
  "nav.dashboard": "Dashboard",
  "nav.org": "Organisation",
  "nav.members": "Rosters & Members",
  "nav.classes": "Terms & Classes",
  "nav.fees": "Fees",
  "nav.bills": "Bills & Collection",
  "nav.receipts": "Receipts",
  "nav.reminders": "Reminders",
  "nav.reconcile": "Reconciliation",
  "nav.reports": "Reports",
  "nav.settings": "Settings",
  "dashboard.welcome": "Welcome to FeeDesk",
  "dashboard.intro":
    "This is the first version: the window, the navigation and the bridge to the core are in place; the features arrive one by one.",
  "dashboard.about": "About this installation",
  "dashboard.name": "Application",
  "dashboard.version": "Version",
  "dashboard.dataDir": "Data folder",
  "dashboard.loading": "Loading…",
  "dashboard.error": "Could not read the application info",
  "coming.badge": "Coming soon",
  "coming.lead": "This page is not built yet. What it will do:",
  "coming.org": "The HQ → region → store tree: add, rename, move and archive units without losing history.",
  "coming.members":
    "Import rosters from Excel/CSV (header detection, row-by-row checks, preview, undo); search and filter 100k members; personal data masked.",
  "coming.classes": "Terms and classes, and enrolling members in classes.",
  "coming.fees":
    "Fee items and directed fee plans: fixed amounts, exact-to-the-fen splits, early-bird tiers, discounts, self-declared amounts, a designated collection account.",
  "coming.bills": "Issue bills from plans; record online and offline payments and refunds, idempotent, never charged twice.",
  "coming.receipts": "Immutable e-receipts: gap-free numbers, amounts in Chinese capitals, PDF archive and a verifiable hash chain.",
  "coming.reminders": "Tiered overdue reminders (1, 7 and 14 days) and a manual follow-up list.",
  "coming.reconcile": "Match WeChat Pay, Alipay and UnionPay statements line by line and show every difference.",
  "coming.reports": "Collection, arrears and channel reports rolled up over any part of the organisation, exported to Excel.",
  "coming.settings": "Institution details, collection accounts (secrets kept only in the OS keyring), language and reminder channels.",
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
  t: (key: MessageKey) => string;
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
    () => ({ lang, toggle, t: (key) => messages[lang][key] }),
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
