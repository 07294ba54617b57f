#!/usr/bin/env bash
# Measures the core server on this machine: memory per idle connection and open rate
# (`luukku-load idle`), then latency, throughput and delivery guarantees of live
# conversations (`luukku-load clinic`). The server runs on core 0 and the load generator on
# core 1 when taskset is available. Knobs (environment):
#   IDLE_CONNS (10000)  CONVS (200)  PROFS (6)  RATE (2 msg/s per side)  DURATION (20 s)
#   LOAD_ARGS (extra flags for both scenarios, e.g. --msgpack)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

idle_conns="${IDLE_CONNS:-10000}"
convs="${CONVS:-200}"
profs="${PROFS:-6}"
rate="${RATE:-2}"
duration="${DURATION:-20}"
read -r -a load_args <<<"${LOAD_ARGS:-}"

server_pid=""
data_dir=""
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$data_dir" ]]; then
        rm -rf "$data_dir"
    fi
}
trap cleanup EXIT

echo "==> building release binaries"
cargo build --release -p luukku --bin luukku -p luukku-load --bin luukku-load
bin="${CARGO_TARGET_DIR:-target}/release"

# Every connection is a file descriptor, in the server and in the load generator.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

pin_server=()
pin_loader=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    pin_server=(taskset -c 0)
    pin_loader=(taskset -c 1)
    echo "server pinned to core 0, load generator to core 1"
fi

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
data_dir="$(mktemp -d)"
log="$data_dir/server.log"
"${pin_server[@]}" "$bin/luukku" --listen "127.0.0.1:$port" --data-dir "$data_dir" >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "server exited during start-up; its log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
    sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"
echo "server pid $server_pid on 127.0.0.1:$port"

status=0
results=()
# run_load NAME ARGS...: runs one scenario, keeps its JSON line, records a failure.
run_load() {
    local name="$1" out
    shift
    echo
    echo "==> $name"
    out="$data_dir/$name.out"
    if "${pin_loader[@]}" "$bin/luukku-load" "$@" "${load_args[@]}" | tee "$out"; then
        :
    else
        echo "$name: FAILED" >&2
        status=1
    fi
    results+=("$(grep '^{' "$out" | tail -n 1 || true)")
}

url="ws://127.0.0.1:$port"
run_load idle idle --url "$url" --connections "$idle_conns" --server-pid "$server_pid"
sleep 2 # let the server reap the idle connections before the next scenario
run_load clinic clinic --url "$url" --conversations "$convs" --professionals "$profs" \
    --rate "$rate" --duration-s "$duration" --server-pid "$server_pid"

echo
echo "==> stopping the server (SIGTERM)"
kill -TERM "$server_pid"
rc=0
for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
    echo "server still running 10 s after SIGTERM" >&2
    status=1
else
    wait "$server_pid" || rc=$?
    server_pid=""
    echo "server exit code $rc"
    ((rc == 0)) || status=1
fi
if ((status != 0)); then
    echo "server log (last 20 lines):"
    tail -n 20 "$log"
fi

echo
echo "==> results"
printf '%s\n' "${results[@]}"
exit "$status"
