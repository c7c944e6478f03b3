-- The UM engine's durable state on SQLite (the embedded default).
-- Timestamps are TEXT in one fixed UTC format (YYYY-MM-DDTHH:MM:SS.ffffffZ) so that text order is
-- time order; dates are TEXT YYYY-MM-DD; JSON documents are TEXT.

CREATE TABLE cases (
    id                   TEXT PRIMARY KEY NOT NULL,
    version              INTEGER NOT NULL,
    status               TEXT NOT NULL,
    plan                 TEXT NOT NULL,
    line_of_business     TEXT NOT NULL,
    program              TEXT,
    member_id            TEXT NOT NULL,
    authorization_number TEXT UNIQUE,
    due_at               TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    body                 TEXT NOT NULL
) STRICT;

CREATE INDEX cases_member_id ON cases (member_id);
CREATE INDEX cases_queue ON cases (status, due_at, created_at);

-- Append-only history (seq numbered 1, 2, 3 … per case by the store): the triggers below refuse UPDATE and DELETE.
CREATE TABLE case_events (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq     INTEGER NOT NULL,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
) STRICT;

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only');
END;

CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only');
END;

-- Durable timers (hold due dates, decision clocks). A timer is pending while done_at is NULL;
-- a claim is a lease (claimed_by until claimed_until) that another instance may take over once
-- it has ended (claimed_until < now). Cancelled timers are kept, marked, for the audit trail.
CREATE TABLE timers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    kind          TEXT NOT NULL,
    fire_at       TEXT NOT NULL,
    payload       TEXT NOT NULL,
    claimed_by    TEXT,
    claimed_until TEXT,
    done_at       TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX timers_pending ON timers (fire_at, id) WHERE done_at IS NULL;
CREATE INDEX timers_case ON timers (case_id, kind);

CREATE TABLE sequences (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;

-- The eligibility roster (`umgate roster import`).
CREATE TABLE members (
    member_id        TEXT PRIMARY KEY NOT NULL,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    birth_date       TEXT NOT NULL,
    gender           TEXT,
    plan             TEXT NOT NULL,
    line_of_business TEXT NOT NULL,
    coverage_start   TEXT NOT NULL,
    coverage_end     TEXT
) STRICT;
