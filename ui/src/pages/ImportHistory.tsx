// Import batches, newest first, each undoable while nothing depends on it.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";

import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorNote } from "../components/ErrorNote";
import { useI18n } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import { rosterUndo } from "../ipc/roster";
import { localTime } from "../labels";
import { useHistory, useRefreshAll } from "../queries";

export function ImportHistory() {
  const { t } = useI18n();
  const history = useHistory();
  const refresh = useRefreshAll();
  const undo = useMutation({ mutationFn: rosterUndo, onSuccess: () => refresh() });
  const [asking, setAsking] = useState<number | null>(null);
  const batch = history.data?.find((b) => b.id === asking);

  return (
    <section className="card">
      <ErrorNote error={history.error && asIpcError(history.error)} testId="history-error" />
      <ErrorNote error={undo.error && asIpcError(undo.error)} testId="undo-error" />
      {undo.data && (
        <p className="ok" data-testid="undo-done">
          {t("history.undoDone", { id: undo.data.batch_id, removed: undo.data.members_removed, restored: undo.data.members_restored })}
        </p>
      )}
      {history.data && history.data.length === 0 && <p className="muted">{t("history.empty")}</p>}
      {history.data && history.data.length > 0 && (
        <table className="grid" data-testid="history-list">
          <thead>
            <tr>
              <th>#</th>
              <th>{t("history.whenLocal")}</th>
              <th>{t("history.file")}</th>
              <th>{t("history.unit")}</th>
              <th className="num">{t("history.counts")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {history.data.map((b) => (
              <tr key={b.id} data-testid="history-row" className={b.undone_at ? "undone" : undefined}>
                <td>{b.id}</td>
                <td data-testid="history-when" data-utc={b.created_at}>
                  {localTime(b.created_at)}
                </td>
                <td>{b.file_name}</td>
                <td>{b.unit}</td>
                <td className="num">
                  {b.imported} / {b.updated} / {b.rejected}
                </td>
                <td>
                  {b.undone_at ? (
                    <span className="muted small">{t("history.undone")}</span>
                  ) : (
                    <button type="button" data-testid={`undo-${b.id}`} disabled={undo.isPending} onClick={() => setAsking(b.id)}>
                      {t("history.undo")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {batch && (
        <ConfirmDialog
          title={t("history.undoTitle", { id: batch.id })}
          testId="undo-confirm-dialog"
          danger
          text={t("history.undoConfirm", {
            id: batch.id,
            file: batch.file_name,
            unit: batch.unit,
            when: localTime(batch.created_at),
            imported: batch.imported,
            updated: batch.updated,
          })}
          onConfirm={() => undo.mutate(batch.id)}
          onClose={() => setAsking(null)}
        />
      )}
    </section>
  );
}
