-- Batch mailboxes (issue 6): every batch file claimed from a partner's inbox, or posted over HTTP,
-- is a job. A job is leased (lease_owner until lease_until) by the daemon instance processing it;
-- the instance renews the lease while it runs, and an instance that finds the lease ended takes the
-- job over and processes the stored file again (interchanges already answered are resubmissions,
-- answered from the interchange log, never decided twice). Times are microseconds since the Unix
-- epoch on both backends, so that lease comparisons are plain integer comparisons.
-- status: 'queued' (stored, not yet taken), 'running' (leased), 'done', 'failed'.

CREATE TABLE mailbox_jobs (
    id            BIGSERIAL PRIMARY KEY,
    partner       TEXT NOT NULL,
    source        TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    stored_path   TEXT NOT NULL UNIQUE,
    final_path    TEXT,
    size_bytes    BIGINT,
    sha256        TEXT,
    status        TEXT NOT NULL,
    lease_owner   TEXT,
    lease_until   BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    summary       TEXT,
    error         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    finished_at   BIGINT
);

CREATE INDEX mailbox_jobs_open ON mailbox_jobs (id) WHERE status IN ('queued', 'running');
CREATE INDEX mailbox_jobs_partner ON mailbox_jobs (partner, id);

-- The inbound interchanges a job's file held (found through the answers written for them), so
-- that a later 278 response for one of their cases goes to the outbox of the partner that sent it.
CREATE TABLE mailbox_job_interchanges (
    interchange_id BIGINT NOT NULL PRIMARY KEY REFERENCES interchanges (id),
    job_id         BIGINT NOT NULL REFERENCES mailbox_jobs (id)
);

-- Finding those interchanges by the control numbers of their answers.
CREATE INDEX interchange_outputs_control_number ON interchange_outputs (control_number);
