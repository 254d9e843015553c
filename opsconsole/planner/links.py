"""The offline planner's causal links: the telling log line, Warning events, and the links
from a symptom to its cause (config key, dependency, selector, OOM limit, scaled to zero),
all read from the tools' data."""

from __future__ import annotations

import re
from typing import Any

from opsconsole.planner.causes import Cause, classify, finding_cause
from opsconsole.planner.evidence import (
    describe_evidence,
    env_source,
    evidence_lines,
    field_lines,
    missing_variable,
    selector_mismatch,
    service_hosts,
    spec_strings,
)
from opsconsole.planner.facts import (
    Finding,
    containers,
    log_body,
    log_notes,
    shown_name,
)
from opsconsole.planner.intents import Language
from opsconsole.planner.observations import Observation

_TELLING = (
    "error",
    "exception",
    "fatal",
    "panic",
    "keyerror",
    "invalid",
    "missing",
    "refused",
    "cannot",
    "failed",
    "killed",
    "unreachable",
    "out of memory",
)


def telling_log_line(observations: list[Observation]) -> str | None:
    """The last error-looking log line (usually the exception after a stack trace).

    Lines of the previous container (the one that crashed) are preferred.
    """
    best: str | None = None
    for o in observations:
        if o.name != "get_pod_logs" or o.failed:
            continue
        body = log_body(o)
        if o.args.get("previous"):
            body = [(True, ln) for _, ln in body]
        for want_previous in (True, False):
            lines = [ln.strip() for prev, ln in body if prev == want_previous and ln.strip()]
            for line in reversed(lines):
                low = line.lower()
                if any(w in low for w in _TELLING):
                    if want_previous:
                        return line[:240]
                    best = best or line[:240]
                    break
    return best


TS_RE = re.compile(r"^\S*\d{2}:\d{2}:\d{2}\S*\s+")


def log_evidence(o: Observation, limit: int) -> list[str]:
    """Evidence from a log read: the restart note and distinct error lines."""
    out = [note.strip() for note in log_notes(o, "previous")]
    seen: set[str] = set()
    for line in evidence_lines([ln for _, ln in log_body(o)], limit=limit * 4):
        key = TS_RE.sub("", line)
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out[: limit + 1]


def warning_lines(o: Observation, limit: int = 3) -> list[str]:
    """The Warning events of a ``get_events`` result, as it shows them."""
    lines = [str(i.get("line") or "").strip() for i in o.items if i.get("type") == "Warning"]
    return lines[:limit]


def row_facts(o: Observation, item: dict[str, Any]) -> str:
    """What a listing's row says about the state of its object, for recognising a cause: a
    pod's status and note, a node's status and conditions, a deployment's conditions and
    whether replicas are unavailable."""
    parts: list[Any]
    if o.name == "get_nodes":
        parts = [item.get("status"), *(item.get("pressure") or [])]
    elif o.name == "get_deployments":
        available, replicas = item.get("available"), item.get("replicas")
        short = bool(item.get("unavailable")) or (
            isinstance(available, int) and isinstance(replicas, int) and available < replicas
        )
        parts = [*(item.get("conditions") or []), "unavailable" if short else ""]
    else:
        parts = [item.get("status"), item.get("note")]
    return " ".join(str(p) for p in parts if p)


def root_cause(findings: list[Finding], observations: list[Observation]) -> Cause | None:
    for f in findings:
        c = finding_cause(f)
        if c is not None:
            return c
    texts: list[str] = []
    for o in observations:
        if o.failed:
            continue
        if o.name == "get_events":
            texts += warning_lines(o, 5)
        elif o.name == "describe_pod":
            texts += describe_evidence(o, None, skip=("Status",))
        elif o.name in ("get_nodes", "get_deployments", "get_k8s_pods"):
            texts += [row_facts(o, item) for item in o.items]
    key = telling_log_line(observations)
    if key:
        texts.append(key)
    return classify("\n".join(texts)) if texts else None


def config_link(
    lang: Language, key_line: str | None, observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence line, next step) when a missing env var comes from a ConfigMap."""
    var = missing_variable(key_line)
    if not var:
        return None
    for o in observations:
        if o.name != "describe_pod" or o.failed:
            continue
        src = env_source(o, var)
        if src is None:
            continue
        line, kind, name, key = src
        kind_name = "ConfigMap" if kind == "configmap" else "Secret"
        ns = o.args.get("namespace", "")
        if lang == "zh":
            sentence = (
                f"程序启动时读不到环境变量 `{var}`；Pod 规格里它来自 {kind_name} `{name}` 的键 "
                f"`{key}`——这个键很可能不存在（被改名或删除），所以进程退出。"
            )
            step = (
                f"检查 {kind_name} 的键：`kubectl get {kind} {name} -n {ns} -o yaml`，"
                f"补上键 `{key}`（或把引用改成现有的键名）"
            )
        else:
            sentence = (
                f"The process cannot read the environment variable `{var}` at start; the pod "
                f"spec takes it from {kind_name} `{name}`, key `{key}`, which most likely does "
                "not exist (renamed or removed), so the process exits."
            )
            step = (
                f"Check the {kind_name}'s keys: `kubectl get {kind} {name} -n {ns} -o yaml`, "
                f"then add key `{key}` (or point the reference at the existing key)"
            )
        return sentence, line, step
    return None


def dependency_link(
    lang: Language, observations: list[Observation], related: list[Finding]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) when the pod depends on a Service with no endpoints."""
    texts: list[str] = []
    for o in observations:
        if o.name == "get_pod_logs" and not o.failed:
            texts += [ln for _, ln in log_body(o)]
        elif o.name == "describe_pod" and not o.failed:
            texts += spec_strings(o)
    hosts = service_hosts(texts)
    for f in related:
        if f.kind != "service" or f.reason not in ("ServiceNoEndpoints", "ServiceNoReadyEndpoints"):
            continue
        if (f.namespace, f.name) in hosts:
            ref = f"{f.namespace}/{f.name}"
            if lang == "zh":
                sentence = (
                    f"更深一层的原因：它依赖的 Service `{ref}` 没有可用的 Endpoint"
                    f"（{f.evidence}），所以连接失败、就绪检查不通过。"
                )
                step = (
                    f"修复 Service `{ref}`：对比它的 selector 与后端 Pod 的标签 "
                    f"（`kubectl get svc {f.name} -n {f.namespace} -o yaml`，"
                    f"`kubectl get pods -n {f.namespace} --show-labels`）"
                )
            else:
                sentence = (
                    f"The deeper cause: the Service it depends on, `{ref}`, has no endpoints "
                    f"({f.evidence}), so its connections fail and the readiness check fails."
                )
                step = (
                    f"Fix Service `{ref}`: compare its selector with the backing pods' labels "
                    f"(`kubectl get svc {f.name} -n {f.namespace} -o yaml`, "
                    f"`kubectl get pods -n {f.namespace} --show-labels`)"
                )
            return sentence, f.quote[:300], step
    return None


def selector_link(
    lang: Language, findings: list[Finding], observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) when a Service selector and a pod's labels disagree."""
    for f in findings:
        if f.kind != "service":
            continue
        for o in observations:
            if o.name != "describe_pod" or o.failed:
                continue
            got = selector_mismatch(f, o)
            if got is None:
                continue
            selector, label = got
            pod = o.args.get("pod_name", "")
            labels = next(iter(field_lines(o, "Labels")), "")
            if lang == "zh":
                sentence = (
                    f"Service 的 selector 是 `{selector}`，而后端 Pod `{pod}` 的标签是 `{label}`，"
                    "两者不一致，所以没有任何 Endpoint。"
                )
                step = (
                    f"把 Service `{f.ref}` 的 selector 改成 `{label}`（或给 Pod 模板加上标签 "
                    f"`{selector}`）"
                )
            else:
                sentence = (
                    f"The Service selects `{selector}` but its backing pod `{pod}` is labelled "
                    f"`{label}`: they do not match, so the Service has no endpoints."
                )
                step = (
                    f"Change Service `{f.ref}`'s selector to `{label}` (or add the label "
                    f"`{selector}` to the pod template)"
                )
            return sentence, labels, step
    return None


_MEM_RE = re.compile(r"(\d+(?:\.\d+)?)\s?(Mi|Gi)\b")


def oom_link(
    lang: Language, c: Cause | None, observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) for an OOM kill: the memory limit against what the last
    log lines of the killed container say it needed."""
    if c is None or c.key != "oom":
        return None
    limit = ""
    for o in observations:
        if o.name == "describe_pod" and not o.failed:
            for box in containers(o):
                memory = (box.get("limits") or {}).get("memory")
                if memory:
                    limit = str(memory)
    lines: list[str] = []
    for o in observations:
        if o.name == "get_pod_logs" and not o.failed:
            body = log_body(o)
            prev = [ln.strip() for p, ln in body if p] or [ln.strip() for _, ln in body]
            lines += [ln for ln in prev if _MEM_RE.search(ln) or "memory" in ln.lower()]
    if not lines or not limit:
        return None
    last = lines[-1]

    def mib(v: str, unit: str) -> float:
        return float(v) * (1024 if unit == "Gi" else 1)

    lim = _MEM_RE.search(limit)
    lim_mib = mib(*lim.groups()) if lim else 0.0
    needs = [mib(v, u) for v, u in _MEM_RE.findall(last) if mib(v, u) > lim_mib]
    if lang == "zh":
        sentence = f"容器的内存 limit 是 {limit}，被杀前最后的日志是：`{last}`"
        if needs:
            sentence += f"——它需要约 {max(needs):g}Mi，超过了 limit。"
        step = f"把 `resources.limits.memory` 调到高于实际峰值（当前 {limit}"
        step += f"，日志显示约需 {max(needs):g}Mi）" if needs else "）"
        step += "，或降低并发/批大小"
    else:
        sentence = f"The container's memory limit is {limit}; its last log line before the kill: "
        sentence += f"`{last}`"
        if needs:
            sentence += f": it needs about {max(needs):g}Mi, more than the limit."
        step = f"Raise `resources.limits.memory` above the real peak (now {limit}"
        step += f"; the logs say about {max(needs):g}Mi)" if needs else ")"
        step += ", or lower the concurrency / batch size"
    return sentence, last, step


def scaled_to_zero_link(
    lang: Language,
    findings: list[Finding],
    observations: list[Observation],
    deployment: tuple[str, str] | None = None,
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) when a deployment (a Service's, or the one asked about)
    has 0 replicas."""
    wanted: list[tuple[str, str, str | None]] = [
        (f.namespace, f.name, f.ref) for f in findings if f.kind == "service" and f.namespace
    ]
    if deployment is not None:
        wanted.append((deployment[0], deployment[1], None))
    for ns, want, service in wanted:
        for o in observations:
            if o.name != "get_deployments" or o.failed:
                continue
            for item in o.items:
                name = str(item.get("name") or "")
                if not (item.get("replicas") == 0 and item.get("ready") == 0):
                    continue
                if name != want and not name.startswith(want + "-"):
                    continue
                line = str(item.get("line") or shown_name(o, item))
                ref = f"{ns}/{name}"
                cmd = f"kubectl scale deployment/{name} --replicas=N -n {ns}"
                if lang == "zh":
                    sentence = f"Deployment `{ref}` 的副本数为 0（0/0）：没有任何 Pod"
                    sentence += (
                        f"，所以 Service `{service}` 没有 Endpoint，请求失败。" if service else "。"
                    )
                    step = f"把副本数恢复到原来的值：`{cmd}`（需人工确认）"
                else:
                    sentence = (
                        f"Deployment `{ref}` is scaled to 0 replicas (0/0): there are no pods"
                    )
                    sentence += (
                        f", so Service `{service}` has no endpoints and requests fail."
                        if service
                        else "."
                    )
                    step = f"Scale it back to its usual size: `{cmd}` (needs your approval)"
                return sentence, line.strip(), step
    return None
