// A core error, in the UI's language: a sentence per error code, the core's English detail
// small and secondary (in English mode the detail is the message itself).
import { useI18n, type MessageKey } from "../i18n";
import type { IpcError } from "../ipc/invoke";

export function ErrorNote({ error, testId }: { error: IpcError | null | undefined; testId: string }) {
  const { t, lang } = useI18n();
  if (!error) return null;
  const sentence = t(`error.${error.code}` as MessageKey);
  return (
    <div className="error-note" role="alert" data-testid={testId} data-code={error.code}>
      {lang === "zh" ? (
        <>
          <strong>{sentence}</strong>
          <small className="detail" lang="en">
            {error.message}
          </small>
        </>
      ) : (
        <strong>{error.message || sentence}</strong>
      )}
    </div>
  );
}
