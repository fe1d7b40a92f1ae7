-- Reconciliation against the channels' statement files (对账单): the files imported (each
-- once, known by its SHA-256; the file itself is kept in the data folder's statements/), each
-- run's summary, every discrepancy found with its resolution (an item keeps its identity across
-- re-runs, so a resolved item stays resolved), and the channel fees per account and day with
-- what of them has been posted to the books.
-- Amounts are integer fen. Forward-only: never edit this file once landed.

CREATE TABLE statements (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES collection_accounts (id),
    sha256       TEXT    NOT NULL UNIQUE,
    -- wechat-trade (WeChat Pay trade bill) or alipay-detail (Alipay business-detail bill).
    format       TEXT    NOT NULL CHECK (format IN ('wechat-trade', 'alipay-detail')),
    -- The name it was imported under, and where the copy is kept (relative to the data folder).
    file_name    TEXT    NOT NULL,
    stored_path  TEXT    NOT NULL,
    lines        INTEGER NOT NULL,
    payments     INTEGER NOT NULL,
    refunds      INTEGER NOT NULL,
    -- The Beijing-time days its lines fall on (NULL for a statement without lines).
    first_day    TEXT,
    last_day     TEXT,
    imported_at  TEXT    NOT NULL,
    actor        TEXT    NOT NULL
);
CREATE INDEX statements_account ON statements (account_id, first_day);

CREATE TABLE recon_runs (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES collection_accounts (id),
    from_day     TEXT    NOT NULL,
    to_day       TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    summary_json TEXT    NOT NULL
);

-- A discrepancy: one statement line or one of our payments or refunds that did not match.
-- item_key is stable across runs (derived from the channel's and our references), so a re-run
-- updates the item instead of adding a second one, and never reopens a resolved one.
CREATE TABLE recon_items (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES collection_accounts (id),
    item_key       TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    class          TEXT    NOT NULL CHECK (class IN ('amount_mismatch', 'ours_only', 'channel_only', 'refund_mismatch')),
    kind           TEXT    NOT NULL CHECK (kind IN ('payment', 'refund')),
    out_trade_no   TEXT,
    transaction_id TEXT,
    out_refund_no  TEXT,
    -- What the channel says and what we recorded (NULL where one side has nothing).
    channel_fen    INTEGER,
    ours_fen       INTEGER,
    payment_id     INTEGER REFERENCES payments (id),
    refund_id      INTEGER REFERENCES refunds (id),
    statement_id   INTEGER REFERENCES statements (id),
    line_no        INTEGER,
    reason         TEXT    NOT NULL,
    -- open; resolved (recorded or explained); follow_up (a person is on it); cleared (a later
    -- run found it matched before anyone resolved it).
    status         TEXT    NOT NULL CHECK (status IN ('open', 'resolved', 'follow_up', 'cleared')),
    resolution     TEXT    CHECK (resolution IN ('record', 'explain', 'follow_up')),
    note           TEXT,
    resolved_by    TEXT,
    resolved_at    TEXT,
    first_run_id   INTEGER NOT NULL REFERENCES recon_runs (id),
    last_run_id    INTEGER NOT NULL REFERENCES recon_runs (id),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    UNIQUE (account_id, item_key)
);
CREATE INDEX recon_items_class ON recon_items (class, status);
CREATE INDEX recon_items_account_day ON recon_items (account_id, day);

-- Channel fees (手续费) per account and Beijing-time day as the statements say, in fen, and
-- how much of them the books carry (6603 against the account's clearing account). A later
-- statement that changes a day's fee posts only the difference.
CREATE TABLE channel_fee_days (
    account_id   INTEGER NOT NULL REFERENCES collection_accounts (id),
    day          TEXT    NOT NULL,
    lines        INTEGER NOT NULL,
    fee_fen      INTEGER NOT NULL,
    posted_fen   INTEGER NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;
