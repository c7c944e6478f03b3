-- The PostgreSQL twin of fill_sqlite.sql (docs/decisions/0008). Run on a database that
-- `umgate --db postgres://.../DB log reindex` created (the schema), never on a real one.
BEGIN;
INSERT INTO interchanges (id, sender_qualifier, sender_id, receiver_qualifier, receiver_id, control_number, received_at, content_sha256, file_name, byte_offset, status, duplicate_of, content, group_count, set_count)
OVERRIDING SYSTEM VALUE
SELECT x, 'ZZ', 'SENDER' || (x % 200), 'ZZ', 'UMGATE', lpad((x / 200 + 1)::text, 9, '0'),
  timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => x * 25),
  'h', 'f.x12', 0, CASE WHEN x % 1000 = 0 THEN 'received' ELSE 'answered' END, NULL, convert_to(repeat('x', 900), 'UTF8'), 1, 1
FROM generate_series(1, 1000000) AS x;
SELECT setval(pg_get_serial_sequence('interchanges', 'id'), 1000000);
INSERT INTO interchange_sets (interchange_id, set_id, set_count, received_at)
SELECT id, CASE WHEN id % 5000 = 0 THEN 'TA1' WHEN id % 3 = 0 THEN '270' ELSE '278' END, 1, received_at FROM interchanges;
INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, content)
SELECT id, 1, '999', lpad((id * 2)::text, 9, '0'), received_at, convert_to(repeat('a', 300), 'UTF8') FROM interchanges;
INSERT INTO interchange_outputs (interchange_id, seq, kind, control_number, created_at, content)
SELECT id, 2, '278', lpad((id * 2 + 1)::text, 9, '0'), received_at, convert_to(repeat('b', 900), 'UTF8') FROM interchanges;
COMMIT;
ANALYZE;
