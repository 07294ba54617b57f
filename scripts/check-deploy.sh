#!/usr/bin/env bash
# Checks the deploy files (deploy/, .dockerignore) without a container engine or a cluster:
#   - haproxy -c               deploy/haproxy.cfg is a valid HAProxy configuration
#   - promtool check config    deploy/prometheus.yml is a valid Prometheus configuration (and
#     the rule files it names)
#   - promtool check rules     deploy/prometheus/alerts.yml, the alert rules
#   - promtool test rules      deploy/prometheus/alerts.test.yml: every alert fires when it should
#     and stays quiet in a healthy case beside it
#   - scripts/check-dashboards.py  the Grafana dashboards and provisioning files of
#     deploy/grafana (data source, units, variables, the router's gauges maxed over the nodes,
#     the layout), and its --self-test, which breaks a dashboard in each of those ways
#   - systemd-analyze verify   deploy/systemd/luukku.service has no unknown key or bad value,
#     and `systemd-analyze security` rates its exposure at most 2.0 (of 10)
#   - compose-spec schema      deploy/compose.yaml (check-jsonschema's vendored compose-spec)
#   - Kubernetes schemas       deploy/kubernetes/*.yaml, strict (unknown fields fail), against
#     Kubernetes 1.30 and the newest version kubernetes-validate ships. kubeconform would
#     download its schemas at run time, which this project's machines cannot: kubernetes-validate
#     (PyPI) carries them in its package.
#   - kubectl kustomize        the whole kustomization through the same schemas, where a recent
#     kubectl is installed (skipped otherwise: none comes from the package registries)
#   - scripts/check_deploy.py  what no schema knows: the files agree with each other and with
#     the server (probes, drain vs grace periods, cluster variables, targets, non-root user)
# Installs what is missing: Debian's haproxy, prometheus (promtool) and systemd packages (one
# apt-get update first), and a venv of pinned PyPI packages in the cache directory. With
# everything present it runs in a few seconds. Every check runs; any failure exits 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/debian.sh
source scripts/lib/debian.sh
root="$(pwd)"

cache="${LUUKKU_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/luukku}"
# Pinned: a check that changes by itself is no check. Changing this list makes a new venv.
python_packages=(
    pyyaml==6.0.3
    dockerfile-parse==2.0.1
    check-jsonschema==0.39.0
    kubernetes-validate==1.37.0
)
# The oldest Kubernetes the manifests promise to work on (the newest is the package's default).
oldest_kubernetes=1.30.0

install_debian_packages() {
    local missing=()
    command -v haproxy >/dev/null || missing+=(haproxy)
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v systemd-analyze >/dev/null || missing+=(systemd)
    command -v python3 >/dev/null || missing+=(python3)
    # Debian's python3 makes venvs only with python3-venv (ensurepip).
    if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
        missing+=(python3-venv)
    fi
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    apt_install "${missing[@]}"
}

# Prints the venv's directory, making it first when missing.
python_venv() {
    local key venv
    key="$(printf '%s\n' "$(python3 -V 2>&1)" "${python_packages[@]}" | sha256sum | cut -c1-12)"
    venv="$cache/check-deploy-venv-$key"
    if [[ ! -x "$venv/bin/python" || ! -f "$venv/.complete" ]]; then
        echo "making $venv: ${python_packages[*]}" >&2
        rm -rf "$venv"
        mkdir -p "$cache"
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install -q --disable-pip-version-check --no-input \
            "${python_packages[@]}" >&2
        touch "$venv/.complete"
    fi
    echo "$venv"
}

failed=()
scratch=""
trap 'if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi' EXIT

# check NAME COMMAND...: runs one check, prints its output and whether it passed.
check() {
    local name="$1"
    shift
    echo
    echo "== $name"
    local rc=0
    "$@" || rc=$?
    if ((rc == 0)); then
        echo "-> $name: ok"
    else
        echo "-> $name: FAILED (exit $rc)"
        failed+=("$name")
    fi
}

# Valid, and no warning but the one this machine causes: the nodes' names resolve only inside
# the compose network (`init-addr none` starts the balancer without them).
check_haproxy() {
    local output rc=0
    haproxy -v | head -n 1
    output="$(haproxy -c -f deploy/haproxy.cfg 2>&1)" || rc=$?
    echo "$output"
    if ((rc != 0)); then
        return 1
    fi
    if echo "$output" | grep -E '\[(WARNING|ALERT)\]' | grep -vq 'could not resolve address'; then
        echo "haproxy -c: warnings besides the compose host names"
        return 1
    fi
}

check_prometheus() {
    promtool --version 2>&1 | head -n 1
    promtool check config deploy/prometheus.yml
}

# `check` runs these in an `||` list, where errexit is off: each command's failure is kept
# explicitly, or the last command's success would hide an earlier failure.
check_alert_rules() {
    local rc=0
    promtool check rules deploy/prometheus/alerts.yml || rc=1
    promtool test rules deploy/prometheus/alerts.test.yml || rc=1
    return "$rc"
}

check_dashboards() {
    local rc=0
    python3 scripts/check-dashboards.py "$root" || rc=1
    python3 scripts/check-dashboards.py --self-test "$root" || rc=1
    return "$rc"
}

# systemd-analyze verify needs the unit's ExecStart to exist and the system's units around it:
# a scratch root gives it both (a stub binary, a copy of the distribution's units), so it runs
# on a machine without systemd as PID 1, and never touches /etc/systemd. It exits 0 even on
# unknown keys, so any output at all fails the check.
check_systemd_unit() {
    local units exec_start output
    systemd-analyze --version | head -n 1
    units=/usr/lib/systemd/system
    scratch="$(mktemp -d)"
    mkdir -p "$scratch/usr/lib/systemd" "$scratch/etc/systemd/system"
    cp -a "$units" "$scratch/usr/lib/systemd/"
    exec_start="$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' deploy/systemd/luukku.service)"
    mkdir -p "$scratch$(dirname "$exec_start")"
    printf '#!/bin/sh\n' >"$scratch$exec_start"
    chmod +x "$scratch$exec_start"

    # Is this systemd-analyze usable here at all? A trivial unit must verify silently.
    printf '[Service]\nExecStart=%s\n' "$exec_start" >"$scratch/etc/systemd/system/probe.service"
    local rc=0
    output="$(systemd-analyze verify --root="$scratch" probe.service 2>&1)" || rc=$?
    if ((rc != 0)) || [[ -n "$output" ]]; then
        echo "systemd-analyze verify is not usable on this machine (a trivial unit fails):"
        echo "$output"
        echo "only the Python checks of the unit (scripts/check_deploy.py) stand"
        return 0
    fi
    rm "$scratch/etc/systemd/system/probe.service"

    cp deploy/systemd/luukku.service "$scratch/etc/systemd/system/"
    rc=0
    output="$(systemd-analyze verify --root="$scratch" luukku.service 2>&1)" || rc=$?
    if ((rc != 0)) || [[ -n "$output" ]]; then
        echo "systemd-analyze verify deploy/systemd/luukku.service (exit $rc):"
        echo "$output"
        return 1
    fi
    echo "systemd-analyze verify: no unknown keys, bad values or missing dependencies"
    # --threshold counts tenths: 20 is an exposure of 2.0 on systemd's 0–10 scale.
    rc=0
    output="$(systemd-analyze security --offline=yes --root="$scratch" --threshold=20 \
        --no-pager luukku.service 2>&1)" || rc=$?
    echo "$output" | grep -E '^✗|Overall exposure'
    if ((rc != 0)); then
        echo "systemd-analyze security: exposure above 2.0"
        return 1
    fi
}

check_compose_schema() {
    "$venv/bin/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose.yaml
}

kubernetes_manifests() {
    find deploy/kubernetes -name '*.yaml' ! -name kustomization.yaml | sort
}

# What `kubectl apply -k` would apply, through the same strict schemas. Only where a kubectl
# with kustomize v4 or later is installed: Debian's kubernetes-client (1.20) is too old for
# the `labels` field, and no newer kubectl comes from Debian's or PyPI's packages.
check_kustomize_build() {
    local built version
    if ! command -v kubectl >/dev/null; then
        echo "skipped: no kubectl here (the manifests' own checks above still ran)"
        return 0
    fi
    version="$(kubectl version --client 2>/dev/null |
        sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')"
    if [[ -z "$version" ]] || ((version < 4)); then
        echo "skipped: kubectl's kustomize is older than v4"
        kubectl version --client 2>&1 | head -n 2
        return 0
    fi
    built="$(mktemp)"
    kubectl kustomize deploy/kubernetes >"$built" || { rm -f "$built"; return 1; }
    echo "kubectl kustomize deploy/kubernetes: $(grep -c '^kind:' "$built") objects"
    local rc=0
    "$venv/bin/kubernetes-validate" --strict -k "$oldest_kubernetes" "$built" || rc=$?
    rm -f "$built"
    return "$rc"
}

check_kubernetes_schemas() {
    local manifests
    local rc=0
    mapfile -t manifests < <(kubernetes_manifests)
    "$venv/bin/kubernetes-validate" --strict -k "$oldest_kubernetes" "${manifests[@]}" || rc=1
    "$venv/bin/kubernetes-validate" --strict "${manifests[@]}" || rc=1
    return "$rc"
}

started=$SECONDS
install_debian_packages
venv="$(python_venv)"
echo "tools ready ($((SECONDS - started)) s)"

check "haproxy -c: deploy/haproxy.cfg" check_haproxy
check "promtool check config: deploy/prometheus.yml" check_prometheus
check "promtool check and test rules: deploy/prometheus/alerts.yml" check_alert_rules
check "dashboards: deploy/grafana (scripts/check-dashboards.py)" check_dashboards
check "systemd-analyze: deploy/systemd/luukku.service" check_systemd_unit
check "compose-spec schema: deploy/compose.yaml" check_compose_schema
check "Kubernetes schemas (strict): deploy/kubernetes/" check_kubernetes_schemas
check "kustomize build: deploy/kubernetes/" check_kustomize_build
check "structure: scripts/check_deploy.py" "$venv/bin/python" scripts/check_deploy.py "$root"

echo
if ((${#failed[@]} > 0)); then
    echo "check-deploy.sh: FAILED: ${failed[*]} ($((SECONDS - started)) s)"
    exit 1
fi
echo "check-deploy.sh: every check passed ($((SECONDS - started)) s)"
