#!/usr/bin/env bash
# The benchmark: Luukku (durable SQLite storage, synchronous=FULL) against a bare relay of the
# same protocol (luukku-relay) and a Socket.IO server (load-tests/socketio), on the same
# scenarios in one run. Method and the latest figures: docs/performance.md.
#
# For each system, started fresh and pinned to core 1 (the load generator runs on core 0):
#   idle            IDLE_CONNS idle client connections: server RSS per connection
#   ramp            clinic steps of rising offered load until e2e p99 > 50 ms: the maximum
#                   sustainable throughput (`luukku-load ramp`)
#   clinic-quarter  a clinic run at a quarter of the relay's maximum
#   queue           (Luukku only) a burst of conversations into a small team: assignment
#                   rate and the error of the wait estimates shown to clients
# Writes bench/results/latest.json and latest.md, dated copies, and the raw result lines
# (<date>.jsonl). A full run fills the block between the bench markers of
# docs/performance.md.
#
# Environment:
#   BENCH_QUICK=1        short steps and few connections (a smoke test, under two minutes
#                        once built); its results are marked "quick" and leave the docs alone
#   BENCH_SYSTEMS        systems to run (default "relay luukku socketio"; the relay goes first
#                        because its maximum sets the quarter rate)
#   BENCH_OUT            results directory (default bench/results)
#   IDLE_CONNS           idle connections (default: 100,000, or the open-files limit allows)
#   STEP_S               seconds per ramp step (default 10; quick 2)
#   BENCH_PROFESSIONALS  professionals of the benchmark team (default 60, one console each)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

quick="${BENCH_QUICK:-0}"
read -r -a systems <<<"${BENCH_SYSTEMS:-relay luukku socketio}"
out_dir="${BENCH_OUT:-bench/results}"
professionals="${BENCH_PROFESSIONALS:-200}"

die() {
    echo "bench: $*" >&2
    exit 1
}

# ------------------------------------------------------------------ parameters
# The clinic steps: at most 2,000 conversations, 2 msg/s per side each before the rate per
# conversation grows, one console connection per professional (200: ten chats each at the
# most, so a console stays under Luukku's 200 frames/s per console connection). Luukku's limit
# of 20 frames/s per client connection is reached only past 2,000 × 15 msg/s per side
# (60,000 msg/s).
max_conversations="${BENCH_CONVERSATIONS:-2000}"
base_rate=2
if [[ "$quick" == 1 ]]; then
    step_s="${STEP_S:-2}"
    drain_s=0.5
    ramp_shape=(--start-per-s 1000 --factor 2 --max-per-s 8000 --refine 0 --retries 0 --pause-s 0.5)
    quarter_s=3
    idle_hold=1
    queue_args=(--conversations 20 --capacity 1 --hold-s 0.3)
    default_idle=2000
else
    step_s="${STEP_S:-10}"
    drain_s=2
    ramp_shape=(--start-per-s 500 --factor 1.6 --refine 2 --retries 1 --pause-s 1)
    quarter_s=20
    idle_hold=5
    queue_args=(--conversations 90 --capacity 1 --hold-s 1)
    default_idle=100000
fi

# ------------------------------------------------------------------ checks and build
for system in "${systems[@]}"; do
    case "$system" in
        luukku | relay | socketio) ;;
        *) die "unknown system '$system' in BENCH_SYSTEMS (luukku, relay, socketio)" ;;
    esac
done
has() {
    local s
    for s in "${systems[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    return 1
}
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
(($(nproc) >= 2)) || die "needs two CPU cores (server and load generator on different ones)"
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed (free ports)"

echo "==> building release binaries"
cargo build --release -p luukku --bin luukku -p luukku-load --bin luukku-load
bin="${CARGO_TARGET_DIR:-target}/release"
[[ "$bin" == /* ]] || bin="$repo/$bin"
if has relay; then
    cargo build --release -p luukku-load --bin luukku-relay ||
        die "relay: cannot build the luukku-relay binary (load-tests/src/relay); leave it out with BENCH_SYSTEMS"
fi
if has socketio; then
    command -v node >/dev/null || die "socketio: node is not installed"
    [[ -f load-tests/socketio/server.js ]] || die "socketio: load-tests/socketio/server.js is missing"
    "$bin/luukku-load" clinic --help | grep -q -- '--system' ||
        die "socketio: luukku-load has no --system flag"
    if [[ ! -d load-tests/socketio/node_modules/socket.io ]]; then
        echo "==> npm ci in load-tests/socketio"
        (cd load-tests/socketio && npm ci --no-audit --no-fund) || die "socketio: npm ci failed"
    fi
fi

# Every connection is a file descriptor, in the server and in the load generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fd_limit="$(ulimit -n)"
idle_conns="${IDLE_CONNS:-$default_idle}"
fd_capped=0
if [[ "$fd_limit" != unlimited ]] && ((idle_conns > fd_limit - 1000)); then
    echo "bench: the open-files limit is $fd_limit; holding $((fd_limit - 1000)) idle connections instead of $idle_conns"
    idle_conns=$((fd_limit - 1000))
    fd_capped=1
fi

# ------------------------------------------------------------------ run state
date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/luukku-bench.XXXXXX")"
lines="$run_dir/results.jsonl"
: >"$lines"
server_pid=""
failed=0

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if ((failed == 0)); then
        rm -rf "$run_dir"
    else
        echo "bench: logs kept in $run_dir" >&2
    fi
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The benchmark organisation for Luukku: the demo's team and service names (so the load
# generator's defaults apply), with one professional per console connection — a professional
# with several consoles gets every message on each, which the relay and Socket.IO would not
# do — and a small `social` team for the queue scenario. Limits stay at their defaults.
write_luukku_config() {
    cat <<'TOML'
demo = true

[organisation]
name = "Benchmark organisation"
closing_message = "Thank you for contacting us."
utc_offset_minutes = 120

[[organisation.teams]]
id = "station-a"
name = "Health station A"
routing = "auto"

[[organisation.teams]]
id = "social"
name = "Adult social services"
routing = "auto"

[[organisation.services]]
id = "health-chat"
name = "Health station chat"
teams = ["station-a"]
questionnaire = [
  { id = "duration", label = "How long have you had the symptoms?", kind = "choice", options = ["Less than a day", "1-3 days", "Over 3 days", "No symptoms"], required = true },
]

[[organisation.services]]
id = "social-chat"
name = "Adult social services chat"
teams = ["social"]
TOML
    local i
    for i in $(seq 1 "$professionals"); do
        printf '\n[[organisation.professionals]]\nid = "nurse-%d"\nname = "Nurse %d"\nteams = ["station-a"]\n' "$i" "$i"
    done
    for i in 1 2 3; do
        printf '\n[[organisation.professionals]]\nid = "social-%d"\nname = "Social worker %d"\nteams = ["social"]\n' "$i" "$i"
    done
}

# wait_for_line LOG PATTERN: the first line of LOG matching PATTERN, within 30 s.
wait_for_line() {
    local log="$1" pattern="$2" line
    for _ in $(seq 1 300); do
        line="$(grep -m 1 -E "$pattern" "$log" 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            echo "$line"
            return 0
        fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# start_server SYSTEM: starts it pinned to core 1; sets server_pid and url.
start_server() {
    local system="$1" log="$run_dir/$1.server.log" port line
    case "$system" in
        luukku)
            port="$(free_port)"
            local data="$run_dir/luukku-data"
            rm -rf "$data" && mkdir -p "$data"
            write_luukku_config >"$run_dir/luukku.toml"
            taskset -c 1 "$bin/luukku" --listen "127.0.0.1:$port" --data-dir "$data" \
                --config "$run_dir/luukku.toml" >"$log" 2>&1 &
            server_pid=$!
            for _ in $(seq 1 300); do
                curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
                kill -0 "$server_pid" 2>/dev/null || break
                sleep 0.1
            done
            curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null || {
                tail -n 20 "$log" >&2
                die "luukku did not start"
            }
            url="ws://127.0.0.1:$port"
            ;;
        relay)
            taskset -c 1 "$bin/luukku-relay" --listen 127.0.0.1:0 \
                --professionals "$professionals" >"$log" 2>&1 &
            server_pid=$!
            line="$(wait_for_line "$log" 'luukku-relay listens on http://')" || {
                tail -n 20 "$log" >&2
                die "luukku-relay did not start"
            }
            url="ws://$(sed -E 's|.*http://([^/]+)/.*|\1|' <<<"$line")"
            ;;
        socketio)
            (cd load-tests/socketio && PORT=0 exec taskset -c 1 node server.js) >"$log" 2>&1 &
            server_pid=$!
            line="$(wait_for_line "$log" 'socketio listens on http://')" || {
                tail -n 20 "$log" >&2
                die "the Socket.IO server did not start"
            }
            url="ws://$(sed -E 's|.*http://([^/]+)/.*|\1|' <<<"$line")"
            ;;
    esac
    echo "==> $system: pid $server_pid, $url"
}

stop_server() {
    [[ -n "$server_pid" ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "bench: server $server_pid still running 10 s after SIGTERM; killing it" >&2
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# run_load SYSTEM LABEL ARGS...: runs one scenario on core 0 and keeps its result line; a
# failing scenario is recorded (its result too, when it printed one).
run_load() {
    local system="$1" label="$2" out json rc=0
    shift 2
    out="$run_dir/$system.$label.out"
    echo
    echo "==> $system: $label"
    taskset -c 0 "$bin/luukku-load" "$@" >"$out" 2>"$out.err" || rc=$?
    grep -v '^{' "$out" || true
    json="$(grep '^{' "$out" | tail -n 1 || true)"
    if [[ -n "$json" ]]; then
        printf '{"system":"%s","label":"%s","result":%s}\n' "$system" "$label" "$json" >>"$lines"
    fi
    if ((rc != 0)); then
        local why
        why="$(grep -m 1 '^Error:' "$out.err" || tail -n 1 "$out.err")"
        if [[ -n "$json" ]]; then
            # Measured, with a bad outcome (an overloaded run losing messages): the tables
            # show it; the run itself worked.
            echo "bench: $system $label measured a failing outcome: $why" >&2
        else
            failed=1
            tail -n 5 "$out.err" >&2
            why="$(tr -d '"\\' <<<"$why" | tr -c '[:print:]' ' ' | cut -c 1-300)"
            printf '{"system":"%s","label":"%s","error":"exit code %d: %s"}\n' \
                "$system" "$label" "$rc" "$why" >>"$lines"
            echo "bench: $system $label FAILED (exit code $rc)" >&2
        fi
    fi
    last_json="$json"
}

# plan_for SYSTEM OFFERED: "conversations rate" for a clinic run offering OFFERED msg/s, as the
# ramp plans its steps. Past 15 msg/s per side Luukku gets more conversations instead (its
# per-client limit is 20 frames/s), the relay and Socket.IO a higher rate.
plan_for() {
    python3 - "$1" "$2" "$max_conversations" "$base_rate" <<'PY'
import math, sys
system, offered = sys.argv[1], float(sys.argv[2])
most, base = int(sys.argv[3]), float(sys.argv[4])
n = max(1, min(most, math.ceil(offered / (2 * base))))
rate = offered / (2 * n)
if rate > 15 and system == "luukku":
    n = math.ceil(offered / 30)
    rate = offered / (2 * n)
print(n, round(rate, 3))
PY
}

# ------------------------------------------------------------------ the run
measure_started=$SECONDS
quarter=""
quarter_source=""
notes="Server pinned to core 1, load generator to core 0 (taskset). Clinic runs: one console"
notes+=" connection per professional ($professionals), at most $max_conversations conversations,"
notes+=" $base_rate msg/s per side before the per-conversation rate grows; ramp steps of"
notes+=" ${step_s} s; bound p99 ≤ 50 ms. Luukku: durable SQLite (WAL, synchronous=FULL), default"
notes+=" limits (20 frames/s per client connection: the ramp stays under 15 msg/s per side)."

for system in relay luukku socketio; do
    has "$system" || continue
    target=(--url "" --system luukku)
    [[ "$system" == socketio ]] && target[3]=socketio
    # Idle first, on a fresh process: its RSS baseline is not blurred by earlier runs.
    start_server "$system"
    target[1]="$url"
    run_load "$system" idle idle "${target[@]}" --connections "$idle_conns" \
        --hold-s "$idle_hold" --server-pid "$server_pid"
    stop_server
    start_server "$system"
    target[1]="$url"
    # Luukku rate-limits 20 frames/s per client and 200 per console: past 2,000 conversations ×
    # 15 msg/s per side (60,000 msg/s) only the relay and Socket.IO, which have no such limits,
    # go on.
    limits=(--max-rate 15 --max-console-rate 150)
    [[ "$system" != luukku ]] && limits=(--max-rate 200 --max-console-rate 5000)
    run_load "$system" ramp ramp "${target[@]}" --server-pid "$server_pid" \
        --conversations "$max_conversations" --rate "$base_rate" \
        --professionals "$professionals" --duration-s "$step_s" --drain-s "$drain_s" \
        "${limits[@]}" "${ramp_shape[@]}"
    if [[ -z "$quarter" && -n "$last_json" ]]; then
        quarter="$(python3 -c 'import json,sys; m = json.loads(sys.argv[1]).get("max_delivered_per_s"); print(round(m / 4, 1) if m else "")' "$last_json")"
        quarter_source="$system"
    fi
    if [[ -n "$quarter" ]]; then
        read -r q_convs q_rate <<<"$(plan_for "$system" "$quarter")"
        run_load "$system" clinic-quarter clinic "${target[@]}" --server-pid "$server_pid" \
            --conversations "$q_convs" --rate "$q_rate" --professionals "$professionals" \
            --duration-s "$quarter_s" --drain-s "$drain_s"
    fi
    if [[ "$system" == luukku ]]; then
        run_load "$system" queue queue "${target[@]}" --server-pid "$server_pid" \
            --team social --service social-chat --questionnaire "" "${queue_args[@]}"
    fi
    stop_server
done
if [[ -n "$quarter" ]]; then
    notes+=" clinic-quarter: $quarter msg/s offered, a quarter of the $quarter_source maximum"
    notes+=" (Luukku with more conversations past 15 msg/s per side, the others with a higher rate)."
fi

echo
echo "==> measured in $((SECONDS - measure_started)) s"

# ------------------------------------------------------------------ report
machine="$(uname -m), $(nproc) cores"
model="$(grep -m 1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
[[ -n "$model" ]] && machine+=" ($model)"
mem_kib="$(grep -m 1 MemTotal /proc/meminfo | awk '{print $2}')"
machine+=", $((mem_kib / 1048576)) GiB RAM, Linux $(uname -r)"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git --no-optional-locks status --porcelain 2>/dev/null || true)" ]]; then
    commit+="+uncommitted changes"
fi
report_args=(--input "$lines" --out-dir "$out_dir" --date "$date" --machine "$machine"
    --commit "$commit" --notes "$notes")
if ((fd_capped == 1)); then
    report_args+=(--fd-limit "$fd_limit")
fi
if [[ "$quick" == 1 ]]; then
    report_args+=(--quick)
else
    report_args+=(--fill docs/performance.md)
fi
mkdir -p "$out_dir"
stamp="$(tr -cd '[:alnum:]_-' <<<"$date")"
cp "$lines" "$out_dir/$stamp.jsonl"
echo
echo "==> report"
"$bin/luukku-load" bench-report "${report_args[@]}"
if ((failed != 0)); then
    echo "bench: some scenarios failed (see Failures above)" >&2
    exit 1
fi
