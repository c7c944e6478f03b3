-- The transaction log made searchable (issue 6 scope 6): by sender, receiver, ISA13, received date,
-- status and what an interchange carries (its transaction sets); answers by kind, control number
-- and date. Every search is ordered newest first by (received_at, id) (answers: (created_at,
-- interchange_id, seq)) and paged with a keyset cursor, so each index below ends with those columns:
-- a page is one index range scan however large the log grows.
--
-- What an interchange carries is summarized once, when it is logged (or later by the backfill of
-- `umgate log reindex` and of the daemon, for rows logged before this migration or by a path that
-- does not summarize): one row per transaction set identifier (ST01, or TA1 for an interchange of
-- TA1 acknowledgments) with its count, and the totals on the interchange. set_count NULL means
-- not summarized yet. The backfill is not done here in SQL: finding ST01 means reading each
-- interchange's own delimiters, which the X12 reader does.

ALTER TABLE interchanges ADD COLUMN group_count BIGINT;
ALTER TABLE interchanges ADD COLUMN set_count BIGINT;

CREATE TABLE interchange_sets (
    interchange_id BIGINT NOT NULL REFERENCES interchanges (id),
    set_id         TEXT NOT NULL,
    set_count      BIGINT NOT NULL,
    -- The interchange's, copied (it never changes): a search by type then reads one index range
    -- in the order of the pages, however rare or common the type.
    received_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (interchange_id, set_id)
);

CREATE INDEX interchange_sets_by_set ON interchange_sets (set_id, received_at, interchange_id);
CREATE INDEX interchanges_unsummarized ON interchanges (id) WHERE set_count IS NULL;

-- Parties by their ID alone: the qualifier rarely tells two senders apart and is checked on the
-- rows, and a search by ID with or without the qualifier then reads in page order (with the
-- qualifier between them, the planners walk the whole log for a rare sender's first page).
CREATE INDEX interchanges_recent ON interchanges (received_at, id);
CREATE INDEX interchanges_sender_recent ON interchanges (sender_id, received_at, id);
CREATE INDEX interchanges_receiver_recent ON interchanges (receiver_id, received_at, id);
CREATE INDEX interchanges_control_recent ON interchanges (control_number, received_at, id);
CREATE INDEX interchanges_status_recent ON interchanges (status, received_at, id);
CREATE INDEX interchanges_duplicates ON interchanges (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- interchanges_received (received_at alone) is covered by interchanges_recent.
DROP INDEX interchanges_received;

CREATE INDEX interchange_outputs_recent ON interchange_outputs (created_at, interchange_id, seq);
CREATE INDEX interchange_outputs_kind_recent ON interchange_outputs (kind, created_at, interchange_id, seq);
CREATE INDEX interchange_outputs_control_recent ON interchange_outputs (control_number, created_at, interchange_id, seq);

-- Answers by partner (the sender of the inbound interchange answered): copied onto each answer when
-- it is recorded (the trigger; whatever path records answers), backfilled here, and indexed in page
-- order. Joining the interchanges instead lets a rare partner scan every answer for its first page
-- (the planner expects every sender to hold an average share: 4 s on a 1M-row log).
ALTER TABLE interchange_outputs ADD COLUMN partner_qualifier TEXT;
ALTER TABLE interchange_outputs ADD COLUMN partner_id TEXT;

UPDATE interchange_outputs o
SET partner_qualifier = i.sender_qualifier, partner_id = i.sender_id
FROM interchanges i WHERE i.id = o.interchange_id;

CREATE FUNCTION interchange_output_partner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT sender_qualifier, sender_id INTO NEW.partner_qualifier, NEW.partner_id
    FROM interchanges WHERE id = NEW.interchange_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER interchange_outputs_partner BEFORE INSERT ON interchange_outputs
FOR EACH ROW EXECUTE FUNCTION interchange_output_partner();

CREATE INDEX interchange_outputs_partner_recent
    ON interchange_outputs (partner_id, created_at, interchange_id, seq);

-- The later 278 responses owed for an interchange's cases (migration 0003's queue), shown with the
-- interchange they answer.
CREATE INDEX notifications_interchange ON notifications (interchange_id) WHERE interchange_id IS NOT NULL;
