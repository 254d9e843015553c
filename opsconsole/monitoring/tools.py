"""The agent's monitoring tools over Prometheus and Alertmanager (all read-only but one).

``build_monitoring_tools(prometheus, alertmanager, settings)``:

- ``prometheus_query(query)``: an instant query; one line per series (at most 50).
- ``prometheus_query_range(query, minutes=60, step_seconds, threshold, max_series=20)``: each
  series summarised (:mod:`.summary`) within 1,500 tokens (or the tool budget if smaller).
- ``prometheus_series(metric | match, label)``: metric names, a selector's series and labels,
  or one label's values.
- ``list_alerts(state, labels)``: Alertmanager's alerts (firing, silenced, inhibited) and
  Prometheus's pending ones, filtered by state and exact label values.
- ``get_alert_rules(name)``: the alerting rules, their state, ``for`` and expression.
- ``silence_alert(matchers, minutes, comment)``: the one change: an Alertmanager silence of
  the alerts with exactly these label values; mutating, so offered in write mode only and run
  only after the user approved it.

Each result's ``data`` holds the same facts for programs; failures are ``ToolError``s:
``unreachable`` (no answer, or the demo's stack still starting), ``invalid_argument``
(Prometheus's own message for bad PromQL, or a bad argument), ``too_many_series``. Every text
and all data pass through :func:`opsconsole.redact.redact` on their way out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import ActionSummary, Tool, ToolError, ToolResult
from opsconsole.errors import OpsConsoleError
from opsconsole.redact import redact, redact_obj

from .client import Alertmanager, MonitoringError, Prometheus
from .summary import num, render, summarise

if TYPE_CHECKING:
    from opsconsole.config import Settings

RANGE_BUDGET_TOKENS = 1500
MAX_RANGE_SERIES = 50
INSTANT_LINES = 50
MAX_MINUTES = 7 * 24 * 60
STATES = ("firing", "pending", "silenced", "inhibited", "all")


class MonitoringInputError(MonitoringError):
    code = "invalid_argument"


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def _text(value: Any, what: str, *, required: bool = True, limit: int = 4000) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MonitoringInputError(f"invalid {what}: expected a non-empty string")
    if len(value) > limit:
        raise MonitoringInputError(f"invalid {what}: longer than {limit} characters")
    return value.strip()


def _number(value: Any, what: str, lo: float, hi: float, default: float | None) -> float | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MonitoringInputError(f"invalid {what}: expected a number")
    if not lo <= float(value) <= hi:
        raise MonitoringInputError(
            f"invalid {what} {value}: must be between {num(lo)} and {num(hi)}"
        )
    return float(value)


def _series_line(metric: dict[str, str], value: str) -> str:
    name = metric.get("__name__", "")
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k not in ("__name__",))
    return f"{name}{{{labels}}} {num(float(value))}"


def _ago(iso: str | None, now: float) -> str:
    from datetime import datetime

    if not iso:
        return "?"
    try:
        t = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "?"
    ago = max(now - t, 0)
    if ago < 60:
        return f"{int(ago)}s"
    if ago < 3600:
        return f"{int(ago // 60)}m"
    return f"{ago / 3600:.1f}h"


class _Monitoring:
    def __init__(
        self, prometheus: Prometheus | None, alertmanager: Alertmanager | None, settings: Settings
    ) -> None:
        self.prom = prometheus
        self.am = alertmanager
        self.settings = settings

    def guard(self, fn: Callable[[dict[str, Any]], ToolResult], allowed: set[str]) -> Callable:
        def handler(args: dict[str, Any]) -> ToolResult:
            try:
                extra = sorted(set(args) - allowed)
                if extra:
                    raise MonitoringInputError(
                        f"unknown argument(s) {', '.join(extra)}; "
                        f"expected: {', '.join(sorted(allowed))}"
                    )
                result = fn(args)
            except OpsConsoleError as exc:
                hint = f" (hint: {exc.hint})" if exc.hint else ""
                line = redact(f"{exc.message}{hint}")
                return ToolResult(line, is_error=True, error=ToolError(exc.code, line))
            return ToolResult(
                redact(result.content), data=redact_obj(result.data) if result.data else None
            )

        return handler

    def _need_prom(self) -> Prometheus:
        if self.prom is None:
            raise MonitoringError("no Prometheus configured (monitoring.prometheus.url)")
        return self.prom

    # -- Prometheus ----------------------------------------------------------------------

    def query(self, args: dict[str, Any]) -> ToolResult:
        prom = self._need_prom()
        query = _text(args.get("query"), "query")
        assert query is not None
        prom.check_series(query, self.settings.monitoring.max_series)
        data = prom.query(query)
        kind, result = data.get("resultType"), data.get("result")
        if kind in ("scalar", "string") and isinstance(result, list):
            return ToolResult(
                f"{query} = {result[1]}", data={"query": query, "type": kind, "value": result[1]}
            )
        items = list(result or [])
        if kind == "matrix":
            lines = [
                f"{_series_line(s['metric'], s['values'][-1][1])} ({len(s['values'])} points)"
                for s in items[:INSTANT_LINES]
            ]
        else:
            items.sort(key=lambda s: -float(s["value"][1]) if s["value"][1] != "NaN" else 0)
            lines = [_series_line(s["metric"], s["value"][1]) for s in items[:INSTANT_LINES]]
        head = f"{query}: {len(items)} series" + (" (highest first)" if kind == "vector" else "")
        if len(items) > INSTANT_LINES:
            lines.append(
                f"({len(items) - INSTANT_LINES} more not shown; aggregate or narrow the query)"
            )
        if not items:
            lines.append("no data (the selector matches nothing now)")
        rows = [
            {"labels": s["metric"], "value": float(s["value"][1])}
            for s in items
            if kind == "vector"
        ]
        return ToolResult(
            "\n".join([head, *lines]),
            data={"query": query, "type": kind, "total": len(items), "items": rows},
        )

    def query_range(self, args: dict[str, Any]) -> ToolResult:
        prom = self._need_prom()
        query = _text(args.get("query"), "query")
        assert query is not None
        minutes = _number(args.get("minutes"), "minutes", 1, MAX_MINUTES, 60.0)
        assert minutes is not None
        step = _number(args.get("step_seconds"), "step_seconds", 1, 86400, None)
        threshold = _number(args.get("threshold"), "threshold", -1e300, 1e300, None)
        max_series = int(
            _number(args.get("max_series"), "max_series", 1, MAX_RANGE_SERIES, 20) or 20
        )
        if step is None:
            step = max(round(minutes * 60 / 60), 5)
        if minutes * 60 / step > 11000:
            raise MonitoringInputError(
                f"invalid step_seconds {num(step)}: {minutes:g} minutes would be more than 11,000 "
                "points a series; use a larger step"
            )
        prom.check_series(query, self.settings.monitoring.max_series)
        end = time.time()
        data = prom.query_range(query, end - minutes * 60, end, step)
        series = data.get("result") or []
        summaries = [summarise(s, threshold) for s in series]
        budget = min(RANGE_BUDGET_TOKENS, self.settings.agent.tool_output_tokens)
        text, shown = render(
            query,
            summaries,
            minutes=minutes,
            step=step,
            threshold=threshold,
            max_series=max_series,
            budget_tokens=budget,
            now=end,
        )
        return ToolResult(
            text,
            data={
                "query": query,
                "minutes": minutes,
                "step": step,
                "threshold": threshold,
                "total": len(series),
                "series": [s.to_data() for s in shown],
            },
        )

    def series(self, args: dict[str, Any]) -> ToolResult:
        prom = self._need_prom()
        metric = _text(args.get("metric"), "metric", required=False, limit=200)
        match = _text(args.get("match"), "match", required=False)
        label = _text(args.get("label"), "label", required=False, limit=200)
        if label is not None:
            values = prom.label_values(label, match)
            shown = values[:100]
            more = f" ({len(values) - 100} more)" if len(values) > 100 else ""
            where = f" for {match}" if match else ""
            text = f"label {label}{where}: {len(values)} values{more}\n" + ", ".join(shown)
            return ToolResult(text, data={"label": label, "match": match, "values": values})
        if match is not None:
            end = time.time()
            found = prom.series(match, end - 3600, end)
            labels: dict[str, set[str]] = {}
            for s in found:
                for k, v in s.items():
                    labels.setdefault(k, set()).add(v)
            lines = [f"{match}: {len(found)} series in the last hour"]
            for k in sorted(labels):
                vals = sorted(labels[k])
                sample = ", ".join(vals[:6]) + (
                    f", … ({len(vals)} values)" if len(vals) > 6 else ""
                )
                lines.append(f"- {k}: {sample}")
            return ToolResult(
                "\n".join(lines),
                data={
                    "match": match,
                    "total": len(found),
                    "labels": {k: sorted(v) for k, v in labels.items()},
                },
            )
        names = prom.label_values("__name__")
        if metric:
            names = [n for n in names if metric.lower() in n.lower()]
        shown = names[:200]
        more = f" ({len(names) - 200} more; give a narrower metric)" if len(names) > 200 else ""
        what = f" containing {metric!r}" if metric else ""
        text = f"{len(names)} metric names{what}{more}\n" + "\n".join(shown)
        return ToolResult(text, data={"metric": metric, "names": names})

    def rules(self, args: dict[str, Any]) -> ToolResult:
        prom = self._need_prom()
        name = _text(args.get("name"), "name", required=False, limit=200)
        rows = []
        for group in prom.rules():
            for rule in group.get("rules") or []:
                if rule.get("type") != "alerting":
                    continue
                if name and rule.get("name") != name:
                    continue
                rows.append(
                    {
                        "name": rule.get("name", ""),
                        "group": group.get("name", ""),
                        "state": rule.get("state", ""),
                        "for_seconds": rule.get("duration", 0),
                        "severity": (rule.get("labels") or {}).get("severity", ""),
                        "summary": (rule.get("annotations") or {}).get("summary", ""),
                        "query": " ".join(str(rule.get("query", "")).split()),
                        "active": len(rule.get("alerts") or []),
                        "health": rule.get("health", ""),
                        "error": rule.get("lastError", ""),
                    }
                )
        if name and not rows:
            raise MonitoringInputError(f"no alerting rule named {name!r}")
        lines = [f"{len(rows)} alerting rules"]
        for r in rows:
            expr = r["query"] if len(r["query"]) <= 220 else r["query"][:219] + "…"
            err = f" ERROR {r['error']}" if r["error"] else ""
            lines.append(
                f"- {r['name']} [{r['state']}, {r['active']} active, for {num(r['for_seconds'])}s, "
                f"{r['severity'] or 'no severity'}]{err}: {expr}"
            )
        return ToolResult("\n".join(lines), data={"rules": rows})

    # -- alerts ----------------------------------------------------------------------------

    def alerts(self, args: dict[str, Any]) -> ToolResult:
        state = args.get("state", "all")
        if state not in STATES:
            raise MonitoringInputError(f"invalid state {state!r}: one of {', '.join(STATES)}")
        labels = args.get("labels") or {}
        if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
        ):
            raise MonitoringInputError("invalid labels: expected an object of label -> value")
        now = time.time()
        rows: list[dict[str, Any]] = []
        notes: list[str] = []
        if self.am is not None:
            filters = [f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())]
            for a in self.am.alerts(filters):
                status = a.get("status") or {}
                st = {"active": "firing", "suppressed": "silenced", "unprocessed": "firing"}.get(
                    status.get("state", ""), status.get("state", "")
                )
                if st == "silenced" and status.get("inhibitedBy") and not status.get("silencedBy"):
                    st = "inhibited"
                rows.append(
                    _alert_row(
                        a.get("labels") or {},
                        a.get("annotations") or {},
                        st,
                        a.get("startsAt"),
                        "alertmanager",
                    )
                )
        else:
            notes.append("no Alertmanager configured: firing alerts as Prometheus evaluates them")
        if self.prom is not None:
            try:
                for a in self.prom.alerts():
                    if a.get("state") == "pending" or (
                        self.am is None and a.get("state") == "firing"
                    ):
                        al = a.get("labels") or {}
                        if all(al.get(k) == v for k, v in labels.items()):
                            rows.append(
                                _alert_row(
                                    al,
                                    a.get("annotations") or {},
                                    a["state"],
                                    a.get("activeAt"),
                                    "prometheus",
                                )
                            )
            except MonitoringError as exc:
                if self.am is None:
                    raise
                notes.append(f"pending alerts unknown: {exc.message}")
        elif self.am is None:
            raise MonitoringError("no Prometheus or Alertmanager configured (monitoring.*.url)")
        if state != "all":
            rows = [r for r in rows if r["state"] == state]
        order = {"firing": 0, "pending": 1, "silenced": 2, "inhibited": 3}
        rows.sort(key=lambda r: (order.get(r["state"], 9), r["name"], r["target"]))
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        what = ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"
        where = " with " + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else ""
        lines = [f"alerts{where} ({state}): {what}", *notes]
        for r in rows[:60]:
            lines.append(
                f"- {r['state']} {r['name']} [{r['severity'] or '-'}] {r['target'] or '-'} "
                f"for {_ago(r['since'], now)}: {r['summary']}"
            )
        if len(rows) > 60:
            lines.append(f"({len(rows) - 60} more; filter by labels or state)")
        return ToolResult("\n".join(lines), data={"state": state, "labels": labels, "alerts": rows})

    def silence(self, args: dict[str, Any]) -> ToolResult:
        from datetime import UTC, datetime, timedelta

        if self.am is None:
            raise MonitoringError("no Alertmanager configured (monitoring.alertmanager.url)")
        matchers = _matchers(args.get("matchers"))
        minutes = _number(args.get("minutes"), "minutes", 1, MAX_MINUTES, 60.0)
        assert minutes is not None
        comment = _text(args.get("comment"), "comment", limit=500)
        assert comment is not None
        start = datetime.now(UTC)
        end = start + timedelta(minutes=minutes)
        iso = "%Y-%m-%dT%H:%M:%S.000Z"
        sid = self.am.create_silence(
            matchers, start.strftime(iso), end.strftime(iso), comment, "opsconsole"
        )
        what = ",".join(f"{k}={v}" for k, v in sorted(matchers.items()))
        return ToolResult(
            f"silenced alerts with {what} for {num(minutes)}m (silence {sid}): {comment}",
            data={
                "silence_id": sid,
                "matchers": matchers,
                "minutes": minutes,
                "ends": end.strftime(iso),
            },
        )


def _matchers(value: Any) -> dict[str, str]:
    if (
        not isinstance(value, dict)
        or not value
        or not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items())
    ):
        raise MonitoringInputError(
            'invalid matchers: expected label -> exact value, e.g. {"alertname": '
            '"KubePodCrashLooping", "namespace": "shop"}'
        )
    return dict(value)


def _silence_summary(args: dict[str, Any]) -> ActionSummary:
    given = args.get("matchers")
    matchers: dict[str, Any] = given if isinstance(given, dict) else {}
    what = ",".join(f"{k}={v}" for k, v in sorted(matchers.items())) or "?"
    minutes = args.get("minutes", 60)
    return ActionSummary(
        verb="silence",
        kind="alerts",
        name=what,
        namespace=matchers.get("namespace"),
        detail=f"for {minutes} minutes: {args.get('comment', '')}",
    )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _alert_row(
    labels: dict[str, str], annotations: dict[str, str], state: str, since: str | None, source: str
) -> dict[str, Any]:
    ns = labels.get("namespace", "")
    obj = next(
        (
            labels[k]
            for k in ("pod", "deployment", "horizontalpodautoscaler", "job_name", "service", "node")
            if labels.get(k)
        ),
        "",
    )
    extra = f" ({labels['container']})" if labels.get("container") else ""
    target = f"{ns}/{obj}{extra}" if ns and obj else (obj or ns or labels.get("job", ""))
    return {
        "name": labels.get("alertname", ""),
        "state": state,
        "severity": labels.get("severity", ""),
        "target": target,
        "labels": labels,
        "summary": annotations.get("summary", ""),
        "description": " ".join(annotations.get("description", "").split()),
        "since": since,
        "source": source,
    }


def build_monitoring_tools(
    prometheus: Prometheus | None, alertmanager: Alertmanager | None, settings: Settings
) -> list[Tool]:
    """The read-only monitoring tools (none when neither API is configured)."""
    if prometheus is None and alertmanager is None:
        return []
    box = _Monitoring(prometheus, alertmanager, settings)
    timeout = settings.agent.tool_timeout
    q = {"type": "string", "description": "PromQL expression"}

    def ro(name: str, desc: str, params: dict[str, Any], fn: Callable) -> Tool:
        return Tool(
            name=name,
            description=desc,
            parameters=params,
            handler=box.guard(fn, set(params["properties"])),
            read_only=True,
            timeout=timeout,
            tags=frozenset({"monitoring"}),
        )

    tools = [
        ro(
            "list_alerts",
            "Alerts from Alertmanager (firing, silenced, inhibited) and Prometheus (pending): "
            "name, severity, target, how long, summary. Filter by state and exact label values.",
            _obj(
                {
                    "state": {"type": "string", "enum": list(STATES), "default": "all"},
                    "labels": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": 'exact label values, e.g. {"namespace": "shop"}',
                    },
                },
                [],
            ),
            box.alerts,
        ),
        Tool(
            name="silence_alert",
            description="Silence the alerts whose labels have exactly these values, for some "
            "minutes, with a comment saying why (a change: it needs the user's approval).",
            parameters=_obj(
                {
                    "matchers": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": 'label -> exact value, e.g. {"alertname": '
                        '"KubePodCrashLooping", "namespace": "shop"}',
                    },
                    "minutes": {"type": "number", "description": "how long (default 60)"},
                    "comment": {"type": "string", "description": "why it is silenced"},
                },
                ["matchers", "comment"],
            ),
            handler=box.guard(box.silence, {"matchers", "minutes", "comment"}),
            read_only=False,
            timeout=timeout,
            summarize=_silence_summary,
            tags=frozenset({"monitoring"}),
        ),
    ]
    if prometheus is None:
        return tools
    tools += [
        ro(
            "prometheus_query",
            "Run an instant PromQL query on Prometheus; one line per series (highest first, "
            f"at most {INSTANT_LINES}).",
            _obj({"query": q}, ["query"]),
            box.query,
        ),
        ro(
            "prometheus_query_range",
            "Run a PromQL range query and summarise each series: min, max, last, trend "
            "(rising, falling, flat, steps up, sawtooth) and, with a threshold, how often and "
            "when it was crossed. Use it to see how something developed over time.",
            _obj(
                {
                    "query": q,
                    "minutes": {"type": "number", "description": "how far back (default 60)"},
                    "step_seconds": {
                        "type": "number",
                        "description": "resolution (default: 60 points)",
                    },
                    "threshold": {"type": "number", "description": "report crossings above this"},
                    "max_series": {
                        "type": "integer",
                        "description": "series shown, highest maxima first "
                        f"(default 20, at most {MAX_RANGE_SERIES})",
                    },
                },
                ["query"],
            ),
            box.query_range,
        ),
        ro(
            "prometheus_series",
            "Find metrics: names containing `metric`; or the series and labels a selector "
            "`match` has; or the values of one `label` (optionally within `match`).",
            _obj(
                {
                    "metric": {"type": "string", "description": "part of a metric name"},
                    "match": {
                        "type": "string",
                        "description": 'series selector, e.g. up{job="apps"}',
                    },
                    "label": {"type": "string", "description": "a label name, e.g. namespace"},
                },
                [],
            ),
            box.series,
        ),
        ro(
            "get_alert_rules",
            "The alerting rules Prometheus evaluates: name, state, active alerts, `for`, "
            "severity and expression (all, or the one named).",
            _obj({"name": {"type": "string", "description": "alert name"}}, []),
            box.rules,
        ),
    ]
    return tools
