-- Money paths (issue 15): the book's own random order-number prefix, and an index for the rule
-- that a bank reference is recorded once per account.
-- Forward-only: never edit this file once landed.

-- One row. Channel order numbers are FD{prefix}{bill}A{attempt}: without the prefix, two data
-- folders (or a book restored from a backup) would ask a channel about the same numbers for
-- different bills and could be answered with another order's state. The prefix is random,
-- made here once per book, and made afresh whenever the book is opened from a folder other
-- than `home` (a copied data folder) or from a backup (copies are written with `home` NULL).
CREATE TABLE book_identity (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    order_prefix  TEXT    NOT NULL CHECK (length(order_prefix) = 8),
    home          TEXT,
    changed_at    TEXT    NOT NULL,
    -- Where the key that signs the chain anchors lives in the OS keyring (audit::anchor);
    -- never the key itself. Made at the first anchor.
    anchor_key_ref TEXT
);
INSERT INTO book_identity (id, order_prefix, home, changed_at)
VALUES (1, upper(hex(randomblob(4))), NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE INDEX payments_account_reference ON payments (account_id, reference)
    WHERE reference IS NOT NULL;

-- The WeChat Pay hint used to be the APIv3 key's last 4 characters: part of a secret, in the
-- database. It is now a fingerprint (the first 8 hex digits of the key's SHA-256), which SQL
-- cannot compute: the old hints are wiped, and configuring the account again shows the new one.
UPDATE channel_settings SET secret_hint = ''
 WHERE account_id IN (SELECT id FROM collection_accounts WHERE channel = 'wechat');

-- The Alipay account (账号, the PID and its suffix) an Alipay account's statements carry in
-- their `#账号：[...]` line: learned from the first statement (downloaded through Alipay's API,
-- or imported), after which a file of any other account is refused.
ALTER TABLE channel_settings ADD COLUMN statement_account TEXT;
