-- The UM engine's durable state on PostgreSQL (production: several daemon instances share it).

CREATE TABLE cases (
    id                   TEXT PRIMARY KEY,
    version              BIGINT NOT NULL,
    status               TEXT NOT NULL,
    plan                 TEXT NOT NULL,
    line_of_business     TEXT NOT NULL,
    program              TEXT,
    member_id            TEXT NOT NULL,
    authorization_number TEXT UNIQUE,
    due_at               TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    body                 JSONB NOT NULL
);

CREATE INDEX cases_member_id ON cases (member_id);
CREATE INDEX cases_queue ON cases (status, due_at, created_at);

-- Append-only history (seq numbered 1, 2, 3 … per case by the store): the trigger below refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE case_events (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq     BIGINT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    body    JSONB NOT NULL,
    PRIMARY KEY (case_id, seq)
);

CREATE FUNCTION case_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_events is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER case_events_no_update_or_delete BEFORE UPDATE OR DELETE ON case_events
    FOR EACH ROW EXECUTE FUNCTION case_events_append_only();

CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events
    FOR EACH STATEMENT EXECUTE FUNCTION case_events_append_only();

-- Durable timers (hold due dates, decision clocks). A timer is pending while done_at is NULL;
-- a claim is a lease (claimed_by until claimed_until) that another instance may take over once
-- it has ended (claimed_until < now). Cancelled timers are kept, marked, for the audit trail.
CREATE TABLE timers (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases (id),
    kind          TEXT NOT NULL,
    fire_at       TIMESTAMPTZ NOT NULL,
    payload       JSONB NOT NULL,
    claimed_by    TEXT,
    claimed_until TIMESTAMPTZ,
    done_at       TIMESTAMPTZ,
    cancelled     BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX timers_pending ON timers (fire_at, id) WHERE done_at IS NULL;
CREATE INDEX timers_case ON timers (case_id, kind);

CREATE TABLE sequences (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- The eligibility roster (`umgate roster import`).
CREATE TABLE members (
    member_id        TEXT PRIMARY KEY,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    birth_date       DATE NOT NULL,
    gender           TEXT,
    plan             TEXT NOT NULL,
    line_of_business TEXT NOT NULL,
    coverage_start   DATE NOT NULL,
    coverage_end     DATE
);
