#!/usr/bin/env python3
"""Structural checks of the deploy files (deploy/, .dockerignore), run by scripts/check-deploy.sh.

The tools' own checks (haproxy -c, promtool, systemd-analyze, the compose-spec and Kubernetes
JSON schemas) run in check-deploy.sh; this file checks what no schema knows: that the files
agree with each other and with the server (the probes' paths, the drain against the grace
periods, the three cluster variables on every node, the balancer's and Prometheus' targets
against the compose nodes). Each check prints what it verified; any failure exits 1.

Usage: check_deploy.py REPO_ROOT (in the venv check-deploy.sh makes: PyYAML, dockerfile-parse).
"""

import re
import sys
import tomllib
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "kubernetes"

# The server's default shutdown_grace_s (docs/configuration.md): used when a file omits it.
DEFAULT_SHUTDOWN_GRACE_S = 5
# Time after the drain for the storage flush and the process exit. The server waits at most
# shutdown_grace for its sessions and again at most shutdown_grace for the HTTP server
# (server/src/server.rs), so a stop takes at most 2 × grace + this.
FLUSH_MARGIN_S = 5
CLUSTER_VARIABLES = ("LUUKKU_DATABASE_URL", "LUUKKU_REDIS_URL", "LUUKKU_NODE_ID")
NODES = ("node1", "node2", "node3")

failures = []


def ok(what):
    print(f"  ok: {what}")


def fail(what):
    print(f"  FAILED: {what}")
    failures.append(what)


def expect(condition, what, why=""):
    """Records one verified claim: `what` on success, `what` and `why` on failure."""
    if condition:
        ok(what)
    else:
        fail(f"{what}{': ' + why if why else ''}")
    return bool(condition)


def section(name):
    print(f"- {name}")


def rel(path):
    return path.relative_to(ROOT)


def seconds(value):
    """A compose or systemd duration ("30s", "1m30s", "1min", 45), in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, matched = 0.0, False
    units = {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(h|min|ms|m|s|us)", str(value)):
        matched = True
        total += float(number) * units[unit]
    if not matched:
        raise ValueError(f"not a duration: {value!r}")
    return total


def drain_bound(config):
    """Longest a SIGTERM'd server takes to exit under this configuration, in seconds."""
    grace = config.get("shutdown_grace_s", DEFAULT_SHUTDOWN_GRACE_S)
    return 2 * grace + FLUSH_MARGIN_S


def check_yaml():
    section("YAML: every file under deploy/ parses")
    documents = {}
    for path in sorted(list(DEPLOY.rglob("*.yaml")) + list(DEPLOY.rglob("*.yml"))):
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            fail(f"{rel(path)} does not parse: {e}")
            continue
        documents[path] = docs
        ok(f"{rel(path)} parses ({len(docs)} document{'s' if len(docs) != 1 else ''})")
    return documents


organisation_files = {}


def check_organisation_file(text, where):
    """The organisation TOML: parses, has [organisation], keeps no secret (checked once)."""
    if where in organisation_files:
        return organisation_files[where]
    organisation_files[where] = {}
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        fail(f"{where} is not valid TOML: {e}")
        return {}
    ok(f"{where} is valid TOML")
    expect("organisation" in config, f"{where} has an [organisation]")
    expect(
        "jwt_secret" not in config.get("auth", {}),
        f"{where} holds no auth.jwt_secret (it comes from LUUKKU_JWT_SECRET)",
    )
    organisation_files[where] = config
    return config


def check_compose(documents):
    section("compose: deploy/compose.yaml")
    path = DEPLOY / "compose.yaml"
    compose = documents.get(path, [None])[0]
    if not expect(isinstance(compose, dict), "compose.yaml is a mapping"):
        return
    services = compose.get("services", {})
    for name in (*NODES, "postgres", "redis", "lb", "prometheus", "grafana"):
        expect(name in services, f"service {name} exists")
    for name, service in services.items():
        test = (service.get("healthcheck") or {}).get("test")
        expect(test and test != ["NONE"], f"service {name} has a healthcheck")

    node_ids = set()
    for node in NODES:
        service = services.get(node, {})
        env = service.get("environment", {})
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        for variable in CLUSTER_VARIABLES:
            expect(env.get(variable), f"{node} sets {variable}")
        if env.get("LUUKKU_NODE_ID"):
            node_ids.add(env["LUUKKU_NODE_ID"])
        expect(
            str(env.get("LUUKKU_DATABASE_URL", "")).startswith("postgres://")
            and "@postgres:" in str(env.get("LUUKKU_DATABASE_URL", "")),
            f"{node}'s LUUKKU_DATABASE_URL names the postgres service",
        )
        expect(
            str(env.get("LUUKKU_REDIS_URL", "")).startswith("redis://redis"),
            f"{node}'s LUUKKU_REDIS_URL names the redis service",
        )
        depends = service.get("depends_on", {})
        for dependency in ("postgres", "redis"):
            condition = depends.get(dependency, {}).get("condition") if isinstance(
                depends, dict
            ) else None
            expect(
                condition == "service_healthy",
                f"{node} waits for {dependency} to be healthy",
                f"condition is {condition!r}",
            )
        config_path = env.get("LUUKKU_CONFIG")
        mounts = {
            target: source
            for source, target, *_ in (v.split(":") for v in service.get("volumes", []))
        }
        source = mounts.get(config_path)
        if expect(
            config_path and source,
            f"{node}'s LUUKKU_CONFIG ({config_path}) is a mounted file",
        ):
            file = (DEPLOY / source).resolve()
            if expect(file.is_file(), f"{node} mounts {rel(file)}, which exists"):
                config = check_organisation_file(file.read_text(), str(rel(file)))
                stop = seconds(service.get("stop_grace_period", "10s"))
                expect(
                    stop >= drain_bound(config),
                    f"{node}'s stop_grace_period ({stop:g} s) covers the drain "
                    f"(2 × shutdown_grace_s + {FLUSH_MARGIN_S} s = {drain_bound(config)} s)",
                )
    expect(len(node_ids) == len(NODES), "every node has its own LUUKKU_NODE_ID", str(node_ids))

    lb_mounts = " ".join(services.get("lb", {}).get("volumes", []))
    expect("haproxy.cfg" in lb_mounts, "lb mounts deploy/haproxy.cfg")
    prometheus_mounts = " ".join(services.get("prometheus", {}).get("volumes", []))
    expect("prometheus.yml" in prometheus_mounts, "prometheus mounts deploy/prometheus.yml")
    # rule_files are relative to the configuration file, here and in the container alike.
    prometheus_config = documents.get(DEPLOY / "prometheus.yml", [{}])[0] or {}
    volume_targets = {
        v.split(":")[1]: v.split(":")[0]
        for v in services.get("prometheus", {}).get("volumes", [])
        if v.count(":") >= 1
    }
    rule_files = prometheus_config.get("rule_files") or []
    expect(rule_files, "prometheus.yml loads rule files")
    for rule_file in rule_files:
        source = volume_targets.get(f"/etc/prometheus/{rule_file}")
        expect(
            source and (DEPLOY / source).resolve() == (DEPLOY / rule_file).resolve(),
            f"prometheus mounts deploy/{rule_file} where prometheus.yml's rule_files finds it "
            f"(/etc/prometheus/{rule_file})",
            f"mounted from {source!r}",
        )

    haproxy = (DEPLOY / "haproxy.cfg").read_text()
    servers = set(re.findall(r"^\s*server\s+\S+\s+([\w.-]+):8080", haproxy, re.M))
    expect(
        servers == set(NODES),
        "haproxy.cfg balances over exactly the three compose nodes",
        f"servers {sorted(servers)}",
    )
    prometheus = documents.get(DEPLOY / "prometheus.yml", [{}])[0] or {}
    targets = set()
    for job in prometheus.get("scrape_configs", []):
        if job.get("job_name") == "luukku":
            for static in job.get("static_configs", []):
                targets.update(static.get("targets", []))
    expect(
        targets == {f"{n}:8080" for n in NODES},
        "prometheus.yml scrapes /metrics of every compose node",
        f"targets {sorted(targets)}",
    )


def check_haproxy_settings():
    section("haproxy.cfg: WebSocket-friendly and without stickiness")
    text = (DEPLOY / "haproxy.cfg").read_text()
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    expect(any(l.startswith("timeout tunnel") for l in lines), "sets `timeout tunnel`")
    expect("balance roundrobin" in lines, "balances round robin")
    expect(
        any(l.startswith("http-check send") and "uri /readyz" in l for l in lines),
        "health-checks the nodes on /readyz",
    )
    expect(
        not any(re.match(r"(cookie|stick|stick-table|balance source)\b", l) for l in lines),
        "has no stickiness (no cookie, stick-table or balance source)",
    )


def k8s_objects(documents):
    objects = []
    for path, docs in documents.items():
        if path.parent == K8S and path.name != "kustomization.yaml":
            objects += [(path, doc) for doc in docs]
    return objects


def check_kubernetes(documents):
    section("Kubernetes: deploy/kubernetes/")
    objects = k8s_objects(documents)
    for path, obj in objects:
        name = (obj.get("metadata") or {}).get("name")
        expect(
            obj.get("apiVersion") and obj.get("kind") and name,
            f"{rel(path)}: {obj.get('kind')}/{name} has apiVersion, kind and metadata.name",
        )

    kustomization = documents.get(K8S / "kustomization.yaml", [{}])[0] or {}
    listed = set(kustomization.get("resources", []))
    for resource in sorted(listed):
        expect((K8S / resource).is_file(), f"kustomization resource {resource} exists")
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        if path.name.endswith(".example.yaml"):
            expect(path.name not in listed, f"{path.name} is an example, not applied")
        else:
            expect(path.name in listed, f"{path.name} is listed in kustomization.yaml")

    by_kind = {}
    for _, obj in objects:
        by_kind.setdefault(obj.get("kind"), []).append(obj)
    deployments = by_kind.get("Deployment", [])
    if not expect(len(deployments) == 1, "there is one Deployment"):
        return
    deployment = deployments[0]
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    containers = pod.get("containers", [])
    if not expect(len(containers) == 1, "the Deployment runs one container"):
        return
    container = containers[0]
    expect(spec.get("replicas") == 3, "3 replicas", f"replicas = {spec.get('replicas')}")
    expect(
        all(pod_labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
        "the Deployment's selector matches its pod labels",
    )

    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    env = {e["name"]: e for e in container.get("env", [])}
    listen_port = int(str(env.get("LUUKKU_LISTEN", {}).get("value", ":0")).rsplit(":", 1)[1])
    expect(
        listen_port in ports.values(),
        f"LUUKKU_LISTEN's port {listen_port} is a container port",
    )
    for probe, wanted in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        get = (container.get(probe) or {}).get("httpGet") or {}
        port = get.get("port")
        expect(
            get.get("path") == wanted and (port in ports or port in ports.values()),
            f"{probe} is GET {wanted} on the server's port",
            f"got {get}",
        )

    configmaps = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    config_path = env.get("LUUKKU_CONFIG", {}).get("value", "")
    config = {}
    for mount in container.get("volumeMounts", []):
        directory = mount["mountPath"].rstrip("/") + "/"
        if not config_path.startswith(directory):
            continue
        configmap_name = (volumes.get(mount["name"], {}).get("configMap") or {}).get("name")
        key = config_path[len(directory):]
        data = configmaps.get(configmap_name, {}).get("data", {})
        if expect(
            key in data,
            f"LUUKKU_CONFIG ({config_path}) is key {key} of ConfigMap {configmap_name}",
        ):
            config = check_organisation_file(data[key], f"ConfigMap {configmap_name}/{key}")
            expect(not config.get("demo"), f"ConfigMap {configmap_name}/{key} is not demo mode")
    expect(config, "the organisation file comes from a ConfigMap")

    pre_stop = ((container.get("lifecycle") or {}).get("preStop") or {})
    command = (pre_stop.get("exec") or {}).get("command") or []
    pre_stop_s = (
        float(command[1])
        if len(command) == 2 and command[0] in ("sleep", "/bin/sleep")
        else float((pre_stop.get("sleep") or {}).get("seconds", 0))
    )
    expect(pre_stop_s > 0, f"preStop sleeps ({pre_stop_s:g} s) before SIGTERM")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    needed = pre_stop_s + drain_bound(config)
    expect(
        grace >= needed,
        f"terminationGracePeriodSeconds ({grace} s) covers preStop + the drain "
        f"({pre_stop_s:g} + 2 × shutdown_grace_s + {FLUSH_MARGIN_S} = {needed:g} s)",
    )

    pod_security = pod.get("securityContext") or {}
    security = container.get("securityContext") or {}
    expect(
        pod_security.get("runAsNonRoot") or security.get("runAsNonRoot"),
        "runs as non-root (runAsNonRoot)",
    )
    expect(security.get("readOnlyRootFilesystem"), "read-only root file system")
    expect(security.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    dropped = (security.get("capabilities") or {}).get("drop") or []
    expect("ALL" in dropped, "drops all capabilities")
    resources = container.get("resources") or {}
    expect(
        resources.get("requests", {}).get("cpu") and resources.get("requests", {}).get("memory")
        and resources.get("limits", {}).get("memory"),
        "cpu and memory requests and a memory limit",
    )

    secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
    for variable in ("LUUKKU_DATABASE_URL", "LUUKKU_REDIS_URL", "LUUKKU_JWT_SECRET"):
        ref = (env.get(variable, {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        secret = secrets.get(ref.get("name"), {})
        keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        expect(
            ref.get("key") in keys,
            f"{variable} comes from Secret {ref.get('name')} key {ref.get('key')} "
            "(documented in secret.example.yaml)",
        )
    external = {
        s["metadata"]["name"]
        for s in by_kind.get("Service", [])
        if s["spec"].get("type") == "ExternalName"
    }
    for secret in secrets.values():
        for key in ("database-url", "redis-url"):
            url = secret.get("stringData", {}).get(key, "")
            host = re.sub(r"^\w+://([^@/]*@)?", "", url).split(":")[0].split("/")[0]
            expect(
                host in external,
                f"Secret {secret['metadata']['name']} {key} names an ExternalName Service ({host})",
            )
    node_id = (env.get("LUUKKU_NODE_ID", {}).get("valueFrom") or {}).get("fieldRef") or {}
    expect(
        node_id.get("fieldPath") == "metadata.name",
        "LUUKKU_NODE_ID is the pod name (downward API)",
    )

    for service in by_kind.get("Service", []):
        selector = service["spec"].get("selector")
        if service["spec"].get("type") == "ExternalName":
            expect(
                service["spec"].get("externalName"),
                f"Service {service['metadata']['name']} names an external host",
            )
            continue
        expect(
            selector and all(pod_labels.get(k) == v for k, v in selector.items()),
            f"Service {service['metadata']['name']} selects the Deployment's pods",
        )
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort")
            expect(
                target in ports or target in ports.values(),
                f"Service {service['metadata']['name']} targets the server's port ({target})",
            )
    pdbs = by_kind.get("PodDisruptionBudget", [])
    if expect(pdbs, "there is a PodDisruptionBudget"):
        pdb = pdbs[0]["spec"]
        expect(
            all(pod_labels.get(k) == v for k, v in pdb["selector"]["matchLabels"].items()),
            "the PodDisruptionBudget selects the Deployment's pods",
        )
        expect(
            pdb.get("minAvailable", 0) >= 2 or pdb.get("maxUnavailable") == 1,
            "the PodDisruptionBudget keeps two pods (minAvailable ≥ 2 or maxUnavailable 1)",
        )


def check_dockerfile():
    section("Dockerfile: deploy/Dockerfile and .dockerignore")
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    instructions = parser.structure
    froms = [i for i in instructions if i["instruction"] == "FROM"]
    expect(len(froms) >= 2, f"multi-stage ({len(froms)} stages)")
    start = instructions.index(froms[-1])
    final = instructions[start:]

    def last(name):
        found = [i["value"] for i in final if i["instruction"] == name]
        return found[-1] if found else None

    user = last("USER")
    expect(
        user and user.split(":")[0] not in ("root", "0"),
        f"the final stage runs as a non-root USER ({user})",
    )
    copies = [i["value"] for i in final if i["instruction"] in ("COPY", "ADD")]
    expect(
        copies and all("--from=" in c for c in copies),
        "the final stage copies only from the builder (the binary)",
        f"{copies}",
    )
    env = parser.envs
    listen = env.get("LUUKKU_LISTEN", "")
    expect(listen.startswith("0.0.0.0:"), f"LUUKKU_LISTEN={listen} listens on every interface")
    exposed = (last("EXPOSE") or "").split()
    expect(
        listen.rsplit(":", 1)[-1] in [p.split("/")[0] for p in exposed],
        f"EXPOSE {' '.join(exposed)} is the listen port",
    )
    expect(last("ENTRYPOINT") or last("CMD"), "the final stage has an ENTRYPOINT")

    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    minimum = cargo["workspace"]["package"]["rust-version"]
    args = [i["value"] for i in instructions if i["instruction"] == "ARG"]
    version = next((a.split("=", 1)[1] for a in args if a.startswith("RUST_VERSION=")), "")

    def as_tuple(v):
        return tuple(int(x) for x in v.split("."))

    expect(
        version and as_tuple(version) >= as_tuple(minimum),
        f"the builder's Rust ({version}) is at least the workspace's rust-version ({minimum})",
    )

    ignore = (ROOT / ".dockerignore")
    if expect(ignore.is_file(), ".dockerignore exists at the repository root"):
        patterns = {l.strip().strip("/") for l in ignore.read_text().splitlines()}
        for needed in ("target", "node_modules", ".git"):
            expect(
                needed in patterns or f"**/{needed}" in patterns,
                f".dockerignore excludes {needed}",
            )


def parse_unit(path):
    """A systemd unit as {section: [(key, value), …]}: keys may repeat, so no configparser."""
    sections, current = {}, None
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif "=" in line and current is not None:
            key, value = line.split("=", 1)
            current.append((key.strip(), value.strip()))
        else:
            raise ValueError(f"{path}:{number}: not a section or key=value: {line}")
    return sections


def check_systemd_unit():
    section("systemd: deploy/systemd/luukku.service")
    path = DEPLOY / "systemd" / "luukku.service"
    try:
        unit = parse_unit(path)
    except ValueError as e:
        fail(str(e))
        return
    ok("parses as [Section] and key=value lines")
    service = unit.get("Service", [])

    def values(key):
        return [v for k, v in service if k == key]

    def one(key):
        found = values(key)
        return found[-1] if found else None

    for section_name in ("Unit", "Service", "Install"):
        expect(section_name in unit, f"has a [{section_name}] section")
    expect((one("ExecStart") or "").startswith("/"), f"ExecStart={one('ExecStart')} is absolute")
    expect(
        one("DynamicUser") == "yes" or (one("User") not in (None, "root", "0")),
        "runs as a dynamic or a dedicated non-root user",
    )
    wanted = {
        "ProtectSystem": "strict",
        "EnvironmentFile": "/etc/luukku/env",
        "Restart": "on-failure",
        "KillSignal": "SIGTERM",
        "NoNewPrivileges": "yes",
        "StateDirectory": "luukku",
    }
    for key, value in wanted.items():
        expect(one(key) == value, f"{key}={value}", f"got {one(key)!r}")
    data_dir = [v for v in values("Environment") if v.startswith("LUUKKU_DATA_DIR=")]
    expect(
        data_dir == ["LUUKKU_DATA_DIR=/var/lib/luukku"],
        "LUUKKU_DATA_DIR is the StateDirectory (/var/lib/luukku)",
    )
    stop = one("TimeoutStopSec")
    drain = drain_bound({})
    expect(
        stop is not None and seconds(int(stop) if stop.isdigit() else stop) >= drain,
        f"TimeoutStopSec={stop} covers the drain with the default grace "
        f"(2 × shutdown_grace_s + {FLUSH_MARGIN_S} = {drain} s)",
    )


def main():
    print(f"check_deploy.py: {ROOT}")
    documents = check_yaml()
    check_compose(documents)
    check_haproxy_settings()
    check_kubernetes(documents)
    check_dockerfile()
    check_systemd_unit()
    if failures:
        print(f"check_deploy.py: {len(failures)} FAILED:")
        for what in failures:
            print(f"  - {what}")
        return 1
    print("check_deploy.py: every structural check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
