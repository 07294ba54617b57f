#!/usr/bin/env bash
# The one command that runs every test of Luukku (CI runs it through .ci/run):
#   1. installs missing tools (promtool and prometheus, from Debian's `prometheus` package;
#      the SMTP server of the notification tests, Debian's `python3-aiosmtpd`)
#   2. cargo fmt --check          3. cargo clippy -D warnings
#   4. the deploy files: scripts/check-deploy.sh (haproxy -c, promtool check config, the
#      alert rules checked and unit-tested, the Grafana dashboards, systemd-analyze verify,
#      the compose and Kubernetes schemas, cross-file checks)
#   5. services: PostgreSQL and Redis for the tests (scripts/services.sh: the machine's, or
#      private ones, installing Debian's packages when missing), stopped when this exits
#   6. cargo test (the server's integration tests start the real server on port 0; the
#      storage and bus tests use the services, a database and key prefix of their own each)
#   6b. the integration tests again, each server on a fresh PostgreSQL database
#   6c. and again, each server a 3-node cluster (PostgreSQL + Redis) with every test's
#      sockets spread over the three nodes (two of them tunnel to the primary)
#   7. metrics: start the real binary, `promtool check metrics` on /metrics, SIGTERM → exit 0
#   8. browser tests: ui-tests/ (node --test, playwright-core driving Debian's headless Chromium)
#      against the widget and console embedded in the binary (one failover test runs two
#      nodes behind Debian's HAProxy); installs chromium, haproxy and `npm ci` when missing;
#      then every server log of the run is searched for personal data (scripts/log-privacy.py)
# Every step runs even when an earlier one failed; the last line counts the steps.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/debian.sh
source scripts/lib/debian.sh

target_dir="${CARGO_TARGET_DIR:-target}"
# Set by check_metrics_of inside a step's subshell, whose EXIT trap cleans them up.
server_pid=""
data_dir=""

cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    if [[ -n "$data_dir" ]]; then
        rm -rf "$data_dir"
    fi
}

# promtool checks the metrics and the rules; the prometheus server itself runs in
# server/tests/dashboards.rs (both come with Debian's `prometheus` package).
install_tools() {
    # server/tests/notifications.rs sends real e-mail to Debian's aiosmtpd.
    if [[ ! -x /usr/bin/aiosmtpd ]]; then
        apt_install python3-aiosmtpd
    fi
    if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
        echo "promtool present: $(promtool --version 2>&1 | head -n 1)"
    else
        apt_install prometheus
    fi
    # server/tests/oidc.rs signs in through a real OpenID Connect provider (test-oidc/, the
    # oidc-provider npm package); its own self-test checks the provider first.
    if [[ ! -d test-oidc/node_modules ]]; then
        (cd test-oidc && npm ci --no-audit --no-fund)
    fi
    node test-oidc/selftest.mjs | tail -n 1
    command -v promtool >/dev/null && command -v prometheus >/dev/null && [[ -x /usr/bin/aiosmtpd ]]
}

# Starts BINARY on a free port with a fresh data dir, checks /metrics with promtool, then
# requires a clean exit (code 0) within 10 s of SIGTERM.
check_metrics_of() {
    local binary="$1" port log rc
    port="$(free_port)"
    data_dir="$(mktemp -d)"
    log="$data_dir/server.log"
    "$binary" --listen "127.0.0.1:$port" --data-dir "$data_dir" >"$log" 2>&1 &
    server_pid=$!
    local up=""
    for _ in $(seq 1 300); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
            up=yes
            break
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [[ -z "$up" ]]; then
        echo "server did not answer /healthz within 30 s; its log:" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
    if ! curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics; then
        echo "promtool check metrics failed" >&2
        return 1
    fi
    echo "promtool check metrics: ok"
    kill -TERM "$server_pid"
    for _ in $(seq 1 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        echo "server still running 10 s after SIGTERM; its log:" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
    rc=0
    wait "$server_pid" || rc=$?
    server_pid=""
    if [[ "$rc" != 0 ]]; then
        echo "server exited with code $rc after SIGTERM (want 0); its log:" >&2
        tail -n 40 "$log" >&2
        return 1
    fi
    echo "SIGTERM: clean exit 0"
    rm -rf "$data_dir"
    data_dir=""
}

# The binaries as the test step built them. `cargo build -p luukku` would build them again:
# its features are unified over one package, the test step's over the workspace (the load
# tool's hdrhistogram turns on num-traits' `default`), and a rebuild costs minutes here.
build_binaries() {
    cargo test --workspace --no-run
}

check_metrics() {
    build_binaries
    check_metrics_of "$target_dir/debug/luukku"
}

# Debian's Chromium (never a downloaded browser build) and the tests' npm packages.
install_browser_test_tools() {
    if [[ ! -x /usr/bin/chromium ]]; then
        apt_install chromium
    fi
    echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
    # The cluster failover test puts Debian's HAProxy in front of two nodes.
    if ! command -v haproxy >/dev/null; then
        apt_install haproxy
    fi
    # The patient-record test's stand-in FHIR server gets its certificates from openssl.
    if ! command -v openssl >/dev/null; then
        apt_install openssl
    fi
    if [[ ! -d ui-tests/node_modules ]]; then
        (cd ui-tests && npm ci --no-audit --no-fund)
    fi
}

# The browser tests run the binary as built, with its embedded assets (what ships): never
# LUUKKU_DEV_ASSETS, even when the developer's shell has it set.
browser_tests() {
    install_browser_test_tools
    # The SMS tests start the stand-in provider next to the server binary.
    build_binaries
    local bin logs rc=0
    bin="$(cd "$target_dir" && pwd)/debug/luukku"
    # Every server of the run logs at its most detailed level into a file of its own, and the
    # run's logs are then searched for personal data (tokens, identity codes, phone numbers,
    # what the tests typed): none may appear.
    logs="$(mktemp -d)"
    (cd ui-tests && env -u LUUKKU_DEV_ASSETS LUUKKU_BIN="$bin" LUUKKU_LOG_DIR="$logs" \
        RUST_LOG="info,luukku=trace" npm test) || rc=$?
    python3 scripts/log-privacy.py "$logs" ui-tests/tests || rc=1
    rm -rf "$logs"
    return "$rc"
}

passed=0
failed=0
failed_steps=()

# step NAME COMMAND...: runs one step, counts it, and goes on either way.
step() {
    local name="$1"
    shift
    local started=$SECONDS
    echo
    echo "==> $name"
    # Not inside `if`: bash ignores errexit there, even in a subshell that sets it.
    local rc=0
    set +e
    (
        set -euo pipefail
        trap cleanup EXIT
        "$@"
    )
    rc=$?
    set -e
    count_step "$name" "$started" "$rc"
}

# step_here NAME COMMAND...: a step run in this shell rather than a subshell, so that the
# variables COMMAND exports reach the later steps. COMMAND returns non-zero on failure
# (errexit is off while it runs).
step_here() {
    local name="$1"
    shift
    local started=$SECONDS
    echo
    echo "==> $name"
    local rc=0
    set +e
    "$@"
    rc=$?
    set -e
    count_step "$name" "$started" "$rc"
}

# count_step NAME STARTED RC: counts a finished step and says how it went.
count_step() {
    local name="$1" started="$2" rc="$3"
    if ((rc == 0)); then
        passed=$((passed + 1))
        echo "--> $name: ok ($((SECONDS - started)) s)"
    else
        failed=$((failed + 1))
        failed_steps+=("$name")
        echo "--> $name: FAILED ($((SECONDS - started)) s)"
    fi
}

step "install tools" install_tools
step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "deploy files" scripts/check-deploy.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh
trap services_stop EXIT
step_here "services" services_start
step "cargo test" cargo test --workspace
# The same integration tests against a node whose record is PostgreSQL, then a cluster.
# `--workspace` as in the step before, so nothing is compiled again; tests that do not depend
# on the backend under test (the load tool, processes with their own configuration) say so
# and return at once in these passes.
step "integration tests on PostgreSQL" env LUUKKU_TEST_BACKEND=postgres cargo test --workspace --test '*'
step "integration tests on a 3-node cluster" env LUUKKU_TEST_BACKEND=cluster cargo test --workspace --test '*'
step "metrics and shutdown" check_metrics
step "browser tests" browser_tests

echo
if ((failed > 0)); then
    echo "failed steps: ${failed_steps[*]}"
fi
echo "test.sh: $passed passed, $failed failed"
((failed == 0))
