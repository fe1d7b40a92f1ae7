-- Collection through the channels: every order FeeDesk opens at WeChat Pay or Alipay for a
-- bill, written before the channel is called, so an order survives a crash and is settled at
-- the next sync; and every refund asked of a channel.
-- Forward-only: never edit this file once landed.

CREATE TABLE channel_orders (
    id             INTEGER PRIMARY KEY,
    bill_id        INTEGER NOT NULL REFERENCES bills (id),
    account_id     INTEGER NOT NULL REFERENCES collection_accounts (id),
    -- Ours, unique per attempt; a retry of the same attempt reuses it.
    out_trade_no   TEXT    NOT NULL UNIQUE,
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    -- open: waiting for the payer; paid: settled into a payment; closed: closed or expired
    -- unpaid; failed: the channel refused it; unapplied: paid at the channel but the bill could
    -- not take it (a person must refund it).
    status         TEXT    NOT NULL CHECK (status IN ('open', 'paid', 'closed', 'failed', 'unapplied')),
    -- What the payer scans: WeChat's code_url or Alipay's qr_code.
    code_url       TEXT,
    transaction_id TEXT,
    payment_id     INTEGER REFERENCES payments (id),
    note           TEXT,
    created_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
-- At most one open order per bill: the previous one is closed before a new one is made.
CREATE UNIQUE INDEX channel_orders_one_open ON channel_orders (bill_id) WHERE status = 'open';
CREATE INDEX channel_orders_status ON channel_orders (status);
CREATE INDEX channel_orders_payment ON channel_orders (payment_id);

CREATE TABLE channel_refunds (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL REFERENCES channel_orders (id),
    -- Ours, derived from the refund's idempotency key: a retry asks the channel again with it.
    out_refund_no  TEXT    NOT NULL UNIQUE,
    -- The refund's idempotency key, so a sync records it under the key it was asked with.
    key            TEXT    NOT NULL,
    amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
    reason         TEXT    NOT NULL,
    -- pending: asked, not final; done: the channel paid it back and the refund is recorded;
    -- failed: the channel refused or closed it (a person must look).
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    refund_id      INTEGER REFERENCES refunds (id),
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
