// A modal dialog over the page: a title, a close button (and Escape), and its content.
import { useEffect, useRef, type ReactNode } from "react";

import { useI18n } from "../i18n";

export function Dialog({
  title,
  testId,
  onClose,
  wide = false,
  className,
  children,
}: {
  title: ReactNode;
  testId: string;
  onClose: () => void;
  wide?: boolean;
  /** An extra class on the dialog box (its own width, say). */
  className?: string;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && close.current();
    window.addEventListener("keydown", onKey);
    // Focus the first field once, so typing starts in the dialog.
    ref.current?.querySelector<HTMLElement>("input, select, textarea, button.primary")?.focus();
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div className="dialog-backdrop">
      <div ref={ref} className={["card dialog", wide ? "wide" : "", className ?? ""].filter(Boolean).join(" ")} role="dialog" aria-modal="true" data-testid={testId}>
        <header className="dialog-head">
          <h3>{title}</h3>
          <button type="button" className="close" aria-label={t("common.close")} data-testid={`${testId}-close`} onClick={onClose}>
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}
