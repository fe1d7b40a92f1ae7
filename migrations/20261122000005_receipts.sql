-- E-receipts: one per successful payment, issued in the payment's transaction, numbered
-- gap-free per issuing store and year (XH-2026-000123), append-only and hash-chained per store.
-- Corrections are 红冲: a reversal record (kind 'reversal') that points to the original, then a
-- new receipt; nothing is ever edited. The PDF is rendered from the record after commit and
-- archived under the data folder; receipt_files keeps its SHA-256.
-- Forward-only: never edit this file once landed.

-- The last number used per issuing store and year. Updated inside the issuing transaction, so
-- a rolled-back payment consumes no number.
CREATE TABLE receipt_counters (
    unit_id   INTEGER NOT NULL REFERENCES units (id),
    year      INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL CHECK (last_seq > 0),
    PRIMARY KEY (unit_id, year)
) WITHOUT ROWID;

CREATE TABLE receipts (
    id           INTEGER PRIMARY KEY,
    number       TEXT    NOT NULL UNIQUE,            -- XH-2026-000123
    unit_id      INTEGER NOT NULL REFERENCES units (id),   -- the issuing store
    year         INTEGER NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq > 0),
    kind         TEXT    NOT NULL CHECK (kind IN ('receipt', 'reversal')),
    payment_id   INTEGER NOT NULL REFERENCES payments (id),
    -- A reversal (红冲) names the receipt it cancels.
    original_id  INTEGER REFERENCES receipts (id),
    -- For search; what is printed is all in content_json.
    bill_id      INTEGER NOT NULL REFERENCES bills (id),
    member_id    INTEGER NOT NULL REFERENCES members (id),
    class_id     INTEGER REFERENCES classes (id),
    term_id      INTEGER REFERENCES terms (id),
    amount_fen   INTEGER NOT NULL,                   -- negative on a reversal
    issued_at    TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    -- Everything the receipt shows, as canonical JSON: the hash covers it.
    content_json TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    UNIQUE (unit_id, year, seq),
    CHECK ((kind = 'reversal') = (original_id IS NOT NULL)),
    CHECK ((kind = 'reversal') = (amount_fen < 0))
);
CREATE INDEX receipts_payment ON receipts (payment_id);
CREATE INDEX receipts_member ON receipts (member_id);
CREATE INDEX receipts_class ON receipts (class_id);
CREATE INDEX receipts_term ON receipts (term_id);
CREATE INDEX receipts_issued ON receipts (issued_at);
-- A receipt is reversed at most once.
CREATE UNIQUE INDEX receipts_one_reversal ON receipts (original_id) WHERE original_id IS NOT NULL;

CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts are append-only; correct one by voiding it (红冲) and reissuing');
END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts are append-only; correct one by voiding it (红冲) and reissuing');
END;

-- The archived PDF of a receipt: written once, after the receipt's transaction committed.
CREATE TABLE receipt_files (
    receipt_id  INTEGER PRIMARY KEY REFERENCES receipts (id),
    -- Relative to the data folder.
    path        TEXT    NOT NULL,
    paper       TEXT    NOT NULL CHECK (paper IN ('a5', 'a4')),
    sha256      TEXT    NOT NULL,
    bytes       INTEGER NOT NULL,
    archived_at TEXT    NOT NULL
);

CREATE TRIGGER receipt_files_no_update BEFORE UPDATE ON receipt_files
BEGIN
    SELECT RAISE(ABORT, 'archived receipt files are append-only');
END;
CREATE TRIGGER receipt_files_no_delete BEFORE DELETE ON receipt_files
BEGIN
    SELECT RAISE(ABORT, 'archived receipt files are append-only');
END;

-- Receipt settings (paper size), one row per key; changes are audited.
CREATE TABLE receipt_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
