#!/usr/bin/env bash
# The benchmark: Luukku (durable SQLite storage, synchronous=FULL) against a bare relay of the
# same protocol (luukku-relay) and a Socket.IO server (load-tests/socketio), and the cluster
# shapes of issue 10, on the same scenarios in one run. Method and the latest figures:
# docs/performance.md.
#
# Systems (BENCH_SYSTEMS):
#   relay           luukku-relay: no storage, no routing; the physical limit of a relay here
#   luukku          one Luukku node, SQLite in its data dir
#   luukku-pg       one Luukku node on PostgreSQL (--database-url, a fresh database)
#   luukku-cluster  two Luukku nodes on one PostgreSQL and one Redis (--database-url
#                   --redis-url --node-id), clients on node 1, consoles on node 2: every
#                   message crosses nodes (node 1 is the primary, node 2 a door). Skipped,
#                   with the reason in the results, if the second node is refused (exit 64)
#   socketio        one Socket.IO process, in-memory adapter
#   socketio-redis  two Socket.IO processes on @socket.io/redis-adapter, clients on one,
#                   professionals on the other (SIO_REDIS_URL)
# PostgreSQL and Redis come from scripts/services.sh, always as private instances of this run
# (pinned below, and PostgreSQL restarted with fsync on: services.sh starts it with fsync off
# for tests, and Luukku's SQLite commits with synchronous=FULL).
#
# Pinning: the load generator runs on core 0; everything a system serves with runs on core 1
# — its process or both of its processes, and PostgreSQL and Redis. On two cores the cluster
# systems thus show what the hop between nodes costs on the same hardware, not how a cluster
# scales; the CPU per message in the results and the Redis pub/sub figure say that.
#
# Scenarios, for each system started fresh:
#   idle            (relay, luukku, socketio) IDLE_CONNS idle client connections: server RSS
#                   per connection
#   ramp            clinic steps of rising offered load until e2e p99 > 50 ms: the maximum
#                   sustainable throughput (`luukku-load ramp`)
#   clinic-quarter  a clinic run at a quarter of the relay's maximum
#   clinic-2000     a clinic run at 2,000 msg/s (the cross-node latency goal)
#   queue           (Luukku systems) a burst of conversations into a small team: assignment
#                   rate and the error of the wait estimates shown to clients
# and once, when a system used Redis: `redis-benchmark` PUBLISH to random channels with two
# subscriber connections (redis-pubsub), Redis on core 1, the benchmark on core 0.
# Writes bench/results/latest.json and latest.md, dated copies, and the raw result lines
# (<date>.jsonl). A full run fills the block between the bench markers of
# docs/performance.md.
#
# Environment:
#   BENCH_QUICK=1        short steps and few connections (a smoke test, a few minutes once
#                        built); its results are marked "quick" and leave the docs alone
#   BENCH_SYSTEMS        systems to run (default: all six above, in that order; the relay goes
#                        first because its maximum sets the quarter rate)
#   BENCH_OUT            results directory (default bench/results)
#   IDLE_CONNS           idle connections (default: 100,000, or the open-files limit allows)
#   STEP_S               seconds per ramp step (default 10; quick 2)
#   BENCH_PROFESSIONALS  professionals of the benchmark team (default 60, one console each)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$(pwd)"

quick="${BENCH_QUICK:-0}"
all_systems=(relay luukku luukku-pg luukku-cluster socketio socketio-redis)
read -r -a systems <<<"${BENCH_SYSTEMS:-${all_systems[*]}}"
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
    pubsub_publishes=100000
else
    step_s="${STEP_S:-10}"
    drain_s=2
    ramp_shape=(--start-per-s 500 --factor 1.6 --refine 2 --retries 1 --pause-s 1)
    quarter_s=20
    idle_hold=5
    queue_args=(--conversations 90 --capacity 1 --hold-s 1)
    default_idle=100000
    pubsub_publishes=1000000
fi
# The fixed rate of the cross-node latency goal (msg/s, both sides together).
cross_node_rate=2000

# ------------------------------------------------------------------ checks and build
for system in "${systems[@]}"; do
    case "$system" in
        relay | luukku | luukku-pg | luukku-cluster | socketio | socketio-redis) ;;
        *) die "unknown system '$system' in BENCH_SYSTEMS (${all_systems[*]})" ;;
    esac
done
has() {
    local s
    for s in "${systems[@]}"; do [[ "$s" == "$1" ]] && return 0; done
    return 1
}
# Luukku's systems speak its protocol, have its rate limits and queues.
is_luukku() {
    [[ "$1" == luukku || "$1" == luukku-* ]]
}
uses_postgres() {
    [[ "$1" == luukku-pg || "$1" == luukku-cluster ]]
}
uses_redis() {
    [[ "$1" == luukku-cluster || "$1" == socketio-redis ]]
}
needs_services=0
for system in "${systems[@]}"; do
    if uses_postgres "$system" || uses_redis "$system"; then
        needs_services=1
    fi
done
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
if has socketio || has socketio-redis; then
    command -v node >/dev/null || die "socketio: node is not installed"
    [[ -f load-tests/socketio/server.js ]] || die "socketio: load-tests/socketio/server.js is missing"
    "$bin/luukku-load" clinic --help | grep -q -- '--system' ||
        die "socketio: luukku-load has no --system flag"
    if [[ ! -d load-tests/socketio/node_modules/socket.io ||
        ! -d load-tests/socketio/node_modules/@socket.io/redis-adapter ]]; then
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
# The processes of the system under test (one, or two for the cluster systems), where its
# clients and consoles connect, and the services it uses as NAME=PID for --backing-pid.
server_pids=()
url=""
console_url=""
backing=()
services_up=0
failed=0

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if ((services_up == 1)); then
        services_stop
    fi
    if ((failed == 0)); then
        rm -rf "$run_dir"
    else
        echo "bench: logs kept in $run_dir" >&2
    fi
}
trap cleanup EXIT

# json_text: stdin without quotes and backslashes (\134) and with only printable characters,
# safe inside a JSON string.
json_text() {
    tr -d '"\134' | tr -c '[:print:]' ' '
}

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
time_zone = "Europe/Helsinki"

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

# wait_for_line PID LOG PATTERN: the first line of LOG matching PATTERN, within 30 s, while
# process PID lives.
wait_for_line() {
    local pid="$1" log="$2" pattern="$3" line
    for _ in $(seq 1 300); do
        line="$(grep -m 1 -E "$pattern" "$log" 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            echo "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

# wait_healthy PID PORT: /healthz answers within 30 s while process PID lives.
wait_healthy() {
    local pid="$1" port="$2"
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# ------------------------------------------------------------------ services
# pin_tree CORE PID: PID, its threads and its descendants to CORE (processes it forks later
# inherit it).
pin_tree() {
    local core="$1" pid="$2" child
    taskset -a -p -c "$core" "$pid" >/dev/null
    for child in $(ps -o pid= --ppid "$pid"); do
        pin_tree "$core" "$child"
    done
}

# Private PostgreSQL and Redis for this run (scripts/services.sh), pinned to core 1, with
# PostgreSQL restarted durable; sets pg_pid, redis_pid, pg_url_base and redis_url.
start_services() {
    # shellcheck source=scripts/services.sh
    source scripts/services.sh
    unset LUUKKU_TEST_DATABASE_URL LUUKKU_TEST_REDIS_URL
    export LUUKKU_TEST_PRIVATE_SERVICES=1
    echo "==> PostgreSQL and Redis (scripts/services.sh)"
    services_up=1
    services_start || die "PostgreSQL or Redis could not be started (scripts/services.sh)"
    [[ -n "$services_pg_dir" && -n "$services_redis_dir" ]] ||
        die "services.sh did not start private instances"
    # services.sh runs its PostgreSQL with fsync=off on the command line (tests); a benchmark
    # of durable storage needs it on, which only a restart without that option gives.
    local pg_port="${services_pg_admin##*:}"
    pg_port="${pg_port%%/*}"
    services_pg pg_ctl -D "$services_pg_dir/data" -l "$services_pg_dir/server.log" -w -t 60 \
        -o "-p $pg_port -k $services_pg_dir -c listen_addresses=127.0.0.1" \
        restart >/dev/null || die "PostgreSQL did not restart with fsync on"
    [[ "$(services_psql "$services_pg_admin" -c 'SHOW fsync')" == on ]] ||
        die "PostgreSQL still runs with fsync off"
    pg_pid="$(head -n 1 "$services_pg_dir/data/postmaster.pid")"
    redis_pid="$(cat "$services_redis_dir/redis.pid")"
    pin_tree 1 "$pg_pid"
    pin_tree 1 "$redis_pid"
    pg_url_base="${LUUKKU_TEST_DATABASE_URL%/*}"
    redis_url="$LUUKKU_TEST_REDIS_URL"
    echo "==> PostgreSQL pid $pg_pid (fsync on), Redis pid $redis_pid, both on core 1"
}

# fresh_database: creates an empty database of this run; sets db_url.
databases=0
fresh_database() {
    databases=$((databases + 1))
    local name="luukku_run_${services_run_id}_bench_$databases"
    services_psql "$LUUKKU_TEST_DATABASE_URL" -c "CREATE DATABASE $name" >/dev/null ||
        die "cannot create database $name"
    db_url="$pg_url_base/$name"
}

# drop_databases: drops the databases of the systems run so far (keeps the disk small).
drop_databases() {
    local name
    for name in $(services_psql "$LUUKKU_TEST_DATABASE_URL" -c \
        "SELECT datname FROM pg_database WHERE datname LIKE 'luukku_run_${services_run_id}_bench_%'"); do
        services_psql "$LUUKKU_TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" \
            >/dev/null || true
    done
}

# ------------------------------------------------------------------ servers
# start_luukku_node NAME [FLAG...]: one Luukku node pinned to core 1 with the benchmark
# organisation; appends its pid to server_pids and sets node_port. Fails when it does not
# become healthy (the caller reads the log).
start_luukku_node() {
    local name="$1" port data
    shift
    port="$(free_port)"
    node_port="$port"
    data="$run_dir/$name-data"
    rm -rf "$data" && mkdir -p "$data"
    [[ -f "$run_dir/luukku.toml" ]] || write_luukku_config >"$run_dir/luukku.toml"
    taskset -c 1 "$bin/luukku" --listen "127.0.0.1:$port" --data-dir "$data" \
        --config "$run_dir/luukku.toml" "$@" >"$run_dir/$name.server.log" 2>&1 &
    server_pids+=($!)
    wait_healthy "$!" "$port"
}

# start_sio_process NAME [VAR=VALUE...]: one Socket.IO process pinned to core 1; appends its
# pid to server_pids and sets sio_url.
start_sio_process() {
    local name="$1" log="$run_dir/$1.server.log" line
    shift
    (cd load-tests/socketio && exec env PORT=0 "$@" taskset -c 1 node server.js) >"$log" 2>&1 &
    server_pids+=($!)
    line="$(wait_for_line "$!" "$log" 'socketio listens on http://')" || {
        tail -n 20 "$log" >&2
        die "$name: the Socket.IO server did not start"
    }
    sio_url="ws://$(sed -E 's|.*http://([^/]+)/.*|\1|' <<<"$line")"
}

# start_server SYSTEM: starts it (see the top for the pinning); sets server_pids, url,
# console_url and backing. Returns 2, with skip_reason set, when the system cannot run yet.
start_server() {
    local system="$1" log="$run_dir/$1.server.log" line
    server_pids=()
    url=""
    console_url=""
    backing=()
    skip_reason=""
    case "$system" in
        luukku)
            start_luukku_node luukku || {
                tail -n 20 "$run_dir/luukku.server.log" >&2
                die "luukku did not start"
            }
            url="ws://127.0.0.1:$node_port"
            ;;
        luukku-pg)
            fresh_database
            start_luukku_node luukku-pg --database-url "$db_url" --node-id n1 || {
                tail -n 20 "$run_dir/luukku-pg.server.log" >&2
                die "luukku-pg did not start"
            }
            url="ws://127.0.0.1:$node_port"
            backing=("postgresql=$pg_pid")
            ;;
        luukku-cluster)
            start_luukku_cluster || return $?
            ;;
        relay)
            taskset -c 1 "$bin/luukku-relay" --listen 127.0.0.1:0 \
                --professionals "$professionals" >"$log" 2>&1 &
            server_pids=($!)
            line="$(wait_for_line "$!" "$log" 'luukku-relay listens on http://')" || {
                tail -n 20 "$log" >&2
                die "luukku-relay did not start"
            }
            url="ws://$(sed -E 's|.*http://([^/]+)/.*|\1|' <<<"$line")"
            ;;
        socketio)
            start_sio_process socketio
            url="$sio_url"
            ;;
        socketio-redis)
            start_sio_process socketio-redis.1 "SIO_REDIS_URL=$redis_url"
            url="$sio_url"
            start_sio_process socketio-redis.2 "SIO_REDIS_URL=$redis_url"
            console_url="$sio_url"
            backing=("redis=$redis_pid")
            ;;
    esac
    echo "==> $system: pids ${server_pids[*]}, clients $url${console_url:+, consoles $console_url}"
}

# Two nodes on one fresh database and the run's Redis, clients on node 1, consoles on node 2.
# Node 1 becomes the primary and node 2 a door that tunnels its consoles to it. A server that
# refuses a second node on one database (exit 64, "another node …") returns 2 with the node's
# reason in skip_reason.
start_luukku_cluster() {
    local port1 rc=0 log2="$run_dir/luukku-cluster.2.server.log"
    fresh_database
    local cluster=(--database-url "$db_url" --redis-url "$redis_url")
    start_luukku_node luukku-cluster.1 "${cluster[@]}" --node-id n1 || {
        tail -n 20 "$run_dir/luukku-cluster.1.server.log" >&2
        die "luukku-cluster: node 1 did not start"
    }
    port1="$node_port"
    if ! start_luukku_node luukku-cluster.2 "${cluster[@]}" --node-id n2; then
        wait "${server_pids[1]}" 2>/dev/null || rc=$?
        if ((rc == 64)) && grep -q 'another node' "$log2"; then
            skip_reason="the second node was refused (exit 64): $(grep -m 1 -o 'another node.*' "$log2" |
                cut -c 1-240)"
            server_pids=("${server_pids[0]}")
            return 2
        fi
        tail -n 20 "$log2" >&2
        die "luukku-cluster: node 2 did not start (exit code $rc)"
    fi
    url="ws://127.0.0.1:$port1"
    console_url="ws://127.0.0.1:$node_port"
    backing=("postgresql=$pg_pid" "redis=$redis_pid")
}

stop_server() {
    local pid
    ((${#server_pids[@]} > 0)) || return 0
    for pid in "${server_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "bench: server $pid still running 10 s after SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    server_pids=()
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
            why="$(printf '%s' "$why" | json_text | cut -c 1-300)"
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
if rate > 15 and system.startswith("luukku"):
    n = math.ceil(offered / 30)
    rate = offered / (2 * n)
print(n, round(rate, 3))
PY
}

# ------------------------------------------------------------------ Redis pub/sub
# measure_pubsub PIPELINE: redis-benchmark PUBLISHes to random ones of pubsub_channels
# channels, each subscribed by pubsub_subscribers connections (as every node subscribes to
# its sessions' conversations), and records publish/s, the publishes Redis counted and what
# each subscriber received of them, and Redis's CPU per publish. Redis stays on core 1; benchmark and subscribers run on core 0.
pubsub_channels=2000
pubsub_subscribers=2
pubsub_clients=50
pubsub_payload_bytes=300
measure_pubsub() {
    local pipeline="$1" host port i out="$run_dir/pubsub.P$1" subs=() payload cpu_before cpu_after
    local published
    host="$(sed -E 's|redis://([^:/]+):([0-9]+).*|\1|' <<<"$redis_url")"
    port="$(sed -E 's|redis://([^:/]+):([0-9]+).*|\2|' <<<"$redis_url")"
    payload="$(head -c "$pubsub_payload_bytes" /dev/zero | tr '\0' x)"
    echo
    echo "==> redis: PUBLISH, $pubsub_clients clients × pipeline $pipeline, $pubsub_channels channels, $pubsub_subscribers subscribers"
    for i in $(seq 1 "$pubsub_subscribers"); do
        pubsub_subscriber "$host" "$port" >"$out.sub$i" &
        subs+=($!)
    done
    for _ in $(seq 1 100); do
        [[ "$(redis-cli -h "$host" -p "$port" PUBSUB NUMSUB bench:stop | tail -n 1)" == "$pubsub_subscribers" ]] && break
        sleep 0.1
    done
    redis-cli -h "$host" -p "$port" CONFIG RESETSTAT >/dev/null
    cpu_before="$(proc_ticks "$redis_pid")"
    taskset -c 0 redis-benchmark -h "$host" -p "$port" -c "$pubsub_clients" -n "$pubsub_publishes" \
        -P "$pipeline" -r "$pubsub_channels" --csv PUBLISH 'bench:conv:__rand_int__' "$payload" \
        >"$out.csv" 2>"$out.err" || true
    cpu_after="$(proc_ticks "$redis_pid")"
    # What Redis itself counted (the subscribers' figures are checked against it).
    published="$(redis-cli -h "$host" -p "$port" INFO commandstats |
        sed -nE 's/^cmdstat_publish:calls=([0-9]+),.*/\1/p')"
    # Delivered after everything published before it: the subscribers stop at this one.
    redis-cli -h "$host" -p "$port" PUBLISH bench:stop bench-done >/dev/null
    for _ in $(seq 1 300); do
        kill -0 "${subs[@]}" 2>/dev/null || break
        sleep 0.1
    done
    kill "${subs[@]}" 2>/dev/null || true
    wait "${subs[@]}" 2>/dev/null || true
    if ! grep -q '^"PUBLISH' "$out.csv" 2>/dev/null; then
        failed=1
        printf '{"system":"redis","label":"pubsub-P%s","error":"redis-benchmark failed: %s"}\n' \
            "$pipeline" "$(tail -n 1 "$out.err" | json_text)" >>"$lines"
        return 0
    fi
    python3 - "$out" "$pipeline" "${published:-0}" "$pubsub_channels" "$pubsub_subscribers" \
        "$pubsub_clients" "$pubsub_payload_bytes" "$cpu_before" "$cpu_after" >>"$lines" <<'PY'
import csv, json, sys
out, pipeline, n, channels, subscribers, clients, payload, before, after = sys.argv[1:]
n, subscribers, cpu_s = int(n), int(subscribers), (int(after) - int(before)) / 100
row = [r for r in csv.DictReader(open(out + ".csv"))][-1]
received = []
for i in range(1, subscribers + 1):
    text = open(f"{out}.sub{i}").read().split()
    received.append(int(text[0]) if text else 0)
result = {
    "scenario": "redis-pubsub",
    "publish_per_s": float(row["rps"]),
    "published": n,
    "clients": int(clients),
    "pipeline": int(pipeline),
    "channels": int(channels),
    "subscribers": subscribers,
    "payload_bytes": int(payload),
    "received_per_subscriber": min(received),
    "redis_cpu_s": round(cpu_s, 3),
    "redis_cpu_us_per_publish": round(cpu_s / n * 1e6, 3) if n else None,
    "p50_ms": float(row["p50_latency_ms"]),
    "p99_ms": float(row["p99_latency_ms"]),
}
print(json.dumps({"system": "redis", "label": f"pubsub-P{pipeline}", "result": result}))
PY
    tail -n 1 "$lines"
}

# pubsub_subscriber HOST PORT: on core 0, SUBSCRIBEs to the benchmark's channels and
# bench:stop, counts the messages (by bytes: every frame has the same size) until the
# bench-done message, and prints how many came before it.
pubsub_subscriber() {
    taskset -c 0 python3 - "$1" "$2" "$pubsub_channels" "$pubsub_payload_bytes" <<'PY'
import socket, sys
host, port, channels, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
names = [f"bench:conv:{i:012d}" for i in range(channels)] + ["bench:stop"]
def frame(*parts):
    out = b"*%d\r\n" % len(parts)
    for p in parts:
        out += b"$%d\r\n%s\r\n" % (len(p), p)
    return out
sock = socket.create_connection((host, port))
sock.sendall(frame(b"SUBSCRIBE", *(n.encode() for n in names)))
confirmations = sum(
    len(frame(b"subscribe", n.encode())) + len(b":%d\r\n" % k) for k, n in enumerate(names, 1)
)
message = len(frame(b"message", names[0].encode(), b"x" * payload))
stop = frame(b"message", b"bench:stop", b"bench-done")
total, tail, buf = 0, b"", bytearray(1 << 20)
while True:
    n = sock.recv_into(buf)
    if n == 0:
        break
    total += n
    window = tail + bytes(buf[:n])
    if total > confirmations and window.endswith(stop):
        total -= len(stop)
        break
    tail = window[-len(stop):]
print(max(0, total - confirmations) // message)
PY
}

# proc_ticks PID: user + system CPU ticks of a process.
proc_ticks() {
    python3 -c 'import sys; f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split(); print(int(f[11]) + int(f[12]))' "$1"
}

# ------------------------------------------------------------------ the run
measure_started=$SECONDS
quarter=""
quarter_source=""
notes="Load generator pinned to core 0; each system's server processes, and the PostgreSQL and"
notes+=" Redis it uses, to core 1 (taskset). Clinic runs: one console"
notes+=" connection per professional ($professionals), at most $max_conversations conversations,"
notes+=" $base_rate msg/s per side before the per-conversation rate grows; ramp steps of"
notes+=" ${step_s} s; bound p99 ≤ 50 ms. Luukku: durable SQLite (WAL, synchronous=FULL), default"
notes+=" limits (20 frames/s per client connection: the ramp stays under 15 msg/s per side)."
if ((needs_services == 1)); then
    start_services
    notes+=" PostgreSQL and Redis: private instances of the run (PostgreSQL with fsync on); the"
    notes+=" two-node systems put the clients on one node and the consoles on the other."
fi
redis_used=0

# target and watch: where the load goes and which processes it measures (after start_server).
aim() {
    target=(--url "$url" --system "$kind")
    [[ -n "$console_url" ]] && target+=(--console-url "$console_url")
    watch=(--server-pid "$(
        IFS=,
        echo "${server_pids[*]}"
    )")
    for b in "${backing[@]}"; do
        watch+=(--backing-pid "$b")
    done
}

# Starts $system afresh (a new process, a new database and Redis keys): a clinic run ends with
# its chats still open, and their professionals would have no place left for the next run's.
fresh_start() {
    stop_server
    if ((needs_services == 1)); then
        drop_databases
        redis-cli -u "$redis_url" FLUSHALL >/dev/null || true
    fi
    start_server "$system"
    aim
}

for system in "${all_systems[@]}"; do
    has "$system" || continue
    kind=luukku
    [[ "$system" == socketio* ]] && kind=socketio
    # Idle first, on a fresh process: its RSS baseline is not blurred by earlier runs. The
    # multi-process and PostgreSQL systems keep the same per-connection state: not repeated.
    if [[ "$system" == relay || "$system" == luukku || "$system" == socketio ]]; then
        start_server "$system"
        run_load "$system" idle idle --url "$url" --system "$kind" \
            --connections "$idle_conns" --hold-s "$idle_hold" --server-pid "${server_pids[0]}"
        stop_server
    fi
    rc=0
    start_server "$system" || rc=$?
    if ((rc == 2)); then
        echo "bench: $system SKIPPED: $skip_reason" >&2
        why="$(printf '%s' "$skip_reason" | json_text)"
        printf '{"system":"%s","label":"all","skipped":"%s"}\n' "$system" "$why" >>"$lines"
        stop_server
        continue
    fi
    uses_redis "$system" && redis_used=1
    aim
    # Luukku rate-limits 20 frames/s per client and 200 per console: past 2,000 conversations ×
    # 15 msg/s per side (60,000 msg/s) only the relay and Socket.IO, which have no such limits,
    # go on.
    limits=(--max-rate 15 --max-console-rate 150)
    is_luukku "$system" || limits=(--max-rate 200 --max-console-rate 5000)
    run_load "$system" ramp ramp "${target[@]}" "${watch[@]}" \
        --conversations "$max_conversations" --rate "$base_rate" \
        --professionals "$professionals" --duration-s "$step_s" --drain-s "$drain_s" \
        "${limits[@]}" "${ramp_shape[@]}"
    if [[ -z "$quarter" && -n "$last_json" ]]; then
        quarter="$(python3 -c 'import json,sys; m = json.loads(sys.argv[1]).get("max_delivered_per_s"); print(round(m / 4, 1) if m else "")' "$last_json")"
        quarter_source="$system"
    fi
    fresh_start
    read -r x_convs x_rate <<<"$(plan_for "$system" "$cross_node_rate")"
    run_load "$system" "clinic-$cross_node_rate" clinic "${target[@]}" "${watch[@]}" \
        --conversations "$x_convs" --rate "$x_rate" --professionals "$professionals" \
        --duration-s "$quarter_s" --drain-s "$drain_s"
    if [[ -n "$quarter" ]]; then
        fresh_start
        read -r q_convs q_rate <<<"$(plan_for "$system" "$quarter")"
        run_load "$system" clinic-quarter clinic "${target[@]}" "${watch[@]}" \
            --conversations "$q_convs" --rate "$q_rate" --professionals "$professionals" \
            --duration-s "$quarter_s" --drain-s "$drain_s"
    fi
    if is_luukku "$system"; then
        fresh_start
        run_load "$system" queue queue "${target[@]}" "${watch[@]}" \
            --team social --service social-chat --questionnaire "" "${queue_args[@]}"
    fi
    stop_server
    if ((needs_services == 1)); then
        drop_databases
        redis-cli -u "$redis_url" FLUSHALL >/dev/null || true
    fi
done
if [[ -n "$quarter" ]]; then
    notes+=" clinic-quarter: $quarter msg/s offered, a quarter of the $quarter_source maximum"
    notes+=" (Luukku with more conversations past 15 msg/s per side, the others with a higher rate)."
fi
notes+=" clinic-$cross_node_rate: $cross_node_rate msg/s offered, for the cross-node latency goal."
if ((redis_used == 1)); then
    if command -v redis-benchmark >/dev/null; then
        measure_pubsub 1
        measure_pubsub 16
    else
        echo "bench: redis-benchmark is missing (Debian: redis-tools); no pub/sub figure" >&2
    fi
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
elif [[ "$out_dir" == bench/results && -z "${BENCH_SYSTEMS:-}" ]]; then
    # Only a full run of every system into bench/results fills docs/performance.md: a re-run
    # of some systems elsewhere must not replace the full run's tables.
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
