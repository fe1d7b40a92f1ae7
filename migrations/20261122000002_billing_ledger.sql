-- Directed-fee billing and the double-entry ledger: collection accounts, fee items, fee plans,
-- bills, payments, refunds, idempotency keys, and per-unit books (chart of accounts, journal
-- entries and lines, append-only), with running totals kept by triggers so that dashboards
-- and trial balances never scan millions of rows.
-- Amounts are integer fen. Forward-only: never edit this file once landed.

CREATE TABLE collection_accounts (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    channel     TEXT    NOT NULL CHECK (channel IN ('wechat', 'alipay', 'unionpay', 'offline-cash', 'offline-bank')),
    name        TEXT    NOT NULL,
    -- Where the channel's secrets live in the OS keyring (the channels issue fills it in);
    -- never a secret itself.
    secret_ref  TEXT,
    created_at  TEXT    NOT NULL,
    archived_at TEXT,
    UNIQUE (unit_id, name)
);

CREATE TABLE fee_items (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    name        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    archived_at TEXT,
    UNIQUE (unit_id, name)
);

CREATE TABLE fee_plans (
    id               INTEGER PRIMARY KEY,
    fee_item_id      INTEGER NOT NULL REFERENCES fee_items (id),
    -- The unit the plan is run by; class and unit targets lie inside its subtree.
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    target_kind      TEXT    NOT NULL CHECK (target_kind IN ('class', 'term', 'unit')),
    class_id         INTEGER REFERENCES classes (id),
    term_id          INTEGER REFERENCES terms (id),
    -- The rule as written (`fixed:3000`, `split:100`, `tiers:...`, `declared:50-500`).
    rule             TEXT    NOT NULL,
    due_on           TEXT    NOT NULL,
    allow_partial    INTEGER NOT NULL CHECK (allow_partial IN (0, 1)),
    account_id       INTEGER NOT NULL REFERENCES collection_accounts (id),
    created_at       TEXT    NOT NULL,
    last_issued_at   TEXT,
    -- A class plan also records its class's term, so bills can be filtered by term.
    CHECK ((target_kind = 'class') = (class_id IS NOT NULL)),
    CHECK (target_kind <> 'term' OR term_id IS NOT NULL)
);

-- A per-member discount on a plan, with the reason the audit log keeps.
CREATE TABLE plan_discounts (
    plan_id    INTEGER NOT NULL REFERENCES fee_plans (id),
    member_id  INTEGER NOT NULL REFERENCES members (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('percent', 'fixed')),
    -- Percent in hundredths of a percent (1000 = 10%), or fen.
    value      INTEGER NOT NULL CHECK (value > 0),
    reason     TEXT    NOT NULL,
    PRIMARY KEY (plan_id, member_id)
) WITHOUT ROWID;

CREATE TABLE bills (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES fee_plans (id),
    member_id     INTEGER NOT NULL REFERENCES members (id),
    -- Whose books the bill is in: the member's home store when it was issued.
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    gross_fen     INTEGER NOT NULL CHECK (gross_fen >= 0),
    discount_fen  INTEGER NOT NULL CHECK (discount_fen >= 0 AND discount_fen <= gross_fen),
    due_fen       INTEGER NOT NULL CHECK (due_fen >= 0),
    paid_fen      INTEGER NOT NULL DEFAULT 0 CHECK (paid_fen >= 0 AND paid_fen <= due_fen),
    refunded_fen  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= paid_fen),
    status        TEXT    NOT NULL CHECK (status IN ('open', 'partial', 'paid', 'voided', 'refunded')),
    due_on        TEXT    NOT NULL,
    issued_at     TEXT    NOT NULL,
    closed_at     TEXT,
    note          TEXT,
    -- Why a voided bill was voided: 'left' (the member left the plan's target, voided by a
    -- re-issue; re-billed if they come back) or 'manual' (a person voided it; never re-billed).
    void_reason   TEXT CHECK (void_reason IN ('left', 'manual')),
    CHECK ((status = 'voided') = (void_reason IS NOT NULL))
);
-- One live (not voided) bill per member per plan.
CREATE UNIQUE INDEX bills_one_live ON bills (plan_id, member_id) WHERE status <> 'voided';
CREATE INDEX bills_plan_member ON bills (plan_id, member_id);
CREATE INDEX bills_unit_status ON bills (unit_id, status);
CREATE INDEX bills_member ON bills (member_id);

CREATE TABLE payments (
    id          INTEGER PRIMARY KEY,
    bill_id     INTEGER NOT NULL REFERENCES bills (id),
    account_id  INTEGER NOT NULL REFERENCES collection_accounts (id),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    refunded_fen INTEGER NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0 AND refunded_fen <= amount_fen),
    -- Bank transfer reference, or the channel's transaction id.
    reference   TEXT,
    received_at TEXT    NOT NULL,
    actor       TEXT    NOT NULL
);
CREATE INDEX payments_bill ON payments (bill_id);

CREATE TABLE refunds (
    id          INTEGER PRIMARY KEY,
    payment_id  INTEGER NOT NULL REFERENCES payments (id),
    amount_fen  INTEGER NOT NULL CHECK (amount_fen > 0),
    reason      TEXT    NOT NULL,
    refunded_at TEXT    NOT NULL,
    actor       TEXT    NOT NULL
);
CREATE INDEX refunds_payment ON refunds (payment_id);

-- Every money call's idempotency key: the request it was first used with and what it returned.
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    operation    TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    result_json  TEXT NOT NULL,
    created_at   TEXT NOT NULL
) WITHOUT ROWID;

-- The books. Each unit has its own chart of accounts, created as it is first needed.
CREATE TABLE ledger_accounts (
    id       INTEGER PRIMARY KEY,
    unit_id  INTEGER NOT NULL REFERENCES units (id),
    code     TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    kind     TEXT    NOT NULL CHECK (kind IN ('asset', 'income', 'contra_income', 'expense')),
    UNIQUE (unit_id, code)
);

CREATE TABLE journal_entries (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    posted_at     TEXT    NOT NULL,
    kind          TEXT    NOT NULL,  -- bill.issue, bill.void, payment, refund, bill.close, bill.declare
    bill_id       INTEGER REFERENCES bills (id),
    payment_id    INTEGER REFERENCES payments (id),
    refund_id     INTEGER REFERENCES refunds (id),
    memo          TEXT    NOT NULL,
    -- Declared totals: the lines must add up to them on both sides (checked as lines arrive).
    total_fen     INTEGER NOT NULL CHECK (total_fen > 0)
);
CREATE INDEX journal_entries_unit ON journal_entries (unit_id);
CREATE INDEX journal_entries_bill ON journal_entries (bill_id);

CREATE TABLE journal_lines (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES journal_entries (id),
    account_id  INTEGER NOT NULL REFERENCES ledger_accounts (id),
    debit_fen   INTEGER NOT NULL CHECK (debit_fen >= 0),
    credit_fen  INTEGER NOT NULL CHECK (credit_fen >= 0),
    CHECK ((debit_fen = 0) <> (credit_fen = 0))
);
CREATE INDEX journal_lines_entry ON journal_lines (entry_id);

CREATE TRIGGER journal_entries_no_update BEFORE UPDATE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;
CREATE TRIGGER journal_entries_no_delete BEFORE DELETE ON journal_entries
BEGIN
    SELECT RAISE(ABORT, 'journal entries are append-only');
END;
CREATE TRIGGER journal_lines_no_update BEFORE UPDATE ON journal_lines
BEGIN
    SELECT RAISE(ABORT, 'journal lines are append-only');
END;
CREATE TRIGGER journal_lines_no_delete BEFORE DELETE ON journal_lines
BEGIN
    SELECT RAISE(ABORT, 'journal lines are append-only');
END;

-- A line may not carry its entry past the entry's declared total on either side, and must be
-- in its entry's unit's books.
CREATE TRIGGER journal_lines_within_entry BEFORE INSERT ON journal_lines
BEGIN
    SELECT RAISE(ABORT, 'journal line exceeds its entry total')
    WHERE (SELECT coalesce(sum(debit_fen), 0) FROM journal_lines WHERE entry_id = NEW.entry_id) + NEW.debit_fen
            > (SELECT total_fen FROM journal_entries WHERE id = NEW.entry_id)
       OR (SELECT coalesce(sum(credit_fen), 0) FROM journal_lines WHERE entry_id = NEW.entry_id) + NEW.credit_fen
            > (SELECT total_fen FROM journal_entries WHERE id = NEW.entry_id);
    SELECT RAISE(ABORT, 'journal line posts to another unit''s account')
    WHERE (SELECT unit_id FROM ledger_accounts WHERE id = NEW.account_id)
       <> (SELECT unit_id FROM journal_entries WHERE id = NEW.entry_id);
END;

-- Running balance per ledger account, kept by the trigger below in the same transaction as the
-- line. Derived data: `feedesk ledger verify` recomputes it from the lines.
CREATE TABLE ledger_balances (
    account_id  INTEGER PRIMARY KEY REFERENCES ledger_accounts (id),
    debit_fen   INTEGER NOT NULL,
    credit_fen  INTEGER NOT NULL
);

CREATE TRIGGER journal_lines_balance AFTER INSERT ON journal_lines
BEGIN
    INSERT INTO ledger_balances (account_id, debit_fen, credit_fen)
    VALUES (NEW.account_id, NEW.debit_fen, NEW.credit_fen)
    ON CONFLICT (account_id) DO UPDATE SET
        debit_fen = debit_fen + excluded.debit_fen,
        credit_fen = credit_fen + excluded.credit_fen;
END;

-- Bill totals per unit, due date and status, kept by triggers: the dashboard's tiles, aging
-- buckets and drill-down tree read this small table instead of a million bills.
CREATE TABLE bill_totals (
    unit_id         INTEGER NOT NULL REFERENCES units (id),
    due_on          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    bills           INTEGER NOT NULL,
    due_fen         INTEGER NOT NULL,
    paid_fen        INTEGER NOT NULL,
    refunded_fen    INTEGER NOT NULL,
    PRIMARY KEY (unit_id, due_on, status)
) WITHOUT ROWID;

CREATE TRIGGER bills_totals_insert AFTER INSERT ON bills
BEGIN
    INSERT INTO bill_totals (unit_id, due_on, status, bills, due_fen, paid_fen, refunded_fen)
    VALUES (NEW.unit_id, NEW.due_on, NEW.status, 1, NEW.due_fen, NEW.paid_fen, NEW.refunded_fen)
    ON CONFLICT (unit_id, due_on, status) DO UPDATE SET
        bills = bills + 1,
        due_fen = due_fen + excluded.due_fen,
        paid_fen = paid_fen + excluded.paid_fen,
        refunded_fen = refunded_fen + excluded.refunded_fen;
END;

CREATE TRIGGER bills_totals_update AFTER UPDATE ON bills
BEGIN
    UPDATE bill_totals SET
        bills = bills - 1,
        due_fen = due_fen - OLD.due_fen,
        paid_fen = paid_fen - OLD.paid_fen,
        refunded_fen = refunded_fen - OLD.refunded_fen
    WHERE unit_id = OLD.unit_id AND due_on = OLD.due_on AND status = OLD.status;
    INSERT INTO bill_totals (unit_id, due_on, status, bills, due_fen, paid_fen, refunded_fen)
    VALUES (NEW.unit_id, NEW.due_on, NEW.status, 1, NEW.due_fen, NEW.paid_fen, NEW.refunded_fen)
    ON CONFLICT (unit_id, due_on, status) DO UPDATE SET
        bills = bills + 1,
        due_fen = due_fen + excluded.due_fen,
        paid_fen = paid_fen + excluded.paid_fen,
        refunded_fen = refunded_fen + excluded.refunded_fen;
END;

CREATE TRIGGER bills_no_delete BEFORE DELETE ON bills
BEGIN
    SELECT RAISE(ABORT, 'bills are never deleted; void them');
END;

-- Collections per unit and day received (net of nothing: refunds are kept apart), for the
-- dashboard's collection trend.
CREATE TABLE collection_days (
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    day          TEXT    NOT NULL,
    payments     INTEGER NOT NULL,
    paid_fen     INTEGER NOT NULL,
    PRIMARY KEY (unit_id, day)
) WITHOUT ROWID;

-- Asia/Shanghai (UTC+8, no daylight saving) is FeeDesk's business day, as in clock.rs.
CREATE TRIGGER payments_collection_day AFTER INSERT ON payments
BEGIN
    INSERT INTO collection_days (unit_id, day, payments, paid_fen)
    VALUES ((SELECT unit_id FROM bills WHERE id = NEW.bill_id), date(NEW.received_at, '+8 hours'), 1, NEW.amount_fen)
    ON CONFLICT (unit_id, day) DO UPDATE SET
        payments = payments + 1,
        paid_fen = paid_fen + excluded.paid_fen;
END;
