// Reminders (催缴提醒): the policies, the next batch to approve with its rendered messages, the
// delivery log with its failures, and the follow-up list with assignees and notes. Every
// action is one typed IPC call into the same core path `feedesk remind` uses.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ConfirmDialog } from "../components/ConfirmDialog";
import { ErrorNote } from "../components/ErrorNote";
import { Pager, usePaged } from "../components/Pager";
import { useI18n, type MessageKey } from "../i18n";
import { asIpcError } from "../ipc/invoke";
import {
  followupList,
  followupUpdate,
  reminderApprove,
  reminderChannels,
  reminderLog,
  reminderPolicies,
  reminderPolicySet,
  reminderPreview,
  reminderResolve,
  reminderRun,
  type FollowUp,
  type RunReport,
} from "../ipc/reminders";
import { formatMoney } from "../money";
import { keys, useRefreshAll } from "../queries";
import { toIsoDate } from "../dates";
import { localTime } from "../labels";

const rk = {
  policies: [...keys.all, "reminder-policies"] as const,
  channels: [...keys.all, "reminder-channels"] as const,
  preview: [...keys.all, "reminder-preview"] as const,
  log: [...keys.all, "reminder-log"] as const,
  followups: [...keys.all, "followups"] as const,
};

export function Reminders() {
  return (
    <div className="stack" data-testid="reminders-page">
      <Batch />
      <FollowUps />
      <DeliveryLog />
      <Policies />
    </div>
  );
}

function tierLabel(t: (k: MessageKey, v?: Record<string, string | number>) => string, tier: number, days: number) {
  return t("rem.tier", { tier, days });
}

/** The next batch: what is due now (rendered), what waits for approval; approve and send. */
function Batch() {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const preview = useQuery({ queryKey: rk.preview, queryFn: reminderPreview });
  const [report, setReport] = useState<RunReport | null>(null);
  // What the user unticked. A row is ticked unless unticked, so rows newly queued arrive
  // ticked, and after an approval the rows the user left unticked stay so (they used to come
  // back ticked).
  const [unticked, setUnticked] = useState<Set<number>>(() => new Set());
  const [asking, setAsking] = useState<"queue" | "approve" | null>(null);
  const queue = useMutation({
    mutationFn: reminderRun,
    onSuccess: async (r) => {
      setReport(r);
      await refresh();
    },
  });
  const approve = useMutation({
    mutationFn: (ids: number[]) => reminderApprove(ids),
    onSuccess: async (r) => {
      setReport(r);
      await refresh();
    },
  });
  const waiting = preview.data?.awaiting_approval ?? [];
  const selected = new Set(waiting.filter((r) => !unticked.has(r.id)).map((r) => r.id));
  const stores = [...new Set(waiting.map((r) => r.unit).filter(Boolean))].sort();
  const toggle = (id: number) => {
    const next = new Set(unticked);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setUnticked(next);
  };
  const only = (keep: (unit: string) => boolean) => setUnticked(new Set(waiting.filter((r) => !keep(r.unit)).map((r) => r.id)));
  const picked = waiting.filter((r) => selected.has(r.id));
  const channels = [...new Set(picked.map((r) => r.channel))].map((c) => t(`rem.channel.${c}` as MessageKey)).join("、");
  const due = preview.data?.due;
  const duePage = usePaged(due?.messages ?? []);
  const waitingPage = usePaged(waiting);
  const dueCount = (due?.messages.length ?? 0) + (due?.groups.length ?? 0);
  return (
    <section className="card" data-testid="rem-batch">
      <h3>{t("rem.batch")}</h3>
      <p className="muted">{t("rem.batchLead")}</p>
      {preview.data?.quiet_now && <p className="notice" data-testid="rem-quiet">{t("rem.quietNow")}</p>}
      <div className="row-form">
        <button
          type="button"
          className="primary"
          data-testid="rem-queue"
          disabled={queue.isPending || dueCount === 0}
          onClick={() => setAsking("queue")}
        >
          {t("rem.queue", { n: dueCount })}
        </button>
        <button
          type="button"
          className="primary"
          data-testid="rem-approve"
          disabled={approve.isPending || selected.size === 0}
          onClick={() => setAsking("approve")}
        >
          {t("rem.approve", { n: selected.size })}
        </button>
      </div>
      <ErrorNote error={(queue.error || approve.error) && asIpcError(queue.error || approve.error)} testId="rem-batch-error" />
      {asking === "queue" && (
        <ConfirmDialog
          title={t("rem.queueTitle")}
          testId="rem-queue-confirm-dialog"
          text={t("rem.queueConfirm", { n: dueCount })}
          onConfirm={() => queue.mutate()}
          onClose={() => setAsking(null)}
        />
      )}
      {asking === "approve" && (
        <ConfirmDialog
          title={t("rem.approveTitle")}
          testId="rem-approve-confirm-dialog"
          text={t("rem.approveConfirm", {
            n: picked.length,
            channels,
            people: new Set(picked.map((r) => r.about)).size,
            left: waiting.length - picked.length,
          })}
          onConfirm={() => approve.mutate(picked.map((r) => r.id))}
          onClose={() => setAsking(null)}
        />
      )}
      {report && <RunSummary report={report} />}
      {due && dueCount > 0 && (
        <>
          <h4>{t("rem.dueNow")}</h4>
          <Pager testId="rem-due-pager" {...duePage} />
          <ul className="messages" data-testid="rem-due">
            {duePage.shown.map((m) => (
              <li key={`${m.bill_id}-${m.channel}`} data-testid="rem-due-message" data-channel={m.channel}>
                <div className="message-head">
                  <strong>{m.member}</strong> · {tierLabel(t, m.tier, m.tier_days)} · {t(`rem.channel.${m.channel}` as MessageKey)}
                  {m.recipient && <span className="muted"> → {m.recipient}</span>}
                  {m.skip_reason && <span className="status status-voided">{t("rem.cannotSend")}</span>}
                </div>
                {m.subject && <div className="message-subject">{m.subject}</div>}
                <div className="message-body">{m.skip_reason ?? m.body}</div>
              </li>
            ))}
            {due.groups.map((g) => (
              <li key={`${g.class_id}-${g.channel}`} data-testid="rem-due-group" data-channel={g.channel}>
                <div className="message-head">
                  <strong>{g.class_name}</strong> · {tierLabel(t, g.tier, g.tier_days)} · {t(`rem.channel.${g.channel}` as MessageKey)}
                </div>
                <div className="message-body">{g.body}</div>
              </li>
            ))}
          </ul>
        </>
      )}
      {waiting.length > 0 && (
        <>
          <h4>{t("rem.awaiting", { n: waiting.length })}</h4>
          <div className="row-form" data-testid="rem-select">
            <span className="muted" data-testid="rem-selected-count" data-n={selected.size}>
              {t("rem.selectedOf", { n: selected.size, total: waiting.length })}
            </span>
            <button type="button" data-testid="rem-select-all" onClick={() => only(() => true)}>
              {t("rem.selectAll")}
            </button>
            <button type="button" data-testid="rem-select-none" onClick={() => only(() => false)}>
              {t("rem.selectNone")}
            </button>
            {stores.length > 0 && (
              <select
                data-testid="rem-select-store"
                value=""
                onChange={(e) => {
                  const store = e.target.value;
                  if (store) only((unit) => unit === store);
                }}
              >
                <option value="">{t("rem.selectStore")}</option>
                {stores.map((u) => (
                  <option key={u} value={u}>
                    {u}
                  </option>
                ))}
              </select>
            )}
          </div>
          <Pager testId="rem-awaiting-pager" {...waitingPage} />
          <ul className="messages" data-testid="rem-awaiting">
            {waitingPage.shown.map((r) => (
              <li key={r.id} data-testid="rem-awaiting-row" data-id={r.id} data-unit={r.unit}>
                <label className="message-head">
                  <input type="checkbox" data-testid="rem-awaiting-check" checked={selected.has(r.id)} onChange={() => toggle(r.id)} />
                  <strong>{r.about}</strong> · {tierLabel(t, r.tier, r.tier_days)} · {t(`rem.channel.${r.channel}` as MessageKey)}
                  {r.recipient && <span className="muted"> → {r.recipient}</span>}
                </label>
                {r.subject && <div className="message-subject">{r.subject}</div>}
                <div className="message-body">{r.body}</div>
              </li>
            ))}
          </ul>
        </>
      )}
      {preview.data && dueCount === 0 && waiting.length === 0 && <p className="muted">{t("rem.nothingDue")}</p>}
    </section>
  );
}

function RunSummary({ report }: { report: RunReport }) {
  const { t } = useI18n();
  const c = report.total;
  return (
    <p className="notice" data-testid="rem-run-report" data-sent={c.sent} data-queued={c.queued}>
      {t("rem.report", {
        queued: c.queued,
        sent: c.sent,
        approval: c.awaiting_approval,
        quiet: c.waiting_quiet_hours,
        failed: c.failed + c.uncertain,
        skipped: c.skipped,
      })}
    </p>
  );
}

const OUTCOMES = ["", "promised", "paid", "dispute", "write_off_request"] as const;

/** The follow-up list (人工介入). */
function FollowUps() {
  const { t } = useI18n();
  const list = useQuery({ queryKey: rk.followups, queryFn: () => followupList(false) });
  const followupPage = usePaged(list.data ?? []);
  return (
    <section className="card" data-testid="rem-followups">
      <h3>{t("rem.followups")}</h3>
      {list.data && list.data.length === 0 && <p className="muted">{t("rem.noFollowups")}</p>}
      <Pager testId="rem-followups-pager" {...followupPage} />
      {list.data && list.data.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th>{t("members.no")}</th>
              <th>{t("members.name")}</th>
              <th>{t("rem.phone")}</th>
              <th className="num">{t("bills.outstanding")}</th>
              <th className="num nowrap">{t("rem.daysOverdue")}</th>
              <th>{t("rem.assignee")}</th>
              <th>{t("rem.outcome")}</th>
              <th>{t("rem.history")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {followupPage.shown.map((f) => (
              <FollowUpRow key={f.id} f={f} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function FollowUpRow({ f }: { f: FollowUp }) {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [assignee, setAssignee] = useState(f.assignee ?? "");
  const [note, setNote] = useState("");
  const [outcome, setOutcome] = useState(f.outcome ?? "");
  const [promised, setPromised] = useState(f.promised_on ?? "");
  const save = useMutation({
    mutationFn: () =>
      followupUpdate(f.bill_id, {
        assignee: assignee.trim() && assignee !== f.assignee ? assignee : null,
        note: note.trim() ? note : null,
        outcome: outcome && outcome !== f.outcome ? outcome : null,
        promised_on: outcome === "promised" && outcome !== f.outcome ? toIsoDate(promised) : null,
      }),
    onSuccess: async () => {
      setNote("");
      await refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const last = f.history.slice(-2);
  return (
    <tr data-testid="followup-row" data-bill-id={f.bill_id} data-member={f.member_no}>
      <td>
        {f.store}/{f.member_no}
      </td>
      <td className="nowrap">{f.member}</td>
      <td className="nowrap">{f.guardian_phone}</td>
      <td className="num">{formatMoney(f.outstanding, false)}</td>
      <td className="num">{f.days_overdue}</td>
      <td>
        <input data-testid="followup-assignee" value={assignee} size={8} onChange={(e) => setAssignee(e.target.value)} />
      </td>
      <td>
        <select data-testid="followup-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          {OUTCOMES.map((o) => (
            <option key={o} value={o}>
              {o ? t(`rem.outcome.${o}` as MessageKey) : "—"}
            </option>
          ))}
        </select>
        {outcome === "promised" && (
          <input data-testid="followup-promised" value={promised} size={10} placeholder={t("classes.datePlaceholder")} onChange={(e) => setPromised(e.target.value)} onBlur={() => setPromised(toIsoDate(promised))} />
        )}
      </td>
      <td className="history">
        {last.map((e, i) => (
          <div key={i} className="muted small">
            {localTime(e.at)} {t(`rem.event.${e.kind}` as MessageKey)} {e.kind === "opened" ? "" : e.text}
          </div>
        ))}
      </td>
      <td>
        <form className="inline-form" onSubmit={submit}>
          <input data-testid="followup-note" value={note} placeholder={t("rem.note")} size={14} onChange={(e) => setNote(e.target.value)} />
          <button type="submit" data-testid="followup-save" disabled={save.isPending}>
            {t("common.save")}
          </button>
        </form>
        <ErrorNote error={save.error && asIpcError(save.error)} testId="followup-error" />
      </td>
    </tr>
  );
}

/** The delivery log, failures first in mind: each row's status, attempts and last error. */
function DeliveryLog() {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const [status, setStatus] = useState("");
  const log = useQuery({
    queryKey: [...rk.log, status],
    queryFn: () => reminderLog({ status: status || null, bill_id: null, limit: 200 }),
  });
  const logPage = usePaged(log.data ?? []);
  const resolve = useMutation({
    mutationFn: ({ id, delivered }: { id: number; delivered: boolean }) => reminderResolve(id, delivered),
    onSuccess: () => refresh(),
  });
  return (
    <section className="card" data-testid="rem-log">
      <h3>{t("rem.log")}</h3>
      <label className="row-form">
        <span>{t("members.status")}</span>
        <select data-testid="rem-log-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">{t("common.all")}</option>
          {["pending", "sent", "failed", "uncertain", "cancelled", "skipped"].map((s) => (
            <option key={s} value={s}>
              {t(`rem.status.${s}` as MessageKey)}
            </option>
          ))}
        </select>
      </label>
      {log.data && log.data.length === 0 && <p className="muted">{t("rem.logEmpty")}</p>}
      <Pager testId="rem-log-pager" {...logPage} />
      {log.data && log.data.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th>{t("rem.about")}</th>
              <th>{t("rem.tierShort")}</th>
              <th>{t("rem.channelShort")}</th>
              <th>{t("members.status")}</th>
              <th className="num">{t("rem.attempts")}</th>
              <th>{t("rem.sentAt")}</th>
              <th>{t("rem.problem")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {logPage.shown.map((r) => (
              <tr key={r.id} data-testid="rem-log-row" data-status={r.status} className={r.status === "failed" || r.status === "uncertain" ? "row-problem" : undefined}>
                <td>{r.about}</td>
                <td>{r.tier}</td>
                <td>{t(`rem.channel.${r.channel}` as MessageKey)}</td>
                <td>
                  <span className={`status rem-${r.status}`}>{t(`rem.status.${r.status}` as MessageKey)}</span>
                </td>
                <td className="num">{r.attempts}</td>
                <td className="nowrap">{r.sent_at ? localTime(r.sent_at) : ""}</td>
                <td className="small">{r.last_error}</td>
                <td className="actions">
                  {(r.status === "uncertain" || r.status === "failed") && (
                    <>
                      <button type="button" onClick={() => resolve.mutate({ id: r.id, delivered: true })}>
                        {t("rem.delivered")}
                      </button>
                      <button type="button" onClick={() => resolve.mutate({ id: r.id, delivered: false })}>
                        {t("rem.sendAgain")}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Policies per unit or plan, and the configured senders. */
function Policies() {
  const { t } = useI18n();
  const refresh = useRefreshAll();
  const policies = useQuery({ queryKey: rk.policies, queryFn: reminderPolicies });
  const channels = useQuery({ queryKey: rk.channels, queryFn: reminderChannels });
  const [unit, setUnit] = useState("HQ");
  const [tiers, setTiers] = useState("1:email,7:email+sms,14:email+sms");
  const [quiet, setQuiet] = useState("21:00-08:00");
  const [auto, setAuto] = useState(false);
  const save = useMutation({
    mutationFn: () =>
      reminderPolicySet({
        unit_code: unit,
        plan_id: null,
        tiers,
        escalate_days: null,
        auto_send: auto,
        quiet_hours: quiet,
        payment_link: null,
        contact_phone: null,
      }),
    onSuccess: () => refresh(),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <section className="card" data-testid="rem-policies">
      <h3>{t("rem.policies")}</h3>
      <p className="muted">{t("rem.policiesLead")}</p>
      {policies.data && policies.data.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th>{t("rem.scope")}</th>
              <th>{t("rem.tiers")}</th>
              <th>{t("rem.quiet")}</th>
              <th>{t("rem.sending")}</th>
            </tr>
          </thead>
          <tbody>
            {policies.data.map((p) => (
              <tr key={p.scope} data-testid="rem-policy-row" data-scope={p.scope}>
                <td>{p.scope}</td>
                <td>
                  {p.tiers
                    .map((x) => `${x.days}${t("rem.daysShort")} ${x.channels.map((c) => t(`rem.channel.${c}` as MessageKey)).join("+")}`)
                    .join(" → ")}
                  {` → ${t("rem.followupAfter", { n: p.escalate_days })}`}
                </td>
                <td>
                  {p.quiet_start}–{p.quiet_end}
                </td>
                <td>{p.auto_send ? t("rem.auto") : t("rem.manual")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form className="row-form" onSubmit={submit}>
        <label>
          <span>{t("rem.unit")}</span>
          <input data-testid="rem-policy-unit" value={unit} size={6} onChange={(e) => setUnit(e.target.value)} />
        </label>
        <label>
          <span>{t("rem.tiers")}</span>
          <input data-testid="rem-policy-tiers" value={tiers} size={30} onChange={(e) => setTiers(e.target.value)} />
        </label>
        <label>
          <span>{t("rem.quiet")}</span>
          <input data-testid="rem-policy-quiet" value={quiet} size={11} onChange={(e) => setQuiet(e.target.value)} />
        </label>
        <label>
          <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} />
          <span>{t("rem.auto")}</span>
        </label>
        <button type="submit" className="primary" data-testid="rem-policy-save" disabled={save.isPending}>
          {t("common.save")}
        </button>
      </form>
      <ErrorNote error={save.error && asIpcError(save.error)} testId="rem-policy-error" />
      <h4>{t("rem.senders")}</h4>
      {channels.data && channels.data.length === 0 && <p className="muted">{t("rem.noSenders")}</p>}
      <ul data-testid="rem-senders">
        {(channels.data ?? []).map((c) => (
          <li key={c.id}>
            {t(`rem.channel.${c.channel}` as MessageKey)}
            {c.class_name ? ` · ${c.class_name}` : ""} · {c.rate_per_minute}/min
            {c.has_secret ? ` · ${t("rem.keyring")}` : ""}
          </li>
        ))}
      </ul>
    </section>
  );
}
