// Asking before a one-click action that moves money, sends messages or removes data: the
// effect in words, a confirm button and a way back. (Forms use FormDialog's `confirm`.)
import type { ReactNode } from "react";

import { useI18n } from "../i18n";
import { Dialog } from "./Dialog";

export function ConfirmDialog({
  title,
  testId,
  text,
  danger = false,
  onConfirm,
  onClose,
}: {
  title: ReactNode;
  /** The dialog's test id; the text is `${testId}-text`, the button `${testId}-confirm`. */
  testId: string;
  text: ReactNode;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  return (
    <Dialog title={title} testId={testId} onClose={onClose}>
      <p className="confirm-text" data-testid={`${testId}-text`}>
        {text}
      </p>
      <div className="row-form dialog-actions">
        <button
          type="button"
          className={danger ? "danger" : "primary"}
          data-testid={`${testId}-confirm`}
          onClick={() => {
            onClose();
            onConfirm();
          }}
        >
          {t("common.confirm")}
        </button>
        <button type="button" data-testid={`${testId}-cancel`} onClick={onClose}>
          {t("common.cancel")}
        </button>
      </div>
    </Dialog>
  );
}
