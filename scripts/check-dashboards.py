#!/usr/bin/env python3
"""Checks the Grafana dashboards and provisioning files of deploy/grafana (run by
scripts/check-deploy.sh; Python 3 standard library only).

    check-dashboards.py [REPO_ROOT]             check; one line per problem, exit 1 on any
    check-dashboards.py --exprs [REPO_ROOT]     print every query, one JSON object a line:
                                                {"dashboard", "panel", "expr"} (the live test
                                                server/tests/dashboards.rs runs each against a
                                                real Prometheus)
    check-dashboards.py --self-test [REPO_ROOT] break a dashboard in each way checked below and
                                                require that every break is reported

What it checks, beyond "the JSON parses":
  - the data source of deploy/grafana/provisioning/datasources declares a uid, and every panel,
    query and template variable names exactly that data source ({"type": "prometheus", "uid": …});
  - the dashboard provider loads the directory that compose mounts deploy/grafana/dashboards at;
  - each dashboard: a uid and a title unique over all dashboards, a `schemaVersion`, `time`;
  - panel ids unique within a dashboard (panels inside rows included); every panel but a row has
    a title, a description and queries, each with an `expr` and a unique `refId`;
  - gridPos: inside the 24 columns, sizes of at least 1, and no two panels overlapping;
  - units from an allowed set and consistent with the query: a query on a `_seconds` metric
    (histogram buckets, sums or the gauge itself, not `_count`) shows seconds (`s`) unless it
    divides (then `s` for a mean or `percentunit` for a share); a panel in `s` queries seconds;
    a panel in `percentunit` divides;
  - template variables: every `$var` a query uses is defined (or one of Grafana's `$__…`), each
    is used, has an "All" option matching everything (`.*`) and is matched with `=~`;
  - the router's gauges (kept on the node running the conversations, 0 on a cluster's other
    nodes) are aggregated over the nodes with `max`, never `sum`/`avg`/`count`/…, and never
    shown unaggregated.

Why no JSON Schema: no package registry reachable here ships one for dashboards. Checked when
this was written: npm's @grafana/schema (13.2.3) carries TypeScript types and generated code
only, @grafana/grafana-foundation-sdk TypeScript builders; Grafana's own schema is CUE in its
repository (kinds/dashboard) and its v2 resource schema an OpenAPI document served by a running
Grafana. PyPI's grafanalib and grafana-foundation-sdk build dashboards, they do not validate
them. So this script checks the fields Grafana needs and the project's own rules instead.
"""

import copy
import json
import re
import sys
from pathlib import Path

ALLOWED_UNITS = {"s", "percentunit", "short", "none", "ops", "reqps"}
# Grafana's built-in variables a query may use.
BUILTIN_VARIABLES = {
    "__rate_interval",
    "__interval",
    "__interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
}
# Gauges the router sets: real on the node that runs the conversations, 0 on the others.
PRIMARY_ONLY_GAUGES = (
    "luukku_inbox_open",
    "luukku_inbox_overdue",
    "luukku_queue_length",
    "luukku_queue_oldest_wait_seconds",
    "luukku_queue_estimated_wait_seconds",
    "luukku_active_conversations",
    "luukku_available_professionals",
    "luukku_signed_in_professionals",
    "luukku_available_capacity",
)
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}
GRID_COLUMNS = 24

METRIC = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[|\)|$|\s|,)")
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")
MATCHER = re.compile(r'([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')


class Problems:
    def __init__(self):
        self.items = []

    def add(self, where, what):
        self.items.append(f"{where}: {what}")


# ------------------------------------------------------------------------------------------
# A small YAML reader for the provisioning files: block mappings, block lists of mappings and
# plain or quoted scalars, comments. Enough for Grafana's provisioning format, nothing more.


def parse_yaml_subset(text, where, problems):
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = re.sub(r"\s+#.*$", "", raw) if not raw.lstrip().startswith("#") else ""
        if stripped.strip():
            lines.append((number, len(stripped) - len(stripped.lstrip()), stripped.strip()))

    def scalar(value):
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            return value[1:-1]
        if value in ("true", "false"):
            return value == "true"
        if re.fullmatch(r"-?\d+", value):
            return int(value)
        return value

    def block(i, indent):
        """Parses the block starting at lines[i] with this indent; returns (value, next i)."""
        if i < len(lines) and lines[i][2].startswith("- "):
            items = []
            while i < len(lines) and lines[i][1] == indent and lines[i][2].startswith("- "):
                number, _, content = lines[i]
                inner = indent + 2
                lines[i] = (number, inner, content[2:].strip())
                value, i = block(i, inner)
                items.append(value)
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][1] == indent and not lines[i][2].startswith("- "):
            number, _, content = lines[i]
            match = re.fullmatch(r"([\w.-]+):(?:\s+(.*))?", content)
            if not match:
                problems.add(f"{where}:{number}", f"not `key: value` YAML: {content}")
                return mapping, len(lines)
            key, rest = match.group(1), match.group(2)
            i += 1
            if rest is not None and rest != "":
                mapping[key] = scalar(rest)
            elif i < len(lines) and lines[i][1] > indent:
                mapping[key], i = block(i, lines[i][1])
            elif i < len(lines) and lines[i][1] == indent and lines[i][2].startswith("- "):
                mapping[key], i = block(i, indent)
            else:
                mapping[key] = None
        return mapping, i

    if not lines:
        return {}
    value, i = block(0, lines[0][1])
    if i < len(lines):
        problems.add(f"{where}:{lines[i][0]}", "unexpected indentation")
    return value


# ------------------------------------------------------------------------------------------
# PromQL helpers (text level: enough for the rules above).


def strip_strings(expr):
    """The expression with the contents of string literals blanked (same length)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', expr)


def enclosing_calls(expr):
    """For each position of `expr`, the names of the calls whose parentheses enclose it,
    innermost first. `max by (team) (x)` and `max(x) by (team)` both name `max` around `x`;
    a `by (…)` clause itself is named `by`, bare parentheses ``."""
    code = strip_strings(expr)
    stack = []  # (kind, name): kind "call", "clause" (name = its prefix owner) or "paren"
    last_closed = None
    result = []
    for i, ch in enumerate(code):
        result.append([name if kind == "call" else kind for kind, name in reversed(stack)])
        if ch == "(":
            before = code[:i].rstrip()
            word = re.search(r"([a-zA-Z_]\w*)$", before)
            if word and word.group(1) in ("by", "without"):
                owner = re.search(r"([a-zA-Z_]\w*)\s+(?:by|without)$", before)
                stack.append(("clause", owner.group(1) if owner else None))
            elif word:
                stack.append(("call", word.group(1)))
            elif before.endswith(")") and last_closed and last_closed[0] == "clause" \
                    and last_closed[1]:
                stack.append(("call", last_closed[1]))
            else:
                stack.append(("paren", ""))
        elif ch == ")" and stack:
            last_closed = stack.pop()
    result.append([name if kind == "call" else kind for kind, name in reversed(stack)])
    return result


def metric_names(expr):
    code = strip_strings(expr)
    code = re.sub(r"\{[^}]*\}", " ", code)
    code = re.sub(r"\[[^\]]*\]", " ", code)
    code = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", code)
    names = set()
    for match in re.finditer(r"(?<![\w$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", code):
        name = match.group(1)
        if name in ("and", "or", "unless", "by", "without", "on", "ignoring", "offset",
                    "bool", "inf", "nan", "group_left", "group_right"):
            continue
        names.add(name)
    return names


def is_seconds_metric(name):
    return bool(re.search(r"_seconds(_bucket|_sum)?$", name))


def variables_in(text):
    return {a or b or c for a, b, c in VARIABLE.findall(text)}


def primary_gauge_problems(expr):
    """Where a router gauge is summed (or otherwise not maxed) over the nodes."""
    out = []
    calls = enclosing_calls(expr)
    code = strip_strings(expr)
    for gauge in PRIMARY_ONLY_GAUGES:
        for match in re.finditer(rf"(?<![\w:]){gauge}(?![\w:])", code):
            aggregation = next((n for n in calls[match.start()] if n in AGGREGATIONS), None)
            if aggregation is None:
                out.append(f"{gauge} is not aggregated over the nodes: use max by (team) (…)")
            elif aggregation != "max":
                out.append(
                    f"{gauge} is aggregated with {aggregation}(): it is 0 on a cluster's other "
                    "nodes, so aggregate it with max by (team) (…) first"
                )
    return out


# ------------------------------------------------------------------------------------------


def all_panels(dashboard):
    """Every panel, rows' children included, in order."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []) if panel.get("type") == "row" else [])
    return out


def check_datasource_ref(ref, datasource, where, problems):
    if ref != datasource:
        problems.add(where, f"datasource is {json.dumps(ref)}, want {json.dumps(datasource)}")


def check_units(panel, where, problems):
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    unit = defaults.get("unit")
    if unit not in ALLOWED_UNITS:
        problems.add(where, f"unit {unit!r} is not one of {sorted(ALLOWED_UNITS)}")
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        for prop in override.get("properties") or []:
            if prop.get("id") == "unit" and prop.get("value") not in ALLOWED_UNITS:
                problems.add(where, f"override unit {prop.get('value')!r} is not allowed")
    for target in panel.get("targets") or []:
        expr = target.get("expr") or ""
        seconds = sorted(n for n in metric_names(expr) if is_seconds_metric(n))
        ratio = "/" in strip_strings(expr)
        ref = target.get("refId")
        if seconds and not ratio and unit != "s":
            problems.add(where, f"query {ref} reads {', '.join(seconds)} but the unit is "
                                f"{unit!r}, want 's'")
        if seconds and ratio and unit not in ("s", "percentunit"):
            problems.add(where, f"query {ref} divides {', '.join(seconds)}: unit {unit!r}, want "
                                "'s' (a mean) or 'percentunit' (a share)")
        if unit == "s" and not seconds:
            problems.add(where, f"unit is 's' but query {ref} reads no _seconds metric "
                                "(a _count is a number of events)")
        if unit == "percentunit" and not ratio:
            problems.add(where, f"unit is 'percentunit' but query {ref} is not a ratio")


def check_grid(panels, where, problems):
    placed = []
    for panel in panels:
        pos = panel.get("gridPos") or {}
        name = f"{where} panel {panel.get('id')} {panel.get('title')!r}"
        values = [pos.get(k) for k in ("x", "y", "w", "h")]
        if not all(isinstance(v, int) for v in values):
            problems.add(name, f"gridPos needs integer x, y, w, h: {pos}")
            continue
        x, y, w, h = values
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > GRID_COLUMNS:
            problems.add(name, f"gridPos {pos} is outside the {GRID_COLUMNS} columns")
            continue
        for other, (ox, oy, ow, oh) in placed:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                problems.add(name, f"overlaps panel {other.get('id')} {other.get('title')!r}")
        placed.append((panel, (x, y, w, h)))


def check_variables(dashboard, datasource, where, problems):
    defined = {}
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        name = variable.get("name")
        vwhere = f"{where} variable ${name}"
        defined[name] = variable
        if variable.get("type") == "query":
            check_datasource_ref(variable.get("datasource"), datasource, vwhere, problems)
            query = variable.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            if not re.fullmatch(r"label_values\(\s*[\w:]+(\{[^}]*\})?\s*,\s*\w+\s*\)", query or ""):
                problems.add(vwhere, f"query {query!r} is not label_values(metric, label)")
        if not variable.get("includeAll"):
            problems.add(vwhere, "has no \"All\" option (includeAll)")
        if variable.get("allValue") != ".*":
            problems.add(vwhere, f"allValue is {variable.get('allValue')!r}, want '.*' (a "
                                 "regex that matches every value, even a missing label)")
    used = set()
    for panel in all_panels(dashboard):
        for target in panel.get("targets") or []:
            expr = target.get("expr") or ""
            for name in variables_in(expr):
                used.add(name)
                if name not in defined and name not in BUILTIN_VARIABLES:
                    problems.add(f"{where} panel {panel.get('id')} {panel.get('title')!r}",
                                 f"uses ${name}, which the dashboard does not define")
            for label, op, value in MATCHER.findall(expr):
                if variables_in(value) - BUILTIN_VARIABLES and op in ("=", "!="):
                    problems.add(f"{where} panel {panel.get('id')} {panel.get('title')!r}",
                                 f'{label}{op}"{value}": a variable with "All" or several '
                                 "values needs a regex match (=~ or !~)")
    for name in defined:
        if name not in used:
            problems.add(f"{where} variable ${name}", "is defined but no query uses it")


def check_dashboard(path, dashboard, datasource, problems):
    where = path.name
    for key in ("uid", "title", "time", "panels", "templating"):
        if key not in dashboard:
            problems.add(where, f"has no `{key}`")
    if not isinstance(dashboard.get("schemaVersion"), int):
        problems.add(where, "has no integer `schemaVersion`")
    if dashboard.get("id") is not None:
        problems.add(where, "has an `id`: provisioned dashboards leave it to Grafana (null)")
    panels = all_panels(dashboard)
    ids = {}
    for panel in panels:
        pid = panel.get("id")
        pwhere = f"{where} panel {pid} {panel.get('title')!r}"
        if not isinstance(pid, int):
            problems.add(pwhere, "has no integer id")
        elif pid in ids:
            problems.add(pwhere, f"repeats the id of {ids[pid]!r}")
        else:
            ids[pid] = panel.get("title")
        if panel.get("type") == "row":
            continue
        if not panel.get("title"):
            problems.add(pwhere, "has no title")
        if not panel.get("description"):
            problems.add(pwhere, "has no description (say what it shows, for a team lead)")
        check_datasource_ref(panel.get("datasource"), datasource, pwhere, problems)
        targets = panel.get("targets") or []
        if not targets:
            problems.add(pwhere, "has no queries (targets)")
        refs = set()
        for target in targets:
            ref = target.get("refId")
            if not ref or ref in refs:
                problems.add(pwhere, f"query refId {ref!r} missing or repeated")
            refs.add(ref)
            check_datasource_ref(target.get("datasource"), datasource, f"{pwhere} query {ref}",
                                 problems)
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr.strip():
                problems.add(f"{pwhere} query {ref}", "has no `expr`")
                continue
            if expr.count("(") != expr.count(")"):
                problems.add(f"{pwhere} query {ref}", "has unbalanced parentheses")
            for problem in primary_gauge_problems(expr):
                problems.add(f"{pwhere} query {ref}", problem)
        check_units(panel, pwhere, problems)
    check_grid([p for p in panels], where, problems)
    check_variables(dashboard, datasource, where, problems)


def provisioned_datasource(root, problems):
    directory = root / "deploy/grafana/provisioning/datasources"
    found = []
    for path in sorted(directory.glob("*.y*ml")):
        where = str(path.relative_to(root))
        doc = parse_yaml_subset(path.read_text(), where, problems)
        for ds in (doc or {}).get("datasources") or []:
            found.append((where, ds))
    prometheus = [(w, ds) for w, ds in found if ds.get("type") == "prometheus"]
    if len(prometheus) != 1:
        problems.add(str(directory.relative_to(root)),
                     f"want exactly one prometheus data source, found {len(prometheus)}")
        return {"type": "prometheus", "uid": "prometheus"}
    where, ds = prometheus[0]
    if not ds.get("uid"):
        problems.add(where, "the data source declares no uid (panels refer to it by uid)")
    if not str(ds.get("url", "")).startswith("http://prometheus:"):
        problems.add(where, f"url {ds.get('url')!r} is not compose's prometheus service")
    return {"type": "prometheus", "uid": ds.get("uid")}


def check_provider(root, problems):
    directory = root / "deploy/grafana/provisioning/dashboards"
    paths = []
    for path in sorted(directory.glob("*.y*ml")):
        where = str(path.relative_to(root))
        doc = parse_yaml_subset(path.read_text(), where, problems)
        for provider in (doc or {}).get("providers") or []:
            if provider.get("type") != "file":
                problems.add(where, f"provider {provider.get('name')!r} is not of type file")
            paths.append(((provider.get("options") or {}).get("path"), where))
    compose = (root / "deploy/compose.yaml").read_text()
    mounts = re.findall(r"-\s*\./grafana/dashboards:([^:\s]+):ro", compose)
    if len(mounts) != 1:
        problems.add("deploy/compose.yaml", "want one read-only mount of ./grafana/dashboards")
    if not re.search(r"-\s*\./grafana/provisioning:/etc/grafana/provisioning:ro", compose):
        problems.add("deploy/compose.yaml",
                     "want ./grafana/provisioning mounted read-only at /etc/grafana/provisioning")
    if not paths:
        problems.add(str(directory.relative_to(root)), "no dashboard provider")
    for path, where in paths:
        if mounts and path != mounts[0]:
            problems.add(where, f"loads {path!r}, but compose mounts the dashboards at "
                                f"{mounts[0]!r}")


def load_dashboards(root, problems):
    out = []
    for path in sorted((root / "deploy/grafana/dashboards").glob("*.json")):
        try:
            out.append((path, json.loads(path.read_text())))
        except json.JSONDecodeError as e:
            problems.add(path.name, f"is not valid JSON: {e}")
    if not out:
        problems.add("deploy/grafana/dashboards", "no dashboards")
    return out


def check(root, dashboards, problems):
    datasource = provisioned_datasource(root, problems)
    check_provider(root, problems)
    seen = {"uid": {}, "title": {}}
    for path, dashboard in dashboards:
        for key in seen:
            value = dashboard.get(key)
            if value in seen[key]:
                problems.add(path.name, f"repeats the {key} {value!r} of {seen[key][value]}")
            seen[key][value] = path.name
        check_dashboard(path, dashboard, datasource, problems)


def print_exprs(dashboards):
    for path, dashboard in dashboards:
        title = dashboard.get("title", path.name)
        for variable in (dashboard.get("templating") or {}).get("list") or []:
            query = variable.get("query")
            query = query.get("query") if isinstance(query, dict) else query
            match = re.fullmatch(r"label_values\(\s*(.+?)\s*,\s*(\w+)\s*\)", query or "")
            if match:
                expr = f"group by ({match.group(2)}) ({match.group(1)})"
                print(json.dumps({"dashboard": title, "panel": f"variable ${variable['name']}",
                                  "expr": expr}))
        for panel in all_panels(dashboard):
            for target in panel.get("targets") or []:
                if target.get("expr"):
                    print(json.dumps({"dashboard": title, "panel": panel.get("title"),
                                      "expr": target["expr"]}))


def self_test(root, dashboards):
    """Breaks the first dashboard in each checked way; every break must be reported."""
    if not dashboards:
        print("self-test: no dashboards to break")
        return 1
    path, original = dashboards[0]

    def first_query_panel(d):
        return next(p for p in all_panels(d) if p.get("type") != "row")

    def set_expr(d, expr, unit=None):
        panel = first_query_panel(d)
        panel["targets"][0]["expr"] = expr
        if unit:
            panel["fieldConfig"]["defaults"]["unit"] = unit

    # name: (how to break it, a fragment the report must contain)
    breaks = {
        "summed router gauge": (
            lambda d: set_expr(d, 'sum(luukku_queue_length{team=~"$team"})', "short"),
            "luukku_queue_length is aggregated with sum()"),
        "summed router gauge (by clause first)": (
            lambda d: set_expr(d, "sum by (team) (luukku_available_professionals)", "short"),
            "luukku_available_professionals is aggregated with sum()"),
        "router gauge summed after a max over time": (
            lambda d: set_expr(d, "sum(max_over_time(luukku_queue_length[5m]))", "short"),
            "luukku_queue_length is aggregated with sum()"),
        "unaggregated router gauge": (
            lambda d: set_expr(d, "luukku_active_conversations", "short"),
            "luukku_active_conversations is not aggregated"),
        "seconds shown as a count": (
            lambda d: set_expr(d, "max by (team) (luukku_queue_oldest_wait_seconds)", "short"),
            "want 's'"),
        "a count shown as seconds": (
            lambda d: set_expr(d, "sum(increase(luukku_queue_wait_seconds_count[1h]))", "s"),
            "reads no _seconds metric"),
        "a share that is no ratio": (
            lambda d: set_expr(d, "sum(increase(luukku_queue_abandoned_total[1h]))",
                               "percentunit"),
            "is not a ratio"),
        "unknown unit": (
            lambda d: first_query_panel(d)["fieldConfig"]["defaults"].update(unit="bytes"),
            "unit 'bytes' is not one of"),
        "undefined variable": (
            lambda d: set_expr(d, 'sum(increase(luukku_notes_total{team=~"$nosuch"}[1h]))',
                               "short"),
            "uses $nosuch, which the dashboard does not define"),
        "variable matched with =": (
            lambda d: set_expr(d, 'sum(increase(luukku_notes_total{team="$team"}[1h]))',
                               "short"),
            "needs a regex match"),
        "repeated panel id": (
            lambda d: [p for p in all_panels(d) if p.get("type") != "row"][1].update(
                id=first_query_panel(d)["id"]),
            "repeats the id of"),
        "panel past column 24": (
            lambda d: first_query_panel(d)["gridPos"].update(x=20, w=8),
            "outside the 24 columns"),
        "overlapping panels": (
            lambda d: [p for p in all_panels(d) if p.get("type") != "row"][1]["gridPos"].update(
                first_query_panel(d)["gridPos"]),
            "overlaps panel"),
        "wrong datasource uid": (
            lambda d: first_query_panel(d).update(
                datasource={"type": "prometheus", "uid": "other"}),
            '"uid": "other"'),
        "query without expr": (
            lambda d: first_query_panel(d)["targets"][0].pop("expr"), "has no `expr`"),
        "panel without queries": (
            lambda d: first_query_panel(d).update(targets=[]), "has no queries"),
        "panel without description": (
            lambda d: first_query_panel(d).pop("description"), "has no description"),
        "no schemaVersion": (lambda d: d.pop("schemaVersion"), "schemaVersion"),
        "variable without All": (
            lambda d: d["templating"]["list"][0].update(includeAll=False),
            "has no \"All\" option"),
        "unused variable": (
            lambda d: d["templating"]["list"].append(dict(d["templating"]["list"][0],
                                                          name="unused")),
            "$unused: is defined but no query uses it"),
    }
    baseline = Problems()
    check(root, dashboards, baseline)
    if baseline.items:
        print("self-test: the dashboards as they are already have problems:")
        for item in baseline.items:
            print(f"  {item}")
        return 1
    missed = []
    for name, (apply, expected) in breaks.items():
        broken = copy.deepcopy(original)
        apply(broken)
        problems = Problems()
        check(root, [(path, broken)] + dashboards[1:], problems)
        caught = [item for item in problems.items if expected in item]
        if caught:
            print(f"  caught: {name}: {caught[0]}")
        else:
            missed.append(name)
            print(f"  MISSED: {name} (want a report with {expected!r}; got {problems.items})")
    if missed:
        print(f"self-test: NOT caught: {', '.join(missed)}")
        return 1
    print(f"self-test: all {len(breaks)} breaks of {path.name} were reported")
    return 0


def main(argv):
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    unknown = flags - {"--exprs", "--self-test"}
    if unknown:
        print(f"unknown option(s): {' '.join(sorted(unknown))}", file=sys.stderr)
        return 64
    root = Path(args[0] if args else Path(__file__).resolve().parent.parent).resolve()
    problems = Problems()
    dashboards = load_dashboards(root, problems)
    if "--exprs" in flags:
        print_exprs(dashboards)
        for item in problems.items:
            print(item, file=sys.stderr)
        return 1 if problems.items else 0
    if "--self-test" in flags:
        return self_test(root, dashboards)
    check(root, dashboards, problems)
    if problems.items:
        for item in problems.items:
            print(f"  FAILED: {item}")
        print(f"check-dashboards.py: {len(problems.items)} problem(s)")
        return 1
    panels = sum(1 for _, d in dashboards for p in all_panels(d) if p.get("type") != "row")
    queries = sum(len(p.get("targets") or []) for _, d in dashboards for p in all_panels(d))
    print(f"check-dashboards.py: {len(dashboards)} dashboards, {panels} panels, {queries} "
          "queries: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
