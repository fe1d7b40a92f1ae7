// A dialog that is one form: a lead line, the fields, the error of the last try, and the
// submit and cancel buttons. The money dialogs (pay, refund, void) and the others share it, so
// each states only its fields and what submitting does. A dialog that moves money or removes
// data passes `confirm`: submitting first shows that sentence (the effect in words) and only
// the second button does it.
import { useState, type FormEvent, type ReactNode } from "react";

import { useI18n } from "../i18n";
import type { IpcError } from "../ipc/invoke";
import { Dialog } from "./Dialog";
import { ErrorNote } from "./ErrorNote";

export function FormDialog({
  title,
  testId,
  lead,
  error,
  submitLabel,
  danger = false,
  pending,
  status,
  submittedAt,
  confirm,
  onSubmit,
  onClose,
  children,
}: {
  title: ReactNode;
  /** The dialog's test id; the form is `${testId}` without "-dialog" plus "-form", the submit button "-submit", the error "-error". */
  testId: string;
  lead?: ReactNode;
  error: IpcError | null;
  submitLabel: ReactNode;
  /** A destructive action (void): the submit button is red. */
  danger?: boolean;
  pending: boolean;
  /** The mutation's status and submission time, for tests that wait on a settled try. */
  status?: string;
  submittedAt?: number;
  /** The effect in words ("退款 ¥200.00 给 …"): asked before `onSubmit` runs. */
  confirm?: ReactNode;
  onSubmit: () => void;
  onClose: () => void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const base = testId.replace(/-dialog$/, "");
  const [asking, setAsking] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (confirm && !asking) setAsking(true);
    else {
      setAsking(false);
      onSubmit();
    }
  };
  if (asking && confirm) {
    return (
      <Dialog title={title} testId={testId} onClose={onClose}>
        <form className="dialog-form" onSubmit={submit} data-testid={`${base}-form`} data-status={status} data-submitted={submittedAt}>
          <p className="confirm-text" data-testid={`${base}-confirm-text`}>
            {confirm}
          </p>
          <div className="row-form dialog-actions">
            <button type="submit" className={danger ? "danger" : "primary"} data-testid={`${base}-confirm`} disabled={pending}>
              {t("common.confirm")}
            </button>
            <button type="button" data-testid={`${base}-back`} onClick={() => setAsking(false)}>
              {t("common.back")}
            </button>
          </div>
        </form>
      </Dialog>
    );
  }
  return (
    <Dialog title={title} testId={testId} onClose={onClose}>
      {lead && <p className="muted small">{lead}</p>}
      <form className="dialog-form" onSubmit={submit} data-testid={`${base}-form`} data-status={status} data-submitted={submittedAt}>
        {children}
        <ErrorNote error={error} testId={`${base}-error`} />
        <div className="row-form dialog-actions">
          <button type="submit" className={danger ? "danger" : "primary"} data-testid={`${base}-submit`} disabled={pending}>
            {submitLabel}
          </button>
          <button type="button" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
