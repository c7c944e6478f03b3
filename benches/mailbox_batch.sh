#!/usr/bin/env bash
# End-to-end batch through a mailbox: `umgate gen 278 --count N` (default 100,000) with its roster
# and providers imported, dropped into the `demo` inbox of a running `umgate serve`; measured from
# the drop to the file archived (every answer written before it is), and the daemon's peak RSS.
#   benches/mailbox_batch.sh                                   # SQLite in a fresh directory
#   benches/mailbox_batch.sh postgres://postgres@127.0.0.1:5432 # a fresh database on that server
# COUNT=10000 for a quick run. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/mailbox_common.sh
COUNT=${COUNT:-100000}
# MAILBOX_BENCH_DIR: where the scratch directory goes (default: the system temporary directory).
work=$(mktemp -d "${MAILBOX_BENCH_DIR:-${TMPDIR:-/tmp}}/mbx-bench.XXXXXX")
if [ $# -ge 1 ]; then
    name="umgate_bench_$$"
    psql "$1/postgres" -qc "CREATE DATABASE $name" >/dev/null
    db="$1/$name"
    trap 'if [ "$BASHPID" = "$$" ]; then psql "$1/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null; rm -rf "$work"; fi' EXIT
else
    db="sqlite://$work/umgate.db"
    trap 'if [ "$BASHPID" = "$$" ]; then rm -rf "$work"; fi' EXIT
fi
"$BIN" gen 278 --count "$COUNT" --seed 7 --roster "$work/roster.csv" --providers "$work/providers.csv" -o "$work/batch.x12" >/dev/null
"$BIN" --db "$db" roster import "$work/roster.csv" >/dev/null
"$BIN" --db "$db" provider import "$work/providers.csv" >/dev/null
log="$work/serve.log"
# /usr/bin/time around the daemon: its peak RSS when it exits.
/usr/bin/time -v -o "$work/time.txt" "$BIN" --data-dir "$work/data" --db "$db" serve --listen "127.0.0.1:$(free_port)" \
    >>"$log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 600); do grep -q "mailboxes ready" "$log" 2>/dev/null && break; sleep 0.05; done
inbox="$work/data/mailboxes/demo/inbox"
cp "$work/batch.x12" "$inbox/.batch.x12.part"
start=$(now)
mv "$inbox/.batch.x12.part" "$inbox/batch.x12"
wait_file "$work/data/mailboxes/demo/archive/batch.x12" 600
end=$(now)
answers=$(ls "$work/data/mailboxes/demo/outbox" | wc -l)
# The worker's own measure, claim to archived (in its log line "mailbox: done ... elapsed_ms=").
job_ms=$(grep -o 'elapsed_ms=[0-9]*' "$log" | tail -1 | cut -d= -f2)
# The daemon is the child of /usr/bin/time: stopped by its own pid.
kill -TERM "$(pgrep -P "$SERVE_PID")"; wait "$SERVE_PID" || true
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
printf 'requests %s (%s bytes), backend %s: drop to archived %.1f s (job %s ms), %s answer files, daemon peak RSS %.1f MB, load %s\n' \
    "$COUNT" "$(stat -c %s "$work/batch.x12")" "${db%%:*}" "$(echo "$end - $start" | bc)" "$job_ms" "$answers" \
    "$(echo "$rss / 1024" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
