# Shared by benches/mailbox_batch.sh and benches/mailbox_crash.sh (sourced, not run).
# UMGATE_BIN: the binary (default target/release/umgate: build it with `cargo build --release`).
BIN=${UMGATE_BIN:-target/release/umgate}
[ -x "$BIN" ] || { echo "no $BIN: run cargo build --release first (or set UMGATE_BIN)" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

now() { date +%s.%N; }

# start_serve DATA_DIR DB_URL LOG [VAR=VALUE...]: starts `umgate serve` in the background (pid in
# $SERVE_PID) and waits until its mailboxes are ready.
start_serve() {
    local data=$1 db=$2 log=$3; shift 3
    env "$@" UMGATE_MAILBOX_POLL_MILLISECONDS=20 "$BIN" --data-dir "$data" --db "$db" serve \
        --listen "127.0.0.1:$(free_port)" >>"$log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 1 600); do
        grep -q "mailboxes ready" "$log" 2>/dev/null && return 0
        kill -0 "$SERVE_PID" 2>/dev/null || { echo "serve exited:" >&2; cat "$log" >&2; exit 1; }
        sleep 0.05
    done
    echo "serve not ready" >&2; exit 1
}

# drop_file FILE INBOX NAME: the drop convention (dot-name, then rename).
drop_file() { cp "$1" "$2/.$3.part" && mv "$2/.$3.part" "$2/$3"; }

# wait_file PATH SECONDS
wait_file() {
    local limit=$(( $2 * 50 ))
    for _ in $(seq 1 "$limit"); do [ -e "$1" ] && return 0; sleep 0.02; done
    echo "timed out waiting for $1" >&2; return 1
}
