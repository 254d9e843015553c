"""The offline planner's diagnosis and log answers: root cause, evidence, next steps.

The root cause comes from the analyzers' findings first (their ``reason``), then from the
Warning events and the telling log line; never from spec lines that merely mention a probe.
When the analyzers looked and found nothing, the answer says the object looks healthy.
"""

from __future__ import annotations

from opsconsole.planner.answers import DERIVED, error_note, next_step_items, next_steps
from opsconsole.planner.causes import is_security
from opsconsole.planner.evidence import (
    describe_evidence,
)
from opsconsole.planner.facts import Finding, log_body, log_notes, shown_name
from opsconsole.planner.intents import Intent
from opsconsole.planner.links import (
    TS_RE,
    config_link,
    dependency_link,
    log_evidence,
    oom_link,
    root_cause,
    scaled_to_zero_link,
    selector_link,
    telling_log_line,
    warning_lines,
)
from opsconsole.planner.markdown import HEADER, block, numbered, quote, t
from opsconsole.planner.observations import Observation


def diagnosis_answer(
    intent: Intent,
    subject: str,
    ns: str | None,
    name: str | None,
    findings: list[Finding],
    observations: list[Observation],
    *,
    scanned: bool = False,
    related: list[Finding] | None = None,
    note: str = "",
) -> str:
    """Root cause, evidence and next steps for one pod / deployment / node / service.

    ``scanned``: the analyzers looked at the cluster; with no finding about the object it is
    reported as healthy rather than guessed at.
    """
    lang = intent.language
    health = [f for f in findings if not is_security(f)]
    c = root_cause(health, observations)
    if c is None and scanned and not health:
        return healthy_answer(intent, subject, observations)
    key_line = telling_log_line(observations)
    primary = [f for f in health if f.reason not in DERIVED]
    derived = [f for f in health if f.reason in DERIVED]
    shown = primary[:1] + derived[:1] if primary else derived[:2]
    evidence: list[str] = [f.quote[:300] for f in shown]

    def add(lines: list[str]) -> None:
        seen = {TS_RE.sub("", x) for x in evidence}
        for line in lines:
            key = TS_RE.sub("", line)
            if line and key not in seen and not line.startswith("FINDING"):
                evidence.append(line)
                seen.add(key)

    scaled = scaled_to_zero_link(
        lang,
        health,
        observations,
        (ns, name) if ns and name and subject.startswith("deployment/") else None,
    )
    links = [
        x
        for x in (
            scaled,
            config_link(lang, key_line, observations),
            oom_link(lang, c, observations),
            selector_link(lang, health, observations),
            dependency_link(lang, observations, related or []),
        )
        if x is not None
    ]
    for link in links:
        if link[1] not in evidence:
            evidence.append(link[1])
    for o in observations:
        if o.failed:
            continue
        if o.name == "get_pod_logs":
            body = [ln.strip() for _, ln in log_body(o)]
            if key_line and key_line in body:
                add([key_line])
            add([ln for ln in log_evidence(o, 3) if not ln.startswith("Traceback")])
        elif o.name == "describe_pod":
            add(describe_evidence(o, c.key if c else None, limit=5))
        elif o.name == "get_events":
            add(warning_lines(o, 2))
        elif o.name == "get_resource_usage":  # rows already chosen by the planner
            add([str(i.get("line") or "").strip() for i in o.items][:3])
        else:  # a listing (nodes, deployments, pods): its rows about the subject
            rows = [i for i in o.items if not name or name in shown_name(o, i)]
            add([str(i.get("line") or "").strip() for i in rows][:3])
    evidence = evidence[:12]
    sep = "：" if lang == "zh" else ": "
    if scaled is not None:
        cause_text = scaled[0]
    elif c is not None:
        cause_text = c.zh if lang == "zh" else c.en
    elif health:
        cause_text = health[0].reason
    else:
        cause_text = (
            "未能从观察中确定明确的根因"
            if lang == "zh"
            else "no clear root cause in the observations"
        )
    reasons = [f.reason for f in health if f.reason]
    if reasons:
        label = t("analyzer", lang)
        listed = ", ".join(dict.fromkeys(reasons))
        cause_text += f"（{label}：{listed}）" if lang == "zh" else f" ({label}: {listed})"
    parts = [HEADER, "", f"{t('cause', lang)}{sep}`{subject}` — {cause_text}", ""]
    if note:
        parts += [note, ""]
    for link in links:
        if link is not scaled:  # the scaled-to-zero sentence is the root-cause line itself
            parts += [link[0], ""]
    if key_line:
        lead = "关键报错" if lang == "zh" else "Key error"
        parts += [f"{lead}{sep}`{key_line}`", ""]
    notes = [error_note(o, lang) for o in observations if o.failed]
    if notes:
        parts += [*notes, ""]
    if evidence:
        parts += [t("evidence", lang) + sep.rstrip(), quote(evidence), ""]
    suggestion = next((f.suggestion for f in health if f.suggestion), "")
    items = next_step_items(c, lang, ns, name, suggestion)
    if links:
        rest = [] if scaled is not None else items  # scaled: nothing to select, selector fine
        items = [link[2] for link in links] + rest
    parts += [t("next", lang) + sep.rstrip(), numbered(items)]
    return "\n".join(parts) + "\n"


def healthy_answer(intent: Intent, subject: str, observations: list[Observation]) -> str:
    lang = intent.language
    if lang == "zh":
        head = f"分析器没有发现 `{subject}` 的问题，它看起来运行正常。"
    else:
        head = f"The analyzers found no problem with `{subject}`; it looks healthy."
    evidence: list[str] = []
    for o in observations:
        if o.name == "describe_pod" and not o.failed:
            evidence += describe_evidence(o, "healthy", limit=6)
        elif o.name == "get_pod_logs" and not o.failed:
            body = [ln for _, ln in log_body(o) if ln.strip()]
            evidence += [ln.strip() for ln in body[-2:]]
    parts = [HEADER, "", head]
    if evidence:
        parts += ["", t("evidence", lang) + ("：" if lang == "zh" else ":"), quote(evidence)]
    tip = (
        "如果仍有异常现象，可以看看它的日志或最近的事件。"
        if lang == "zh"
        else "If something still seems wrong, look at its logs or recent events."
    )
    parts += ["", tip]
    return "\n".join(parts) + "\n"


def logs_answer(
    intent: Intent,
    ns: str,
    pod: str,
    observations: list[Observation],
    findings: list[Finding],
) -> str:
    lang = intent.language
    parts = [HEADER, ""]
    for o in observations:
        body = log_body(o)
        if o.args.get("previous"):
            body = [(True, ln) for _, ln in body]
        for previous in (False, True):
            lines = [ln for prev, ln in body if prev == previous]
            if not lines and (previous or any(prev for prev, _ in body)):
                continue
            if lang == "zh":
                which = "上一个容器（崩溃前，previous）的" if previous else ""
                title = f"**{ns}/{pod} {which}日志**"
            else:
                which = "previous container (before the crash)" if previous else "current"
                title = f"**Logs of {ns}/{pod}, {which}**"
            text = "\n".join(lines[-40:]) if lines else ("（空）" if lang == "zh" else "(empty)")
            parts += [title, "", block(text, lang, max_lines=40), ""]
    notes = [note.strip() for o in observations for note in log_notes(o)]
    if notes:
        parts += [quote(notes), ""]
    key = telling_log_line(observations)
    health = [f for f in findings if not is_security(f)]
    c = root_cause(health, observations)
    sep = "：" if lang == "zh" else ": "
    if key:
        lead = "关键报错" if lang == "zh" else "Key error"
        parts += [f"{lead}{sep}`{key}`", ""]
    if c is not None and (health or key):
        cause_text = c.zh if lang == "zh" else c.en
        suggestion = next((f.suggestion for f in health if f.suggestion), "")
        parts += [
            f"{t('cause', lang)}{sep}{cause_text}",
            "",
            t("next", lang) + sep.rstrip(),
            next_steps(c, lang, ns, pod, suggestion),
        ]
    return "\n".join(parts).rstrip() + "\n"
