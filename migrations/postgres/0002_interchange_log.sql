-- The transaction log of the batch path (`umgate process`) and, later, of the daemon: every
-- inbound interchange kept verbatim with what was answered to it and the cases it produced.
-- An interchange is identified by its sender (ISA05 qualifier + ISA06) and ISA13: one original per
-- key (the partial unique index); a later interchange with the same key but other bytes is kept too,
-- as a duplicate that points at the original (duplicate_of), so nothing received is ever lost.

CREATE TABLE interchanges (
    id                 BIGSERIAL PRIMARY KEY,
    sender_qualifier   TEXT,
    sender_id          TEXT,
    receiver_qualifier TEXT,
    receiver_id        TEXT,
    control_number     TEXT,
    received_at        TIMESTAMPTZ NOT NULL,
    content_sha256     TEXT NOT NULL,
    file_name          TEXT NOT NULL,
    byte_offset        BIGINT NOT NULL,
    status             TEXT NOT NULL,
    duplicate_of       BIGINT REFERENCES interchanges (id),
    content            BYTEA NOT NULL
);

CREATE UNIQUE INDEX interchanges_control_number ON interchanges (sender_qualifier, sender_id, control_number)
    WHERE duplicate_of IS NULL AND control_number IS NOT NULL;
CREATE INDEX interchanges_lookup ON interchanges (sender_qualifier, sender_id, control_number);
CREATE INDEX interchanges_received ON interchanges (received_at);

-- Every answer interchange (TA1, 999, 278, 271) sent for an inbound one, in the order written.
CREATE TABLE interchange_outputs (
    interchange_id BIGINT NOT NULL REFERENCES interchanges (id),
    seq            BIGINT NOT NULL,
    kind           TEXT NOT NULL,
    control_number TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    content        BYTEA NOT NULL,
    PRIMARY KEY (interchange_id, seq)
);

-- The cases an inbound interchange produced.
CREATE TABLE interchange_cases (
    interchange_id BIGINT NOT NULL REFERENCES interchanges (id),
    case_id        TEXT NOT NULL REFERENCES cases (id),
    PRIMARY KEY (interchange_id, case_id)
);

CREATE INDEX interchange_cases_case ON interchange_cases (case_id);
