"""The judge: rules on the answer, manifests in the answer (server-side dry run), tools the run
called, and the cluster state after a fix task (read back through the k8s layer).

Every check returns :class:`Check` rows; a scenario passes when every row passes. The first
failed row is the "failed rule" shown in the table. The cluster is never trusted to the words
of the answer: a fix task passes only when the state it asks for is there afterwards.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opsconsole.evals.scenario import AnswerRules, ClusterCheck, ManifestRule, Scenario

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.k8s.client import Cluster

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


@dataclass(frozen=True)
class Check:
    rule: str
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "ok": self.ok, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        return cls(str(d.get("rule", "")), bool(d.get("ok")), str(d.get("detail", "")))


# --- the answer ---------------------------------------------------------------------------


def judge_answer(rules: AnswerRules, answer: str) -> list[Check]:
    out: list[Check] = []
    for i, group in enumerate(rules.all):
        hit = next((k for k in group if k.matches(answer)), None)
        names = " | ".join(k.describe() for k in group)
        if hit is None:
            out.append(Check(f"answer.all[{i}]", False, f"names none of: {names}"))
        else:
            out.append(Check(f"answer.all[{i}]", True, f"names {hit.describe()}"))
    if rules.any:
        hits = [k for g in rules.any for k in g if k.matches(answer)]
        names = " ; ".join(" | ".join(k.describe() for k in g) for g in rules.any)
        if hits:
            out.append(Check("answer.any", True, f"names {hits[0].describe()}"))
        else:
            out.append(Check("answer.any", False, f"names none of: {names}"))
    for i, kw in enumerate(rules.none):
        if kw.matches(answer):
            out.append(Check(f"answer.none[{i}]", False, f"forbidden claim {kw.describe()}"))
    if rules.none and not any(c.rule.startswith("answer.none") for c in out):
        out.append(Check("answer.none", True, "no forbidden claim"))
    return out


# --- tools --------------------------------------------------------------------------------


def judge_tools(scn: Scenario, calls: list[dict[str, Any]]) -> list[Check]:
    """``calls``: the run's tool calls (``tool``, ``status``); only executed calls count."""
    ran = {c["tool"] for c in calls if c.get("status") == "ok"}
    out = []
    for name in scn.tools.called:
        ok = name in ran
        out.append(Check(f"tools.called {name}", ok, "called" if ok else "never ran"))
    for name in scn.tools.not_called:
        ok = name not in ran
        out.append(Check(f"tools.not_called {name}", ok, "not called" if ok else "was called"))
    return out


# --- manifests ----------------------------------------------------------------------------

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[^\n]*\n(.*?)```", re.S)


def extract_manifests(answer: str) -> list[dict[str, Any]]:
    """Kubernetes objects (mappings with apiVersion and kind) in the answer's code blocks."""
    import yaml

    docs: list[dict[str, Any]] = []
    for m in _FENCE.finditer(answer):
        lang = m.group(1).lower()
        if lang not in ("", "yaml", "yml", "json"):
            continue
        try:
            items = list(yaml.safe_load_all(m.group(2)))
        except yaml.YAMLError:
            continue
        for d in items:
            if isinstance(d, dict) and d.get("kind") == "List":
                items += [i for i in d.get("items") or [] if isinstance(i, dict)]
            elif isinstance(d, dict) and d.get("kind") and d.get("apiVersion"):
                docs.append(d)
    return docs


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    for path in (("template", "spec"), ("jobTemplate", "spec", "template", "spec"), ()):
        node: Any = spec
        for key in path:
            node = (node or {}).get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("containers"), list):
            return [c for c in node["containers"] if isinstance(c, dict)]
    return []


def _field(obj: dict[str, Any], path: str) -> Any:
    node: Any = obj
    for key in path.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def _matches(obj: dict[str, Any], want: dict[str, Any]) -> str | None:
    """None when ``obj`` has every property of ``want``, else the first mismatch."""
    for key, value in want.items():
        if key == "kind":
            if obj.get("kind") != value:
                return f"kind {obj.get('kind')}"
        elif key == "name":
            if (obj.get("metadata") or {}).get("name") != value:
                return f"name {(obj.get('metadata') or {}).get('name')!r}"
        elif key == "image":
            images = [c.get("image") for c in _containers(obj)]
            if value not in images:
                return f"images {images}"
        elif key == "port":
            ports = [p.get("containerPort") for c in _containers(obj) for p in c.get("ports") or []]
            ports += [p.get("port") for p in (obj.get("spec") or {}).get("ports") or []]
            ports += [p.get("targetPort") for p in (obj.get("spec") or {}).get("ports") or []]
            if value not in ports:
                return f"ports {ports}"
        elif key == "replicas":
            if (obj.get("spec") or {}).get("replicas") != value:
                return f"replicas {(obj.get('spec') or {}).get('replicas')!r}"
        elif _field(obj, key) != value:
            return f"{key} = {_field(obj, key)!r}"
    return None


def judge_manifest(rule: ManifestRule, answer: str, cluster: Cluster | None) -> list[Check]:
    from opsconsole.team.manifests import check_local, dry_run_create, ref

    docs = extract_manifests(answer)
    if not docs:
        return [Check("manifest", False, "the answer holds no manifest in a yaml code block")]
    out: list[Check] = []
    kinds = [d.get("kind") for d in docs]
    for kind in rule.kinds:
        ok = kind in kinds
        out.append(Check(f"manifest.kind {kind}", ok, "present" if ok else f"found {kinds}"))
    for i, want in enumerate(rule.match):
        misses = [m for d in docs if (m := _matches(d, want)) is not None]
        ok = len(misses) < len(docs)
        detail = "found" if ok else f"no {want.get('kind')} matches {want}: " + "; ".join(misses)
        out.append(Check(f"manifest.match[{i}]", ok, detail[:300]))
    for d in docs:
        problems = check_local(d)
        if problems:
            out.append(Check(f"manifest.schema {ref(d)}", False, "; ".join(problems)[:300]))
            continue
        if not rule.dry_run or cluster is None:
            continue
        res = dry_run_create(cluster, d, rule.namespace)
        ok = res.outcome in ("accepted", "exists")
        out.append(Check(f"manifest.dry_run {ref(d)}", ok, res.message[:300]))
    return out


# --- the cluster --------------------------------------------------------------------------


def _deployment(cluster: Cluster, ns: str, name: str) -> dict[str, Any]:
    from opsconsole.k8s import queries as q

    return q.get_deployment(cluster, ns, name)


def _pod_uids(cluster: Cluster, dep: dict[str, Any]) -> set[str]:
    from opsconsole.k8s import queries as q

    sel = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    ns = dep["metadata"]["namespace"]
    label = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    items, _ = q.list_raw(cluster, "pods", ns, label_selector=label or None)
    return {
        str(p["metadata"].get("uid")) for p in items if not p["metadata"].get("deletionTimestamp")
    }


def _restarted_at(dep: dict[str, Any]) -> str:
    tmpl = ((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return str((tmpl.get("annotations") or {}).get(RESTARTED_AT, ""))


def snapshot(cluster: Cluster, checks: tuple[ClusterCheck, ...]) -> dict[str, Any]:
    """What a check needs from before the run (the pods and restartedAt of a deployment)."""
    state: dict[str, Any] = {}
    for c in checks:
        if c.kind != "restarted":
            continue
        try:
            dep = _deployment(cluster, c.namespace, c.name)
            state[f"{c.namespace}/{c.name}"] = (_restarted_at(dep), _pod_uids(cluster, dep))
        except Exception as exc:  # noqa: BLE001 - the check reports it
            state[f"{c.namespace}/{c.name}"] = exc
    return state


class _Settled(Exception):
    """The check failed in a way waiting cannot change (the spec itself is wrong)."""


def _check_once(cluster: Cluster, c: ClusterCheck, before: dict[str, Any]) -> tuple[bool, str]:
    dep = _deployment(cluster, c.namespace, c.name)
    if c.kind == "restarted":
        prev = before.get(f"{c.namespace}/{c.name}")
        if isinstance(prev, Exception) or prev is None:
            return False, f"no state from before the run ({prev})"
        at, uids = prev
        now_at = _restarted_at(dep)
        current = _pod_uids(cluster, dep)
        if now_at and now_at != at:
            return True, f"restartedAt set to {now_at}"
        if uids and current and not (uids & current):
            return True, "every pod was replaced"
        return False, "pod template not restarted and the same pods still run"
    spec = dep.get("spec") or {}
    status = dep.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    seen = f"replicas={replicas}, ready={ready}"
    if c.replicas is not None and replicas != c.replicas:
        raise _Settled(seen)  # nothing changes the spec by itself: no point in waiting
    if c.ready is not None and ready != c.ready:
        if replicas < c.ready:
            raise _Settled(seen)
        return False, seen
    if c.min_ready is not None and ready < c.min_ready:
        if replicas < c.min_ready:
            raise _Settled(seen)
        return False, seen
    return True, seen


def judge_cluster(
    cluster: Cluster,
    checks: tuple[ClusterCheck, ...],
    before: dict[str, Any],
    *,
    poll: float = 0.25,
    settle: float | None = None,
) -> list[Check]:
    """Each check is polled until it holds or its timeout passes (pods take time to start).

    ``settle`` caps the wait (the harness passes 2 s when no mutating call ran: nothing is
    converging then, the state is read as it is)."""
    from opsconsole.errors import OpsConsoleError

    out = []
    for c in checks:
        wait = c.timeout if settle is None else min(c.timeout, settle)
        deadline = time.monotonic() + wait
        while True:
            try:
                ok, detail = _check_once(cluster, c, before)
            except _Settled as exc:
                ok, detail = False, str(exc)
                break
            except OpsConsoleError as exc:
                ok, detail = False, exc.message
            if ok or time.monotonic() >= deadline:
                break
            time.sleep(poll)
        out.append(Check(f"cluster: {c.describe()}", ok, detail))
    return out
