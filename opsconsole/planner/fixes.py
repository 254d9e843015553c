"""The offline planner's fixes: from a diagnosis to the change that removes its cause.

After a pod's description, events and logs (or a Service's findings) the planner reads the
objects behind them with the any-kind tools: the workload (``get_resource``), the ConfigMaps its
environment names, its rollout history when its image cannot be pulled, the nodes when it cannot
be scheduled, the Service's traffic path (``check_service_path``) when it has no endpoints. From
what those reads returned, never from the names of a scenario, it derives one :class:`Fix`:

- an env var read from a ConfigMap key that the ConfigMap does not have: add the key, with the
  value of the existing key most like it (the key was renamed) -> ``patch_resource``;
- a Service selector that matches no pod while pods with the same label keys exist: the
  selector of the pods whose labels are most like it -> ``patch_resource``;
- an image that cannot be pulled: back to the newest earlier revision with another image ->
  ``rollout_undo``;
- a container killed for memory: a memory limit above what it was killed at (twice the limit,
  or more when its logs name a larger figure) -> ``patch_resource``;
- a pod no node can take for cpu or memory: the request lowered to half the largest node
  it may run on -> ``patch_resource``;
- a readiness or liveness probe answered 404: the path of another probe of that container
  that is not failing -> ``patch_resource``.

In write mode the fix is proposed as that tool call, so it goes through the loop's approval
with the server-side dry-run diff like a model's call; read-only, the answer explains it and
says that write mode lets the planner propose it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from opsconsole.k8s.parse import cpu_millicores, memory_bytes
from opsconsole.planner.context import Call, Ctx
from opsconsole.planner.facts import Finding, deployment_of, log_body
from opsconsole.planner.observations import Observation

#: the change tools a fix may be (the any-kind changes of ``k8s/tools_change.py``)
FIX_TOOLS = frozenset({"patch_resource", "rollout_undo", "set_image"})
_PULL = ("imagepullbackoff", "errimagepull", "invalidimagename")
_SCHED = ("failedscheduling", "pending", "unschedulable")
_MEM = re.compile(r"(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|KiB|MiB|GiB|TiB)\b")
_MI = 1024 * 1024


@dataclass(frozen=True)
class Fix:
    """One cause and the change that removes it; ``call`` None: no concrete change known."""

    cause_zh: str
    cause_en: str
    fix_zh: str
    fix_en: str
    call: Call | None = None
    command: str = ""


# --- reading what the tools returned ------------------------------------------------------


def _got(ctx: Ctx, tool: str, **match: Any) -> Observation | None:
    for o in reversed(ctx.tr.current):
        if o.name == tool and all(o.args.get(k) == v for k, v in match.items()):
            return o
    return None


def _object(o: Observation | None) -> dict[str, Any] | None:
    if o is None or o.failed:
        return None
    obj = o.data.get("object")
    return obj if isinstance(obj, dict) else None


def _dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _containers(dep: dict[str, Any]) -> list[dict[str, Any]]:
    rows = _dig(dep, "spec", "template", "spec", "containers") or []
    return [c for c in rows if isinstance(c, dict)]


def _reasons(findings: list[Finding]) -> str:
    return " ".join(f"{f.reason} {f.evidence}" for f in findings).lower()


def _workload(ctx: Ctx, ns: str, pod: str) -> Observation | None:
    return _got(ctx, "get_resource", kind="deployment", namespace=ns, name=deployment_of(pod))


def _cm_refs(dep: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(container, env var, ConfigMap, key) of every env var read from a ConfigMap key."""
    out = []
    for c in _containers(dep):
        for e in c.get("env") or ():
            ref = _dig(e, "valueFrom", "configMapKeyRef")
            if isinstance(ref, dict) and ref.get("name") and ref.get("key"):
                out.append((str(c.get("name")), str(e.get("name")), ref["name"], ref["key"]))
    return out


# --- the reads a fix needs ----------------------------------------------------------------


def pod_reads(ctx: Ctx, ns: str, pod: str, findings: list[Finding]) -> list[Call | None]:
    """The reads after the pod's own: its deployment, and what its failure points at."""
    name = deployment_of(pod)
    if name == pod:  # not a deployment's pod
        return []
    calls: list[Call | None] = [
        ctx.call("get_resource", kind="deployment", namespace=ns, name=name)
    ]
    low = _reasons(findings)
    if any(w in low for w in _PULL):
        calls.append(ctx.call("rollout_history", namespace=ns, deployment=name))
    if any(w in low for w in _SCHED) and not ctx.called("get_nodes"):
        calls.append(ctx.call("get_nodes"))
    dep = _object(_workload(ctx, ns, pod))
    if dep is not None:  # second round: the ConfigMaps its environment reads
        for cm in dict.fromkeys(ref[2] for ref in _cm_refs(dep)):
            calls.append(ctx.call("get_resource", kind="configmap", namespace=ns, name=cm))
    return calls


def service_reads(ctx: Ctx, ns: str, service: str) -> list[Call | None]:
    return [
        ctx.call("get_resource", kind="service", namespace=ns, name=service),
        ctx.call("check_service_path", namespace=ns, service=service),
    ]


# --- from the reads to a fix --------------------------------------------------------------


def pod_fix(ctx: Ctx, ns: str, pod: str, findings: list[Finding]) -> Fix | None:
    dep = _object(_workload(ctx, ns, pod))
    if dep is None:
        return None
    name = str(_dig(dep, "metadata", "name"))
    low = _reasons(findings)
    for fix in (
        _config_key(ctx, ns, dep),
        _image(ctx, ns, name, dep) if any(w in low for w in _PULL) else None,
        _memory(ctx, ns, name, dep, pod) if "oomkilled" in low else None,
        _request(ctx, ns, name, dep, low) if any(w in low for w in _SCHED) else None,
        _probe(ctx, ns, name, dep, pod),
    ):
        if fix is not None:
            return fix
    return None


def _patch(kind: str, ns: str, name: str, patch: dict[str, Any], ptype: str) -> Call:
    return Call(
        "patch_resource",
        {"kind": kind, "name": name, "namespace": ns, "patch": patch, "patch_type": ptype},
    )


def _kubectl_patch(kind: str, ns: str, name: str, patch: dict[str, Any], ptype: str) -> str:
    body = json.dumps(patch, ensure_ascii=False, separators=(",", ":"))
    return f"kubectl patch {kind} {name} -n {ns} --type {ptype} -p '{body}'"


def _similar(want: str, have: list[str]) -> str | None:
    """The name in ``have`` most like ``want`` (a renamed key), if any is close enough."""

    def score(h: str) -> float:
        ratio = difflib.SequenceMatcher(None, want.lower(), h.lower()).ratio()
        a, b = re.split(r"[_.\-]", want.lower()), re.split(r"[_.\-]", h.lower())
        return ratio + (0.3 if a[0] == b[0] else 0.0)

    ranked = sorted(have, key=score, reverse=True)
    return ranked[0] if ranked and score(ranked[0]) >= 0.6 else None


def _config_key(ctx: Ctx, ns: str, dep: dict[str, Any]) -> Fix | None:
    for container, var, cm, key in _cm_refs(dep):
        o = _got(ctx, "get_resource", kind="configmap", namespace=ns, name=cm)
        if o is None:
            continue
        if o.failed:
            if o.error_code != "not_found":
                continue
            return Fix(
                f"容器 `{container}` 的环境变量 `{var}` 读取 ConfigMap `{ns}/{cm}`，但这个 "
                "ConfigMap 不存在。",
                f"Env var `{var}` of container `{container}` reads ConfigMap `{ns}/{cm}`, "
                "which does not exist.",
                f"创建 ConfigMap `{cm}`，包含键 `{key}`。",
                f"Create ConfigMap `{cm}` with key `{key}`.",
                command=f"kubectl create configmap {cm} -n {ns} --from-literal={key}=VALUE",
            )
        data = _object(o) or {}
        keys = [str(k) for k in (data.get("data") or {})]
        if key in keys:
            continue
        have = ", ".join(f"`{k}`" for k in keys) or "-"
        cause_zh = (
            f"容器 `{container}` 的环境变量 `{var}` 读取 ConfigMap `{ns}/{cm}` 的键 `{key}`，"
            f"但这个 ConfigMap 没有键 `{key}`（它有：{have}）。"
        )
        cause_en = (
            f"Env var `{var}` of container `{container}` reads key `{key}` of ConfigMap "
            f"`{ns}/{cm}`, but the ConfigMap has no key `{key}` (it has: {have})."
        )
        near = _similar(key, keys)
        if near is None:
            return Fix(
                cause_zh,
                cause_en,
                f"在 ConfigMap `{cm}` 中加上键 `{key}` 及正确的值。",
                f"Add key `{key}` with the right value to ConfigMap `{cm}`.",
                command=_kubectl_patch("configmap", ns, cm, {"data": {key: "VALUE"}}, "merge"),
            )
        value = str((data.get("data") or {})[near])
        patch = {"data": {key: value}}
        return Fix(
            cause_zh,
            cause_en,
            f"在 ConfigMap `{cm}` 中加上键 `{key}`，值取自看起来是它改名前后的键 `{near}`"
            f"（`{value[:80]}`）；Pod 下次重启时读到它。",
            f"Add key `{key}` to ConfigMap `{cm}` with the value of `{near}`, which looks like "
            f"the same setting renamed (`{value[:80]}`); the pods read it when they restart.",
            _patch("configmap", ns, cm, patch, "merge"),
            _kubectl_patch("configmap", ns, cm, patch, "merge"),
        )
    return None


def _image(ctx: Ctx, ns: str, name: str, dep: dict[str, Any]) -> Fix | None:
    o = _got(ctx, "rollout_history", namespace=ns, deployment=name)
    if o is None or o.failed:
        return None
    revs = [r for r in o.data.get("revisions") or () if isinstance(r, dict)]
    current = o.data.get("to")
    now = next((r for r in revs if r.get("revision") == current), None)
    images = ", ".join(f"`{c.get('name')}={c.get('image')}`" for c in _containers(dep))
    cause_zh = f"Deployment `{ns}/{name}` 的镜像拉取失败：{images}（镜像或标签在仓库里不存在）。"
    cause_en = (
        f"The image of deployment `{ns}/{name}` cannot be pulled: {images} (the image or "
        "tag does not exist in the registry)."
    )
    older = [
        r
        for r in revs
        if isinstance(r.get("revision"), int)
        and isinstance(current, int)
        and r["revision"] < current
        and r.get("images") != (now or {}).get("images")
    ]
    if not older:
        return Fix(
            cause_zh,
            cause_en,
            f"它没有更早的、镜像不同的 revision 可回滚；把镜像改成仓库里存在的标签"
            f"（`kubectl set image deployment/{name} CONTAINER=IMAGE:TAG -n {ns}`）。",
            "It has no earlier revision with another image to roll back to; set the image to a "
            f"tag that exists (`kubectl set image deployment/{name} CONTAINER=IMAGE:TAG -n {ns}`).",
        )
    back = max(older, key=lambda r: int(r["revision"]))
    rev = int(back["revision"])
    return Fix(
        cause_zh + f"它之前的 revision {rev} 的镜像是 `{back.get('images')}`。",
        cause_en + f" Revision {rev} before it ran `{back.get('images')}`.",
        f"回滚到 revision {rev}（`{back.get('images')}`）。",
        f"Roll back to revision {rev} (`{back.get('images')}`).",
        Call("rollout_undo", {"name": name, "namespace": ns, "to_revision": rev}),
        f"kubectl rollout undo deployment/{name} -n {ns} --to-revision={rev}",
    )


def _round_mi(n: float, step: int = 64) -> str:
    mi = max(step, int(math.ceil(n / _MI / step)) * step)
    return f"{mi // 1024}Gi" if mi % 1024 == 0 else f"{mi}Mi"


def _memory(ctx: Ctx, ns: str, name: str, dep: dict[str, Any], pod: str) -> Fix | None:
    for c in _containers(dep):
        limit = _dig(c, "resources", "limits", "memory")
        if not limit:
            continue
        have = memory_bytes(limit)
        need = 2.0 * have
        for o in ctx.called("get_pod_logs", pod_name=pod):  # "est. 380Mi in memory"
            for _, line in log_body(o):
                for num, unit in _MEM.findall(line):
                    seen = memory_bytes(f"{num}{unit[:2]}")
                    if seen > have:
                        need = max(need, seen * 1.25)
        new = _round_mi(need)
        patch = _container_patch(str(c.get("name")), {"resources": {"limits": {"memory": new}}})
        return Fix(
            f"容器 `{c.get('name')}` 超出内存上限 {limit} 被杀（OOMKilled）。",
            f"Container `{c.get('name')}` is killed for going over its memory limit of {limit} "
            "(OOMKilled).",
            f"把 Deployment `{name}` 的内存上限从 {limit} 提高到 {new}。",
            f"Raise the memory limit of deployment `{name}` from {limit} to {new}.",
            _patch("deployment", ns, name, patch, "strategic"),
            _kubectl_patch("deployment", ns, name, patch, "strategic"),
        )
    return None


def _container_patch(container: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}


def _tolerated(taint: str, tolerations: list[dict[str, Any]]) -> bool:
    key = taint.split("=")[0].split(":")[0]
    return any(
        t.get("operator") == "Exists" and t.get("key") in (None, "", key) for t in tolerations
    )


def _request(ctx: Ctx, ns: str, name: str, dep: dict[str, Any], low: str) -> Fix | None:
    nodes = [i for o in ctx.called("get_nodes") if not o.failed for i in o.items]
    if not nodes:
        return None
    tolerations = _dig(dep, "spec", "template", "spec", "tolerations") or []
    usable = [
        n for n in nodes if all(_tolerated(str(t), tolerations) for t in n.get("taints") or ())
    ] or nodes
    for res, parse in (("cpu", cpu_millicores), ("memory", memory_bytes)):
        if f"insufficient {res}" not in low:
            continue
        biggest = max(parse(n.get(res)) for n in usable)
        for c in _containers(dep):
            want = _dig(c, "resources", "requests", res)
            if not want or parse(want) <= biggest / 2:
                continue
            half = biggest / 2
            new = f"{int(half)}m" if res == "cpu" else _round_mi(half)
            if res == "cpu" and int(half) % 1000 == 0:
                new = str(int(half) // 1000)
            fields: dict[str, Any] = {"resources": {"requests": {res: new}}}
            patch = _container_patch(str(c.get("name")), fields)
            largest = next(n.get(res) for n in usable if parse(n.get(res)) == biggest)
            return Fix(
                f"容器 `{c.get('name')}` 请求 {res} {want}，而它能去的最大节点只有 {largest}："
                "没有节点放得下它（Insufficient " + res + "）。",
                f"Container `{c.get('name')}` requests {res} {want}, and the largest node it may "
                f"run on has {largest}: no node can take it (Insufficient {res}).",
                f"把 Deployment `{name}` 的 {res} 请求从 {want} 降到 {new}（最大节点的一半）。",
                f"Lower the {res} request of deployment `{name}` from {want} to {new} (half "
                "the largest node).",
                _patch("deployment", ns, name, patch, "strategic"),
                _kubectl_patch("deployment", ns, name, patch, "strategic"),
            )
    return None


def _probe(ctx: Ctx, ns: str, name: str, dep: dict[str, Any], pod: str) -> Fix | None:
    """A probe answered 404: its path does not exist; another probe's path that works."""
    events = [
        str(e.get("message") or "")
        for o in ctx.called("describe_pod", pod_name=pod)
        if not o.failed
        for e in o.data.get("events") or ()
        if isinstance(e, dict)
    ]
    failing = {
        kind
        for m in events
        for kind in ("readiness", "liveness")
        if m.lower().startswith(kind) and "statuscode: 404" in m.lower()
    }
    for kind in sorted(failing):
        field = f"{kind}Probe"
        for c in _containers(dep):
            path = _dig(c, field, "httpGet", "path")
            if not path:
                continue
            others = [
                _dig(c, f"{k}Probe", "httpGet", "path")
                for k in ("readiness", "liveness", "startup")
                if k not in failing
            ]
            good = next((p for p in others if p and p != path), None)
            cause_zh = (
                f"容器 `{c.get('name')}` 的 {kind} 探针请求 `{path}` 得到 404：这个路径不存在。"
            )
            cause_en = (
                f"The {kind} probe of container `{c.get('name')}` gets 404 for `{path}`: the "
                "path does not exist."
            )
            if good is None:
                return Fix(
                    cause_zh,
                    cause_en,
                    "把探针路径改成应用真正提供的健康检查路径。",
                    "Set the probe's path to the health endpoint the application serves.",
                )
            probe = dict(c.get(field) or {})
            probe["httpGet"] = {**probe["httpGet"], "path": good}
            patch = _container_patch(str(c.get("name")), {field: probe})
            return Fix(
                cause_zh,
                cause_en,
                f"把 {kind} 探针的路径从 `{path}` 改成另一个探针正常使用的 `{good}`。",
                f"Change the {kind} probe's path from `{path}` to `{good}`, which its other "
                "probe uses without failing.",
                _patch("deployment", ns, name, patch, "strategic"),
                _kubectl_patch("deployment", ns, name, patch, "strategic"),
            )
    return None


def _labels(near: str) -> tuple[str, dict[str, str]]:
    """``pod-1 (app=x,tier=y)`` -> (pod-1, {app: x, tier: y})."""
    m = re.fullmatch(r"(\S+) \((.*)\)", near.strip())
    if not m:
        return near, {}
    pairs = [p.split("=", 1) for p in m.group(2).split(",") if "=" in p]
    return m.group(1), {k.strip(): v.strip() for k, v in pairs}


def service_fix(ctx: Ctx, ns: str, service: str) -> Fix | None:
    svc = _object(_got(ctx, "get_resource", kind="service", namespace=ns, name=service))
    path = _got(ctx, "check_service_path", namespace=ns, service=service)
    if svc is None or path is None or path.failed or path.data.get("stops_at") != "selector":
        return None
    selector = {str(k): str(v) for k, v in (_dig(svc, "spec", "selector") or {}).items()}
    step = next(
        (
            s
            for s in path.data.get("steps") or ()
            if isinstance(s, dict) and s.get("step") == "selector"
        ),
        {},
    )
    want = ",".join(f"{k}={v}" for k, v in selector.items())
    best: tuple[float, str, dict[str, str]] | None = None
    for near in step.get("near") or ():
        pod, labels = _labels(str(near))
        if not selector or not all(k in labels for k in selector):
            continue
        got = ",".join(f"{k}={labels[k]}" for k in selector)
        score = difflib.SequenceMatcher(None, want, got).ratio()
        if best is None or score > best[0]:
            best = (score, pod, {k: labels[k] for k in selector})
    cause_zh = f"Service `{ns}/{service}` 的选择器 `{want}` 匹配不到任何 Pod，所以没有 endpoints。"
    cause_en = (
        f"The selector `{want}` of service `{ns}/{service}` matches no pod, so it has no endpoints."
    )
    if best is None or best[0] < 0.5:
        return Fix(
            cause_zh,
            cause_en,
            "把选择器改成后端 Pod 真正的标签。",
            "Set the selector to the labels the backing pods really have.",
        )
    _, pod, labels = best
    shown = ",".join(f"{k}={v}" for k, v in labels.items())
    patch = {"spec": {"selector": labels}}
    return Fix(
        cause_zh + f"看起来是它后端的 Pod `{pod}` 的标签是 `{shown}`。",
        cause_en + f" Pod `{pod}`, which looks like its backend, is labelled `{shown}`.",
        f"把 Service `{service}` 的选择器改成 `{shown}`。",
        f"Change the selector of service `{service}` to `{shown}`.",
        _patch("service", ns, service, patch, "merge"),
        _kubectl_patch("service", ns, service, patch, "merge"),
    )


# --- proposing it ---------------------------------------------------------------------------


def proposed(ctx: Ctx) -> Observation | None:
    """The fix already proposed in this turn (how it ended), if any."""
    return next((o for o in ctx.tr.current if o.name in FIX_TOOLS), None)


def can_propose(ctx: Ctx, fix: Fix | None) -> bool:
    return fix is not None and fix.call is not None and fix.call.name in ctx.offered


def fix_text(ctx: Ctx, fix: Fix, done: Observation | None) -> str:
    """The fix section of the answer: the cause, the change and what became of it."""
    zh = ctx.zh
    head = "## 修复" if zh else "## Fix"
    lines = [head, "", ctx.say(fix.cause_zh, fix.cause_en), "", ctx.say(fix.fix_zh, fix.fix_en)]
    if done is not None:
        status = done.status
        if status == "ok":
            msg = str(done.data.get("message") or "").strip().splitlines()[:3]
            lines += ["", ("已执行：" if zh else "Done: ") + ("; ".join(msg) or done.name)]
        elif status == "declined":
            lines += [
                "",
                "你拒绝了这个变更，**没有做任何变更**。"
                if zh
                else "You declined the change: **nothing was changed**.",
            ]
        else:
            why = (done.error or status).splitlines()[0][:300]
            lines += ["", ("未执行：" if zh else "Not made: ") + why]
    elif fix.call is not None or fix.command:
        if fix.command:
            lines += ["", f"```\n{fix.command}\n```"]
        if fix.call is not None and fix.call.name not in ctx.offered:
            lines += [
                "",
                "当前是只读模式，没有做任何变更。开启写模式（控制台中输入 `/write`，或启动时加 "
                "`--write`）后再问一次，我会把这个变更连同服务器端 dry-run 的 diff 提交给你确认。"
                if zh
                else "This is read-only mode: nothing was changed. In write mode (`/write` in the "
                "console, or start with `--write`) ask again and I will propose this change, "
                "with the server's dry-run diff, for your approval.",
            ]
    return "\n".join(lines)


def fix_thought(ctx: Ctx, fix: Fix) -> str:
    return ctx.say(
        f"{fix.cause_zh} 修复：{fix.fix_zh} 这会变更集群，需要你看过 dry-run 的 diff "
        "并确认后才执行。",
        f"{fix.cause_en} Fix: {fix.fix_en} This changes the cluster: it runs only after you "
        "approve it, with the dry-run diff shown.",
    )
