-- Later answers to submitters (issue 5): a request answered "pended" (278 HCR01 A4) whose case is
-- decided afterwards owes its submitter a new 278 response. The domain writes a case event of kind
-- 'notification_due' with the case update; the trigger below queues the notification in the same
-- transaction, addressed back to the sender of the inbound interchange that created the case (the
-- lowest interchange linked to it). `umgate notify` / `umgate process` drain the queue: a claim is
-- a lease (claimed_by until claimed_until, taken over once ended, as timers); the 278's bytes and
-- ISA13 are kept here once (content), before the file is written, so a retry after a crash writes
-- the same bytes again; status then moves from 'pending' to 'sent' (or 'superseded' when a later
-- notification of the same case was sent with it). 'unaddressed': the case came from no interchange.

CREATE TABLE notifications (
    id                 BIGSERIAL PRIMARY KEY,
    case_id            TEXT NOT NULL REFERENCES cases (id),
    event_seq          BIGINT NOT NULL,
    queued_at          TIMESTAMPTZ NOT NULL,
    interchange_id     BIGINT REFERENCES interchanges (id),
    sender_qualifier   TEXT,
    sender_id          TEXT,
    receiver_qualifier TEXT,
    receiver_id        TEXT,
    status             TEXT NOT NULL,
    claimed_by         TEXT,
    claimed_until      TIMESTAMPTZ,
    control_number     TEXT,
    content            BYTEA,
    written_at         TIMESTAMPTZ,
    sent_at            TIMESTAMPTZ,
    UNIQUE (case_id, event_seq)
);

CREATE INDEX notifications_pending ON notifications (id) WHERE status = 'pending';

CREATE FUNCTION queue_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notifications (case_id, event_seq, queued_at, interchange_id, sender_qualifier, sender_id,
                               receiver_qualifier, receiver_id, status)
    SELECT NEW.case_id, NEW.seq, NEW.at, i.id, i.sender_qualifier, i.sender_id, i.receiver_qualifier,
           i.receiver_id, CASE WHEN i.id IS NULL THEN 'unaddressed' ELSE 'pending' END
    FROM (SELECT 1) AS one
    LEFT JOIN interchanges AS i
        ON i.id = (SELECT MIN(interchange_id) FROM interchange_cases WHERE case_id = NEW.case_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_events_queue_notification AFTER INSERT ON case_events
    FOR EACH ROW WHEN (NEW.kind = 'notification_due') EXECUTE FUNCTION queue_notification();
