"""The offline planner's diagnosis and log answers: root cause, evidence, next steps.

The root cause comes from the analyzers' findings first (their ``reason``), then from the
Warning events and the telling log line; never from spec lines that merely mention a probe.
When the analyzers looked and found nothing, the answer says the object looks healthy.
"""

from __future__ import annotations

import re

from opsconsole.agent.offline_answers import (
    DERIVED,
    HEADER,
    block,
    error_note,
    is_error,
    next_steps,
    quote,
    t,
)
from opsconsole.agent.offline_causes import Cause, cause, classify, finding_cause, is_security
from opsconsole.agent.offline_evidence import (
    describe_evidence,
    env_source,
    evidence_lines,
    gpu_nodes,
    gpu_request,
    log_body,
    missing_variable,
    pods_on_nodes,
    selector_mismatch,
    service_hosts,
)
from opsconsole.agent.offline_intents import Intent, Language
from opsconsole.agent.offline_observe import Finding, Observation

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
        if o.name != "get_pod_logs" or is_error(o):
            continue
        body = log_body(o.content)
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


_TS_RE = re.compile(r"^\S*\d{2}:\d{2}:\d{2}\S*\s+")


def _log_evidence(o: Observation, limit: int) -> list[str]:
    """Evidence from a log tool output: the restart note and distinct error lines."""
    out = [ln.strip() for ln in o.content.splitlines() if ln.startswith("previous instance")]
    body = "\n".join(ln for _, ln in log_body(o.content))
    seen: set[str] = set()
    for line in evidence_lines(body, limit=limit * 4):
        key = _TS_RE.sub("", line)
        if key not in seen:
            seen.add(key)
            out.append(line)
    return out[: limit + 1]


def _warning_lines(o: Observation, limit: int = 3) -> list[str]:
    lines = [
        ln.strip()
        for ln in o.content.splitlines()
        if "  Warning  " in ln or ln.strip().startswith("Warning ")
    ]
    return lines[:limit]


def _root_cause(findings: list[Finding], observations: list[Observation]) -> Cause | None:
    for f in findings:
        c = finding_cause(f)
        if c is not None:
            return c
    texts: list[str] = []
    for o in observations:
        if is_error(o):
            continue
        if o.name == "get_events":
            texts += _warning_lines(o, 5)
        elif o.name == "describe_pod":
            texts += [ln for ln in describe_evidence(o.content, None) if "Status:" not in ln]
        elif o.name in ("get_nodes", "get_deployments", "get_k8s_pods"):
            texts.append(o.content)
    key = telling_log_line(observations)
    if key:
        texts.append(key)
    return classify("\n".join(texts)) if texts else None


def _config_link(
    lang: Language, key_line: str | None, observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence line, next step) when a missing env var comes from a ConfigMap."""
    var = missing_variable(key_line)
    if not var:
        return None
    for o in observations:
        if o.name != "describe_pod" or is_error(o):
            continue
        src = env_source(o.content, var)
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


def _dependency_link(
    lang: Language, observations: list[Observation], related: list[Finding]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) when the pod depends on a Service with no endpoints."""
    texts = []
    for o in observations:
        if o.name == "get_pod_logs" and not is_error(o):
            texts.append("\n".join(ln for _, ln in log_body(o.content)))
        elif o.name == "describe_pod" and not is_error(o):
            texts.append(o.content)
    hosts = service_hosts("\n".join(texts))
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
            return sentence, f.line.split(" | suggestion:")[0][:300], step
    return None


def _selector_link(
    lang: Language, findings: list[Finding], observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) when a Service selector and a pod's labels disagree."""
    for f in findings:
        if f.kind != "service":
            continue
        for o in observations:
            if o.name != "describe_pod" or is_error(o):
                continue
            got = selector_mismatch(f.evidence, o.content)
            if got is None:
                continue
            selector, label = got
            pod = o.args.get("pod_name", "")
            labels = next(
                (ln.strip() for ln in o.content.splitlines() if ln.startswith("Labels:")), ""
            )
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


def _oom_link(
    lang: Language, c: Cause | None, observations: list[Observation]
) -> tuple[str, str, str] | None:
    """(sentence, evidence, next step) for an OOM kill: the memory limit against what the last
    log lines of the killed container say it needed."""
    if c is None or c.key != "oom":
        return None
    limit = ""
    for o in observations:
        if o.name == "describe_pod" and not is_error(o):
            for line in o.content.splitlines():
                m = re.search(r"Limits:.*memory=(\S+)", line)
                if m:
                    limit = m.group(1).rstrip(",")
    lines: list[str] = []
    for o in observations:
        if o.name == "get_pod_logs" and not is_error(o):
            body = log_body(o.content)
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


def _scaled_to_zero_link(
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
            if o.name != "get_deployments" or is_error(o):
                continue
            for line in o.content.splitlines()[2:]:
                cols = re.split(r"\s{2,}", line.strip())
                name = cols[0].split("/")[-1] if cols else ""
                if not (len(cols) >= 2 and cols[1] == "0/0"):
                    continue
                if name != want and not name.startswith(want + "-"):
                    continue
                ref = f"{ns}/{name}"
                cmd = f"kubectl scale deployment/{name} --replicas=<N> -n {ns}"
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
    c = _root_cause(health, observations)
    if c is None and scanned and not health:
        return healthy_answer(intent, subject, observations)
    key_line = telling_log_line(observations)
    primary = [f for f in health if f.reason not in DERIVED]
    derived = [f for f in health if f.reason in DERIVED]
    shown = primary[:1] + derived[:1] if primary else derived[:2]
    evidence: list[str] = [f.line.split(" | suggestion:")[0][:300] for f in shown]

    def add(lines: list[str]) -> None:
        seen = {_TS_RE.sub("", x) for x in evidence}
        for line in lines:
            key = _TS_RE.sub("", line)
            if line and key not in seen and not line.startswith("FINDING"):
                evidence.append(line)
                seen.add(key)

    scaled = _scaled_to_zero_link(
        lang,
        health,
        observations,
        (ns, name) if ns and name and subject.startswith("deployment/") else None,
    )
    links = [
        x
        for x in (
            scaled,
            _config_link(lang, key_line, observations),
            _oom_link(lang, c, observations),
            _selector_link(lang, health, observations),
            _dependency_link(lang, observations, related or []),
        )
        if x is not None
    ]
    for link in links:
        if link[1] not in evidence:
            evidence.append(link[1])
    for o in observations:
        if is_error(o):
            continue
        if o.name == "get_pod_logs":
            body = [ln.strip() for _, ln in log_body(o.content)]
            if key_line and key_line in body:
                add([key_line])
            add([ln for ln in _log_evidence(o, 3) if not ln.startswith("Traceback")])
        elif o.name == "describe_pod":
            add(describe_evidence(o.content, c.key if c else None, limit=5))
        elif o.name == "get_events":
            add(_warning_lines(o, 2))
        elif o.name == "get_resource_usage":  # rows already chosen by the planner
            add([ln.strip() for ln in o.content.splitlines() if ln.strip()][:3])
        else:  # a listing (nodes, deployments): its rows about the subject
            rows = [ln.strip() for ln in o.content.splitlines() if ln.strip()]
            rows = [
                ln
                for ln in rows
                if not ln.startswith(("NAME ", "#", "[truncated", "nodes:", "deployments in"))
            ]
            if name:
                rows = [ln for ln in rows if name in ln.split("  ")[0]]
            add(rows[:3])
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
        cause_text += f"（{label}: {listed}）" if lang == "zh" else f" ({label}: {listed})"
    parts = [HEADER, "", f"{t('cause', lang)}{sep}`{subject}` — {cause_text}", ""]
    if note:
        parts += [note, ""]
    for link in links:
        if link is not scaled:  # the scaled-to-zero sentence is the root-cause line itself
            parts += [link[0], ""]
    if key_line:
        lead = "关键报错" if lang == "zh" else "Key error"
        parts += [f"{lead}{sep}`{key_line}`", ""]
    notes = [error_note(o, lang) for o in observations if is_error(o)]
    if notes:
        parts += [*notes, ""]
    if evidence:
        parts += [t("evidence", lang) + sep.rstrip(), quote(evidence), ""]
    suggestion = next((f.suggestion for f in health if f.suggestion), "")
    steps = next_steps(c, lang, ns, name, suggestion)
    if links:
        first = [link[2] for link in links]
        rest = [line.split(". ", 1)[1] for line in steps.splitlines() if ". " in line]
        if scaled is not None:  # the selector is fine: there is just nothing to select
            rest = []
        steps = "\n".join(f"{i}. {step}" for i, step in enumerate(first + rest, 1))
    parts += [t("next", lang) + sep.rstrip(), steps]
    return "\n".join(parts) + "\n"


def healthy_answer(intent: Intent, subject: str, observations: list[Observation]) -> str:
    lang = intent.language
    if lang == "zh":
        head = f"分析器没有发现 `{subject}` 的问题，它看起来运行正常。"
    else:
        head = f"The analyzers found no problem with `{subject}`; it looks healthy."
    evidence: list[str] = []
    for o in observations:
        if o.name == "describe_pod" and not is_error(o):
            evidence += describe_evidence(o.content, "healthy", limit=6)
        elif o.name == "get_pod_logs" and not is_error(o):
            body = [ln for _, ln in log_body(o.content) if ln.strip()]
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
        body = log_body(o.content)
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
    notes = [
        ln.strip()
        for o in observations
        for ln in o.content.splitlines()
        if ln.startswith(("previous instance", "[truncated", "(previous logs unavailable"))
    ]
    if notes:
        parts += [quote(notes), ""]
    key = telling_log_line(observations)
    health = [f for f in findings if not is_security(f)]
    c = _root_cause(health, observations)
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


def gpu_answer(
    intent: Intent,
    observations: list[Observation],
    findings: list[Finding],
    pod: tuple[str, str] | None,
) -> str:
    """GPU nodes (capacity, taints), the pods that request GPUs and where they run, GPU
    scheduling findings, and one named pod's GPU requests."""
    lang = intent.language
    zh = lang == "zh"
    nodes: list[tuple[str, str]] = []
    for o in observations:
        if o.name == "get_nodes" and not is_error(o):
            nodes += gpu_nodes(o.content)
    names = {n for n, _ in nodes}
    on_gpu: list[tuple[str, str, str, str]] = []
    for o in observations:
        if o.name == "get_k8s_pods" and not is_error(o):
            on_gpu += pods_on_nodes(str(o.args.get("namespace", "")), o.content, names)
    described = {
        (str(o.args.get("namespace")), str(o.args.get("pod_name"))): o.content
        for o in observations
        if o.name == "describe_pod" and not is_error(o)
    }
    gpu_findings = [
        f
        for f in findings
        if f.reason == "GPUUnschedulable"
        or re.search(r"insufficient nvidia\.com/gpu|requests nvidia\.com/gpu", f.evidence.lower())
    ]
    parts = [HEADER, ""]
    if pod is not None:
        ns, name = pod
        text = described.get((ns, name), "")
        lines = [
            ln.strip()
            for ln in text.splitlines()
            if ln.strip().startswith(("Node:", "Status:", "Requests:", "Limits:"))
        ]
        count = gpu_request(text)
        node = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Node:")), "?")
        if zh:
            parts.append(
                f"`{ns}/{name}` 请求了 **{count}** 块 GPU（nvidia.com/gpu），"
                f"运行在节点 `{node}` 上。"
            )
        else:
            parts.append(
                f"`{ns}/{name}` requests **{count}** GPU(s) (nvidia.com/gpu) and runs on node "
                f"`{node}`."
            )
        if lines:
            parts += ["", t("evidence", lang) + ("：" if zh else ":"), quote(lines)]
        parts.append("")
    parts += ["**GPU 节点**" if zh else "**GPU nodes**", ""]
    if nodes:
        parts.append(quote(line for _, line in nodes))
    else:
        parts.append("没有发现带 GPU 的节点。" if zh else "No node with GPUs was found.")
    users = [(p, described[(p[0], p[1])]) for p in on_gpu if (p[0], p[1]) in described]
    using = [(p, gpu_request(text)) for p, text in users if gpu_request(text) > 0]
    if using:
        parts += ["", "**使用 GPU 的 Pod**" if zh else "**Pods using GPUs**", ""]
        for (ns, name, node, status), n in using:
            if zh:
                parts.append(f"- `{ns}/{name}`：nvidia.com/gpu={n}，节点 `{node}`（{status}）")
            else:
                parts.append(f"- `{ns}/{name}`: nvidia.com/gpu={n} on node `{node}` ({status})")
    if using and nodes:
        capacity = sum(int(re.split(r"\s{2,}", line)[7]) for _, line in nodes)
        requested = sum(n for _, n in using)
        if zh:
            parts += [
                "",
                f"GPU 总量 {capacity} 块，已被请求 {requested} 块，"
                f"空闲 {capacity - requested} 块。",
            ]
        else:
            parts += [
                "",
                f"GPUs: {capacity} in total, {requested} requested, {capacity - requested} free.",
            ]
    others = [p for p in on_gpu if p not in [u[0] for u in using]]
    if others and (using or not users):
        title = "GPU 节点上的其他 Pod（未请求 GPU）" if zh else "Other pods on GPU nodes (no GPU"
        title += "" if zh else " request)"
        if not users:
            title = "GPU 节点上的 Pod" if zh else "Pods on GPU nodes"
        parts += ["", f"**{title}**", ""]
        parts += [f"- `{ns}/{name}` ({node}, {status})" for ns, name, node, status in others[:15]]
    parts.append("")
    if gpu_findings:
        parts.append("**GPU 相关问题**" if zh else "**GPU problems**")
        parts += [f"- **{f.ref}** {f.reason}: {f.evidence[:240]}" for f in gpu_findings[:10]]
        c = cause("gpu")
        steps = c.next_zh if zh else c.next_en
        parts += ["", t("next", lang) + ("：" if zh else ":")]
        parts += [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    else:
        parts.append(
            "分析器没有发现 GPU 调度问题（没有因 nvidia.com/gpu 不足而 Pending 的 Pod）。"
            if zh
            else "The analyzers found no GPU scheduling problem (no pod Pending for lack of "
            "nvidia.com/gpu)."
        )
    return "\n".join(parts).rstrip() + "\n"
