-- 1,000,000 interchanges of 200 senders with their set summaries and 2,000,000 answers, for
-- timing the transaction log's searches (docs/decisions/0008). Run on a database that
-- `umgate --db sqlite://PATH log reindex` created (the schema), never on a real one.
PRAGMA journal_mode=WAL;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000000)
INSERT INTO interchanges (id, sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number, received_at, content_sha256, file_name, byte_offset, status, duplicate_of, content, group_count, set_count)
SELECT x, 'ZZ', 'SENDER' || (x % 200), 'ZZ', 'UMGATE', printf('%09d', x / 200 + 1),
  strftime('%Y-%m-%dT%H:%M:%S', '2026-01-01', '+' || (x * 25) || ' seconds') || '.000000Z',
  'h', 'f.x12', 0, CASE WHEN x % 1000 = 0 THEN 'received' ELSE 'answered' END, NULL, zeroblob(900), 1, 1 FROM n;
INSERT INTO interchange_sets (interchange_id, set_id, set_count, received_at)
SELECT id, CASE WHEN id % 5000 = 0 THEN 'TA1' WHEN id % 3 = 0 THEN '270' ELSE '278' END, 1, received_at FROM interchanges;
INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, content)
SELECT id, 1, '999', printf('%09d', id * 2), received_at, zeroblob(300) FROM interchanges;
INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, content)
SELECT id, 2, '278', printf('%09d', id * 2 + 1), received_at, zeroblob(900) FROM interchanges;
COMMIT;
ANALYZE;
