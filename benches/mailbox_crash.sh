#!/usr/bin/env bash
# Crash soak of the batch mailboxes: TRIALS (default 20) times, a 10,000-request batch dropped
# into a running `umgate serve` (SQLite), SIGKILL at a random moment of its processing, restart,
# and the result compared with one uninterrupted run: the outbox (answer names and bytes) and the
# database (inbound log, cases, answers recorded, case events).
#   benches/mailbox_crash.sh            TRIALS=5 COUNT=2000 benches/mailbox_crash.sh
# Per trial: "exactly-once ok" when every inbound interchange was answered once (same answers per
# interchange and kind, same inbound log, same numbers of cases, answers and events) and
# "bytes identical" when the outbox is byte for byte the uninterrupted one (needs numbering that
# does not depend on the crash). Exit 1 if any trial is not exactly-once. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/mailbox_common.sh
TRIALS=${TRIALS:-20}
COUNT=${COUNT:-10000}
# MAILBOX_BENCH_DIR: where the scratch directory goes (default: the system temporary directory).
work=$(mktemp -d "${MAILBOX_BENCH_DIR:-${TMPDIR:-/tmp}}/mbx-crash.XXXXXX")
# On exit of this shell only (never of one of its subshells): its own background jobs (the
# daemon it started) are stopped and the scratch directory removed.
trap 'if [ "$BASHPID" = "$$" ]; then kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; fi' EXIT
export UMGATE_FIXED_TIME=2026-01-05T10:00
"$BIN" gen 278 --count "$COUNT" --roster "$work/roster.csv" -o "$work/batch.x12" >/dev/null

# What a run leaves: answer names without their control numbers, and row counts.
shape() {
    local dir=$1 db=$2
    ls "$dir/data/mailboxes/demo/outbox" | sed -E 's/\.[^.]+\.x12$//' | sort | tr '\n' ' '
    for table in cases interchange_outputs case_events interchange_cases; do
        printf '%s=%s ' "$table" "$(sqlite3 "$db" "SELECT COUNT(*) FROM $table")"
    done
    sqlite3 "$db" "SELECT sender_id, control_number, status, content_sha256 FROM interchanges ORDER BY id" | md5sum
}

run() { # run DIR [KILL_AFTER_SECONDS]
    local dir=$1 kill_after=${2:-}
    mkdir -p "$dir"
    "$BIN" --db "sqlite://$dir/umgate.db" roster import "$work/roster.csv" >/dev/null
    start_serve "$dir/data" "sqlite://$dir/umgate.db" "$dir/serve.log" UMGATE_MAILBOX_LEASE_SECONDS=1
    drop_file "$work/batch.x12" "$dir/data/mailboxes/demo/inbox" batch.x12
    if [ -n "$kill_after" ]; then
        sleep "$kill_after"
        kill -KILL "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true
        start_serve "$dir/data" "sqlite://$dir/umgate.db" "$dir/serve.log" UMGATE_MAILBOX_LEASE_SECONDS=1
    fi
    wait_file "$dir/data/mailboxes/demo/archive/batch.x12" 600
    kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true
}

t0=$(now); run "$work/reference"; t1=$(now)
reference_ms=$(echo "($t1 - $t0) * 1000 / 1" | bc)
reference_shape=$(shape "$work/reference" "$work/reference/umgate.db")
echo "uninterrupted run: ${reference_ms} ms (load $(cut -d' ' -f1-3 /proc/loadavg))"
failures=0; identical=0
for trial in $(seq 1 "$TRIALS"); do
    delay=$(python3 -c "import random; print(round(random.uniform(0.1, $reference_ms / 1000 * 0.9), 2))")
    dir="$work/trial$trial"
    run "$dir" "$delay"
    if [ "$(shape "$dir" "$dir/umgate.db")" = "$reference_shape" ]; then once=ok; else once=FAILED; failures=$((failures + 1)); fi
    if diff -rq "$work/reference/data/mailboxes/demo/outbox" "$dir/data/mailboxes/demo/outbox" >/dev/null; then
        bytes=yes; identical=$((identical + 1))
    else
        bytes=no
    fi
    echo "trial $trial: SIGKILL after ${delay} s: exactly-once $once, bytes identical $bytes"
    rm -rf "$dir"
done
echo "$TRIALS trials: $((TRIALS - failures)) exactly-once, $identical byte-identical"
[ "$failures" -eq 0 ]
