-- The foundation: the organisation tree, terms, classes, members, enrolments, roster import
-- batches and the append-only, hash-chained audit log.
-- Forward-only: never edit this file once landed; add a new migration instead.

CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,          -- upper case, e.g. HQ, EAST, XH
    name        TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('hq', 'region', 'store')),
    parent_id   INTEGER REFERENCES units (id),
    created_at  TEXT    NOT NULL,
    archived_at TEXT,
    CHECK ((kind = 'hq') = (parent_id IS NULL))
);
-- Exactly one headquarters.
CREATE UNIQUE INDEX units_one_hq ON units (kind) WHERE kind = 'hq';
CREATE INDEX units_parent ON units (parent_id);

CREATE TABLE terms (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (ends_on >= starts_on)
);

CREATE TABLE import_batches (
    id          INTEGER PRIMARY KEY,
    file_name   TEXT    NOT NULL,
    file_sha256 TEXT    NOT NULL,
    sheet       TEXT    NOT NULL,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    term_id     INTEGER REFERENCES terms (id),
    mode        TEXT    NOT NULL CHECK (mode IN ('all', 'valid')),
    rows_read   INTEGER NOT NULL,
    imported    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    rejected    INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    undone_at   TEXT,
    undone_by   TEXT
);

CREATE TABLE classes (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    term_id          INTEGER NOT NULL REFERENCES terms (id),
    name             TEXT    NOT NULL,
    created_at       TEXT    NOT NULL,
    created_batch_id INTEGER REFERENCES import_batches (id),
    UNIQUE (unit_id, term_id, name)
);
CREATE INDEX classes_term ON classes (term_id);

CREATE TABLE members (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    member_no        TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    guardian_name    TEXT,
    guardian_phone   TEXT,
    id_number        TEXT,
    enrolled_on      TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('active', 'withdrawn')),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    -- The import batch that created the member, and the last one that changed it: undo of a
    -- batch is refused once a later batch has touched what it wrote.
    created_batch_id INTEGER REFERENCES import_batches (id),
    last_batch_id    INTEGER REFERENCES import_batches (id),
    UNIQUE (unit_id, member_no)
);
-- No indexes on the batch columns: only undo reads them, rarely, and every import would pay
-- to maintain them.

CREATE TABLE enrolments (
    member_id        INTEGER NOT NULL REFERENCES members (id),
    class_id         INTEGER NOT NULL REFERENCES classes (id),
    created_at       TEXT    NOT NULL,
    created_batch_id INTEGER REFERENCES import_batches (id),
    PRIMARY KEY (member_id, class_id)
) WITHOUT ROWID;
CREATE INDEX enrolments_class ON enrolments (class_id);

-- What a batch changed on members that existed before it: their state before, so undo can put
-- it back.
CREATE TABLE import_batch_updates (
    batch_id    INTEGER NOT NULL REFERENCES import_batches (id),
    member_id   INTEGER NOT NULL REFERENCES members (id),
    before_json TEXT    NOT NULL,
    PRIMARY KEY (batch_id, member_id)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
