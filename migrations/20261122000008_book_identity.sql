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
    changed_at    TEXT    NOT NULL
);
INSERT INTO book_identity (id, order_prefix, home, changed_at)
VALUES (1, upper(hex(randomblob(4))), NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE INDEX payments_account_reference ON payments (account_id, reference)
    WHERE reference IS NOT NULL;
