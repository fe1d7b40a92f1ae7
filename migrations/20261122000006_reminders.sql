-- Tiered overdue reminders: guardians' email and preferred channels, reminder policies per unit
-- or plan, the stop list and bill pauses, the senders' settings (their secrets live only in
-- the OS keyring), the outbox that makes every reminder go out at most once, and the manual
-- follow-up list (人工介入).
-- Forward-only: never edit this file once landed.

ALTER TABLE members ADD COLUMN guardian_email TEXT;
-- Comma-separated personal channels the guardian prefers (`email`, `sms`); NULL: the policy's.
ALTER TABLE members ADD COLUMN preferred_channels TEXT;

-- A policy for a unit (inherited down the tree) or a plan (overrides its units').
CREATE TABLE reminder_policies (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER REFERENCES units (id),
    plan_id       INTEGER REFERENCES fee_plans (id),
    -- [{"days": 1, "channels": ["email"], "tone": "gentle"}, ...], days ascending.
    tiers_json    TEXT    NOT NULL,
    -- Days after the last tier before the bill goes to the follow-up list.
    escalate_days INTEGER NOT NULL CHECK (escalate_days >= 0),
    -- 1: batches go out without a person approving them.
    auto_send     INTEGER NOT NULL CHECK (auto_send IN (0, 1)),
    -- Quiet hours in the institution's zone, 'HH:MM'; sends wait until they end.
    quiet_start   TEXT    NOT NULL,
    quiet_end     TEXT    NOT NULL,
    -- Where a guardian pays: a URL or words, with {bill} replaced by the bill's number.
    payment_link  TEXT,
    -- The store's phone the messages give for questions.
    contact_phone TEXT,
    updated_at    TEXT    NOT NULL,
    CHECK ((unit_id IS NULL) <> (plan_id IS NULL))
);
CREATE UNIQUE INDEX reminder_policies_unit ON reminder_policies (unit_id) WHERE unit_id IS NOT NULL;
CREATE UNIQUE INDEX reminder_policies_plan ON reminder_policies (plan_id) WHERE plan_id IS NOT NULL;

-- Members whose guardians are never reminded (opted out, complaint ...), with the reason.
CREATE TABLE reminder_stops (
    member_id  INTEGER PRIMARY KEY REFERENCES members (id),
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Bills whose reminders are paused (agreed instalments, under discussion ...), with the reason.
CREATE TABLE reminder_pauses (
    bill_id    INTEGER PRIMARY KEY REFERENCES bills (id),
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- How each channel is reached. Group robots may have one per class (class_id), else the
-- default (class_id NULL). Secrets (SMTP password, SMS AccessKey secret, a robot's key and
-- signing secret) are in the keyring under secret_ref; config_json holds none.
CREATE TABLE notify_channels (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'wecom', 'dingtalk')),
    class_id        INTEGER REFERENCES classes (id),
    config_json     TEXT    NOT NULL,
    secret_ref      TEXT,
    rate_per_minute INTEGER NOT NULL CHECK (rate_per_minute > 0),
    configured_at   TEXT    NOT NULL
);
CREATE UNIQUE INDEX notify_channels_one ON notify_channels (channel, coalesce(class_id, 0));

-- The outbox. A personal row is one message to one guardian about one bill; a group row is
-- one class's message to its group robot, listing the bills in reminder_outbox_bills.
-- pending -> sending -> sent | failed (retried with backoff) | uncertain (the process died
-- between sending and recording: never resent automatically); cancelled when the bill was
-- paid, voided, paused or its member stopped before it went; skipped when it cannot be sent
-- at all (no address, channel not configured), with the reason.
CREATE TABLE reminder_outbox (
    id              INTEGER PRIMARY KEY,
    bill_id         INTEGER REFERENCES bills (id),
    class_id        INTEGER REFERENCES classes (id),
    -- The institution's day a group message is for (one per class, tier, channel and day).
    group_day       TEXT,
    tier            INTEGER NOT NULL CHECK (tier >= 1),
    tier_days       INTEGER NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'wecom', 'dingtalk', 'call')),
    recipient       TEXT,
    -- The policy's quiet hours when queued ('HH:MM'): the row waits through them.
    quiet_start     TEXT    NOT NULL,
    quiet_end       TEXT    NOT NULL,
    -- The configured channel (notify_channels.id) that sent it: rate limits count per sender.
    sender_id       INTEGER REFERENCES notify_channels (id),
    subject         TEXT,
    body            TEXT    NOT NULL,
    -- The SMS template's variables (JSON), for SMS rows.
    sms_params      TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'cancelled', 'skipped')),
    approved_at     TEXT,
    approved_by     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    claimed_at      TEXT,
    sent_at         TEXT,
    provider_id     TEXT,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    CHECK ((bill_id IS NULL) <> (class_id IS NULL)),
    CHECK ((class_id IS NULL) = (group_day IS NULL))
);
-- At most one send per bill per tier per channel, across crashes and restarts.
CREATE UNIQUE INDEX reminder_outbox_once ON reminder_outbox (bill_id, tier, channel) WHERE bill_id IS NOT NULL;
-- At most one group message per class, tier, channel and day.
CREATE UNIQUE INDEX reminder_outbox_group_once ON reminder_outbox (class_id, tier, channel, group_day) WHERE class_id IS NOT NULL;
CREATE INDEX reminder_outbox_status ON reminder_outbox (status);
CREATE INDEX reminder_outbox_sender_claims ON reminder_outbox (sender_id, claimed_at);

-- The bills a group message names: each bill at most once per tier per group channel.
CREATE TABLE reminder_outbox_bills (
    outbox_id INTEGER NOT NULL REFERENCES reminder_outbox (id),
    bill_id   INTEGER NOT NULL REFERENCES bills (id),
    tier      INTEGER NOT NULL,
    channel   TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, bill_id),
    UNIQUE (bill_id, tier, channel)
) WITHOUT ROWID;

-- A bill past the last tier: on a person's list.
CREATE TABLE followups (
    id          INTEGER PRIMARY KEY,
    bill_id     INTEGER NOT NULL UNIQUE REFERENCES bills (id),
    status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    assignee    TEXT,
    -- promised (with promised_on), paid, dispute, write_off_request.
    outcome     TEXT CHECK (outcome IN ('promised', 'paid', 'dispute', 'write_off_request')),
    promised_on TEXT,
    opened_at   TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX followups_status ON followups (status);

-- What happened on a follow-up, append-only: opened, assigned, note, outcome, closed.
CREATE TABLE followup_events (
    id          INTEGER PRIMARY KEY,
    followup_id INTEGER NOT NULL REFERENCES followups (id),
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    text        TEXT    NOT NULL
);
CREATE INDEX followup_events_followup ON followup_events (followup_id);

-- A bill that is paid, voided or refunded cancels its unsent reminders and closes its
-- follow-up in the same transaction as the payment or void, whichever code path changed it.
-- The time is the bill's closed_at (the application's clock), else the database's.
CREATE TRIGGER bills_cancel_reminders AFTER UPDATE OF status ON bills
WHEN NEW.status IN ('paid', 'voided', 'refunded') AND OLD.status IN ('open', 'partial')
BEGIN
    UPDATE reminder_outbox
       SET status = 'cancelled',
           last_error = 'bill ' || NEW.status,
           next_attempt_at = NULL,
           updated_at = coalesce(NEW.closed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     WHERE bill_id = NEW.id AND status IN ('pending', 'failed');
    INSERT INTO followup_events (followup_id, at, actor, kind, text)
    SELECT id, coalesce(NEW.closed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')), 'system', 'closed', 'bill ' || NEW.status
      FROM followups WHERE bill_id = NEW.id AND status = 'open';
    UPDATE followups
       SET status = 'closed',
           outcome = CASE WHEN NEW.status = 'paid' THEN 'paid' ELSE outcome END,
           updated_at = coalesce(NEW.closed_at, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
     WHERE bill_id = NEW.id AND status = 'open';
END;

CREATE TRIGGER followup_events_no_update BEFORE UPDATE ON followup_events
BEGIN
    SELECT RAISE(ABORT, 'follow-up history is append-only');
END;
CREATE TRIGGER followup_events_no_delete BEFORE DELETE ON followup_events
BEGIN
    SELECT RAISE(ABORT, 'follow-up history is append-only');
END;
