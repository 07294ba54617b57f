#!/usr/bin/env bash
# PostgreSQL and Redis for the tests, the same on a fresh Debian machine and on one that
# already runs them. Sourced by scripts/test.sh (services_start, then services_stop on exit),
# or run around one command:
#
#     bash scripts/services.sh cargo test -p luukku storage::postgres
#
# services_start exports
#   LUUKKU_TEST_DATABASE_URL  an admin URL of a database made for this run; the tests
#                             CREATE DATABASE one of their own per test through it
#   LUUKKU_TEST_REDIS_URL     the Redis of this run, and LUUKKU_TEST_REDIS_PREFIX, a key
#                             prefix no other run uses
#   LUUKKU_TEST_PG_BIN        the directory of initdb, pg_ctl and postgres, and
#   LUUKKU_TEST_REDIS_SERVER  the redis-server binary: failure tests start private servers
#                             of their own to stop and restart them
#   LUUKKU_TEST_PG_USER       (as root) whom to run PostgreSQL as: initdb refuses root
#
# A server already answering on 127.0.0.1:5432 (pg_isready, and a database can be created as
# user postgres) or 127.0.0.1:6379 (redis-cli ping) is used as it is. Otherwise, or with
# LUUKKU_TEST_PRIVATE_SERVICES=1, Debian's postgresql / redis-server packages are installed
# when their binaries are missing and private instances run on free ports in temporary
# directories until services_stop. A LUUKKU_TEST_DATABASE_URL or LUUKKU_TEST_REDIS_URL set
# beforehand is kept.

# shellcheck source=scripts/lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

# What services_stop undoes.
services_run_id=""
services_pg_admin=""       # admin URL of the server that holds this run's databases
services_pg_dir=""         # private PostgreSQL: its temporary directory
services_redis_dir=""      # private Redis: its temporary directory
services_redis_cli=()      # redis-cli with the host and port of this run's Redis

services_log() {
    echo "services: $*" >&2
}


# The directory holding initdb, pg_ctl and postgres (the newest Debian version's).
services_pg_bin_dir() {
    local dir
    if command -v initdb >/dev/null; then
        dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
        if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    fi
    dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
        echo "$dir"
        return 0
    fi
    return 1
}

services_pg_binaries() {
    if ! LUUKKU_TEST_PG_BIN="$(services_pg_bin_dir)"; then
        apt_install postgresql || return 1
        LUUKKU_TEST_PG_BIN="$(services_pg_bin_dir)" || {
            services_log "no initdb after installing postgresql"
            return 1
        }
    fi
    export LUUKKU_TEST_PG_BIN
    if [[ "$(id -u)" == 0 ]]; then
        if ! id postgres >/dev/null 2>&1; then
            as_root useradd --system --no-create-home --shell /usr/sbin/nologin \
                postgres || return 1
        fi
        export LUUKKU_TEST_PG_USER=postgres
    fi
}

# Runs one of PostgreSQL's programs, as LUUKKU_TEST_PG_USER when that is set (as root).
services_pg() {
    local program="$LUUKKU_TEST_PG_BIN/$1"
    shift
    if [[ -n "${LUUKKU_TEST_PG_USER:-}" ]]; then
        (cd / && runuser -u "$LUUKKU_TEST_PG_USER" -- "$program" "$@")
    else
        "$program" "$@"
    fi
}

services_psql() {
    local url="$1"
    shift
    "$LUUKKU_TEST_PG_BIN/psql" "$url" -X -q -v ON_ERROR_STOP=1 -At "$@"
}

# A PostgreSQL of this run: initdb in a temporary directory, started on a free port.
services_pg_private() {
    local port
    port="$(free_port)" || return 1
    services_pg_dir="$(mktemp -d -t luukku-test-pg.XXXXXX)" || return 1
    if [[ -n "${LUUKKU_TEST_PG_USER:-}" ]]; then
        chown "$LUUKKU_TEST_PG_USER" "$services_pg_dir" || return 1
    fi
    services_pg initdb -D "$services_pg_dir/data" -U postgres -A trust --no-sync -E UTF8 \
        >"$services_pg_dir/initdb.log" 2>&1 || {
        cat "$services_pg_dir/initdb.log" >&2
        return 1
    }
    # fsync=off: a test server; nothing here must survive a crash of the machine.
    services_pg pg_ctl -D "$services_pg_dir/data" -l "$services_pg_dir/server.log" -w -t 60 \
        -o "-p $port -k $services_pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >/dev/null || {
        cat "$services_pg_dir/server.log" >&2
        return 1
    }
    services_pg_admin="postgres://postgres@127.0.0.1:$port/postgres"
    services_log "private PostgreSQL on 127.0.0.1:$port ($services_pg_dir)"
}

# The machine's PostgreSQL when it answers on 127.0.0.1:5432 and lets user postgres create
# databases; else a private one.
services_pg_start() {
    services_pg_binaries || return 1
    if [[ -n "${LUUKKU_TEST_DATABASE_URL:-}" ]]; then
        services_log "PostgreSQL: LUUKKU_TEST_DATABASE_URL as set"
        return 0
    fi
    local shared="postgres://postgres@127.0.0.1:5432/postgres"
    if [[ "${LUUKKU_TEST_PRIVATE_SERVICES:-}" != 1 ]] &&
        "$LUUKKU_TEST_PG_BIN/pg_isready" -q -h 127.0.0.1 -p 5432 &&
        services_psql "$shared" -c "SELECT 1" >/dev/null 2>&1; then
        services_pg_admin="$shared"
        services_log "PostgreSQL: the one on 127.0.0.1:5432"
    else
        services_pg_private || return 1
    fi
    local run_db="luukku_run_$services_run_id"
    services_psql "$services_pg_admin" -c "CREATE DATABASE $run_db" || return 1
    export LUUKKU_TEST_DATABASE_URL="${services_pg_admin%/postgres}/$run_db"
}

services_redis_binaries() {
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        apt_install redis-server || return 1
    fi
    LUUKKU_TEST_REDIS_SERVER="$(command -v redis-server)" || return 1
    export LUUKKU_TEST_REDIS_SERVER
}

# A Redis of this run on a free port, keeping nothing on disk.
services_redis_private() {
    local port
    port="$(free_port)" || return 1
    services_redis_dir="$(mktemp -d -t luukku-test-redis.XXXXXX)" || return 1
    "$LUUKKU_TEST_REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --dir "$services_redis_dir" \
        --pidfile "$services_redis_dir/redis.pid" \
        --logfile "$services_redis_dir/redis.log" || return 1
    services_redis_cli=(redis-cli -h 127.0.0.1 -p "$port")
    local _
    for _ in $(seq 1 100); do
        if [[ "$("${services_redis_cli[@]}" ping 2>/dev/null)" == PONG ]]; then
            export LUUKKU_TEST_REDIS_URL="redis://127.0.0.1:$port"
            services_log "private Redis on 127.0.0.1:$port ($services_redis_dir)"
            return 0
        fi
        sleep 0.1
    done
    services_log "redis-server did not answer within 10 s"
    cat "$services_redis_dir/redis.log" >&2
    return 1
}

services_redis_start() {
    services_redis_binaries || return 1
    export LUUKKU_TEST_REDIS_PREFIX="luukku-test-$services_run_id"
    if [[ -n "${LUUKKU_TEST_REDIS_URL:-}" ]]; then
        services_log "Redis: LUUKKU_TEST_REDIS_URL as set"
        return 0
    fi
    if [[ "${LUUKKU_TEST_PRIVATE_SERVICES:-}" != 1 ]] &&
        [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; then
        services_redis_cli=(redis-cli -h 127.0.0.1 -p 6379)
        export LUUKKU_TEST_REDIS_URL="redis://127.0.0.1:6379"
        services_log "Redis: the one on 127.0.0.1:6379"
    else
        services_redis_private || return 1
    fi
}

# Makes PostgreSQL and Redis available and exports the LUUKKU_TEST_* variables (see the top).
services_start() {
    services_run_id="$(date +%s)_$$"
    services_pg_start || return 1
    services_redis_start || return 1
    services_log "LUUKKU_TEST_DATABASE_URL=$LUUKKU_TEST_DATABASE_URL"
    services_log "LUUKKU_TEST_REDIS_URL=$LUUKKU_TEST_REDIS_URL" \
        "LUUKKU_TEST_REDIS_PREFIX=$LUUKKU_TEST_REDIS_PREFIX"
}

# Drops this run's databases (tests drop their own; this catches those of crashed tests) and
# keys, stops the private servers and removes their directories. Never fails.
services_stop() {
    if [[ -n "$services_pg_admin" && -z "$services_pg_dir" ]]; then
        local db
        for db in $(services_psql "$services_pg_admin" -c \
            "SELECT datname FROM pg_database WHERE datname LIKE 'luukku_run_${services_run_id}%'" \
            2>/dev/null); do
            services_psql "$services_pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
                >/dev/null 2>&1 || true
        done
    fi
    if [[ -n "$services_pg_dir" ]]; then
        services_pg pg_ctl -D "$services_pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$services_pg_dir"
    fi
    if [[ -n "$services_redis_dir" ]]; then
        local pid
        pid="$(cat "$services_redis_dir/redis.pid" 2>/dev/null || true)"
        if [[ -n "$pid" ]]; then
            kill "$pid" 2>/dev/null || true
        fi
        rm -rf "$services_redis_dir"
    elif ((${#services_redis_cli[@]} > 0)) && [[ -n "${LUUKKU_TEST_REDIS_PREFIX:-}" ]]; then
        "${services_redis_cli[@]}" --scan --pattern "$LUUKKU_TEST_REDIS_PREFIX*" 2>/dev/null |
            xargs -r -n 500 "${services_redis_cli[@]}" del >/dev/null 2>&1 || true
    fi
    services_pg_admin=""
    services_pg_dir=""
    services_redis_dir=""
    services_redis_cli=()
}

# Run as a command: start, run the arguments with the services, stop.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -uo pipefail
    if (($# == 0)); then
        echo "usage: bash scripts/services.sh COMMAND [ARG...]" >&2
        exit 64
    fi
    trap services_stop EXIT
    services_start || exit 1
    "$@"
fi
