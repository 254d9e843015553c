"""What changed, and when: rollout revisions of Deployments (their ReplicaSets with
``deployment.kubernetes.io/revision``) with what changed in the pod template (image, env,
resources, probes), container restarts and Warning events, newest first
(:func:`change_timeline`); and a Deployment's rollout history with the diff between two
revisions (:func:`rollout_history`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from opsconsole.errors import NotFound
from opsconsole.k8s import render
from opsconsole.k8s.lists import list_items

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


class RevisionNotFound(NotFound):
    """A revision number the Deployment does not have."""


def _env(c: dict[str, Any]) -> dict[str, str]:
    out = {}
    for e in c.get("env") or ():
        if "value" in e:
            out[e["name"]] = str(e.get("value"))
        else:
            src = e.get("valueFrom") or {}
            ref = next(iter(src), "valueFrom")
            inner = src.get(ref) or {}
            out[e["name"]] = f"<{ref} {inner.get('name', '')}:{inner.get('key', '')}>".replace(
                " :", " "
            )
    for ef in c.get("envFrom") or ():
        for kind in ("configMapRef", "secretRef"):
            if kind in ef:
                out[f"<envFrom {kind}>"] = str((ef[kind] or {}).get("name", ""))
    return out


def _compact(v: Any) -> str:
    return json.dumps(v, sort_keys=True, separators=(",", ":")) if v is not None else "<none>"


def template_facts(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per container: image, env, resources, probes (what a rollout's diff compares)."""
    spec = template.get("spec") or {}
    out: dict[str, dict[str, Any]] = {}
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        out[c.get("name", "?")] = {
            "image": c.get("image", ""),
            "env": _env(c),
            "resources": c.get("resources") or {},
            **{p: c.get(p) for p in _PROBES},
            "command": c.get("command"),
            "args": c.get("args"),
        }
    return out


def template_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two pod templates, one line each (``container web: image a -> b``)."""
    a, b = template_facts(old), template_facts(new)
    out: list[str] = []
    for name in sorted(set(a) | set(b)):
        if name not in a:
            out.append(f"container {name} added (image {b[name]['image']})")
            continue
        if name not in b:
            out.append(f"container {name} removed")
            continue
        x, y = a[name], b[name]
        if x["image"] != y["image"]:
            out.append(f"container {name}: image {x['image']} -> {y['image']}")
        for k in sorted(set(x["env"]) | set(y["env"])):
            if k not in x["env"]:
                out.append(f"container {name}: env {k} added = {y['env'][k]}")
            elif k not in y["env"]:
                out.append(f"container {name}: env {k} removed (was {x['env'][k]})")
            elif x["env"][k] != y["env"][k]:
                out.append(f"container {name}: env {k} {x['env'][k]} -> {y['env'][k]}")
        for part in ("limits", "requests"):
            ra, rb = (x["resources"].get(part) or {}), (y["resources"].get(part) or {})
            for k in sorted(set(ra) | set(rb)):
                if ra.get(k) != rb.get(k):
                    out.append(
                        f"container {name}: {part}.{k} {ra.get(k, '<none>')} -> "
                        f"{rb.get(k, '<none>')}"
                    )
        for f in (*_PROBES, "command", "args"):
            if x[f] != y[f]:
                out.append(f"container {name}: {f} {_compact(x[f])} -> {_compact(y[f])}")
    labels_a = (old.get("metadata") or {}).get("labels") or {}
    labels_b = (new.get("metadata") or {}).get("labels") or {}
    if labels_a != labels_b:
        out.append(f"pod labels {_compact(labels_a)} -> {_compact(labels_b)}")
    return out


def _revisions(cluster: Cluster, ns: str, deployment: str | None) -> dict[str, list[dict]]:
    """Deployment name -> its ReplicaSets, oldest revision first."""
    by: dict[str, list[dict]] = {}
    for rs in list_items(cluster, "apps", "v1", "replicasets", ns):
        md = rs.get("metadata") or {}
        owner = next(
            (o for o in md.get("ownerReferences") or () if o.get("kind") == "Deployment"), None
        )
        if owner is None or (deployment and owner.get("name") != deployment):
            continue
        by.setdefault(str(owner.get("name")), []).append(rs)
    for lst in by.values():
        lst.sort(key=_rev)
    return by


def _rev(rs: dict[str, Any]) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _template(rs: dict[str, Any]) -> dict[str, Any]:
    return (rs.get("spec") or {}).get("template") or {}


def _images(rs: dict[str, Any]) -> str:
    facts = template_facts(_template(rs))
    return ", ".join(f"{n}={f['image']}" for n, f in facts.items())


def change_timeline(
    cluster: Cluster, ns: str, deployment: str | None, budget: int
) -> tuple[str, dict[str, Any]]:
    """Rollouts (with their template changes), restarts and Warning events, newest first."""
    from opsconsole.k8s import queries as q

    entries: list[dict[str, Any]] = []
    revs = _revisions(cluster, ns, deployment)
    if deployment and not revs:
        # a Deployment with no ReplicaSet yet, or no such Deployment
        from opsconsole.k8s.discovery import raw_get
        from opsconsole.k8s.paths import resource_path

        try:
            raw_get(
                cluster, resource_path("apps", "v1", "deployments", namespace=ns, name=deployment)
            )
        except NotFound:
            raise NotFound(f"not found: deployment/{deployment} in namespace {ns}") from None
    for dep, lst in revs.items():
        prev: dict[str, Any] | None = None
        for rs in lst:
            md = rs.get("metadata") or {}
            changes = template_diff(_template(prev), _template(rs)) if prev else []
            what = "; ".join(changes) if changes else ("first revision" if prev is None else "")
            cause = (md.get("annotations") or {}).get(CHANGE_CAUSE)
            entries.append(
                {
                    "time": md.get("creationTimestamp", ""),
                    "type": "rollout",
                    "object": f"deployment/{dep}",
                    "revision": _rev(rs),
                    "replicaset": md.get("name"),
                    "images": _images(rs),
                    "changes": changes,
                    "text": f"rollout deployment/{dep} revision {_rev(rs)} ({md.get('name')}): "
                    + (what or "no template change")
                    + (f" [change-cause: {cause}]" if cause else "")
                    + ("" if changes else f"; images {_images(rs)}"),
                }
            )
            prev = rs
    prefixes = tuple(f"{d}-" for d in revs) if deployment else None
    for pod in q.list_pods(cluster, ns, keep_raw=True):
        if prefixes is not None and not pod.name.startswith(prefixes):
            continue
        for cs in ((pod.raw or {}).get("status") or {}).get("containerStatuses") or ():
            last = (cs.get("lastState") or {}).get("terminated")
            if not cs.get("restartCount") or not last:
                continue
            entries.append(
                {
                    "time": last.get("finishedAt") or last.get("startedAt") or "",
                    "type": "restart",
                    "object": f"pod/{pod.name}",
                    "container": cs.get("name"),
                    "restarts": cs.get("restartCount"),
                    "reason": last.get("reason"),
                    "exit_code": last.get("exitCode"),
                    "text": f"restart pod/{pod.name} container {cs.get('name')}: "
                    f"{last.get('reason', '?')} exit {last.get('exitCode')} "
                    f"(restarts {cs.get('restartCount')})",
                }
            )
    for e in q.list_events(cluster, ns, warnings_only=True):
        if prefixes is not None and not (
            e.object_name in revs or e.object_name.startswith(prefixes)
        ):
            continue
        cnt = f" (x{e.count})" if e.count > 1 else ""
        entries.append(
            {
                "time": e.last_seen,
                "type": "warning",
                "object": f"{e.object_kind.lower()}/{e.object_name}",
                "reason": e.reason,
                "message": e.message,
                "count": e.count,
                "text": f"warning {e.object_kind.lower()}/{e.object_name} {e.reason}{cnt}: "
                f"{e.message}",
            }
        )
    entries.sort(key=lambda x: x["time"] or "", reverse=True)
    scope = f"deployment/{deployment} in {ns}" if deployment else f"namespace {ns}"
    head = [f"change timeline of {scope}, newest first: {len(entries)} entries"]
    lines = [f"{x['time'] or '?':<20}  {x['text']}" for x in entries]
    text, omitted = render.fit(head, lines, budget, what="entries")
    return text, {
        "namespace": ns,
        "deployment": deployment,
        "entries": entries[: render.MAX_ITEMS],
        "total": len(entries),
        "truncated": omitted > 0,
    }


def rollout_history(
    cluster: Cluster,
    ns: str,
    deployment: str,
    rev_from: int | None,
    rev_to: int | None,
    budget: int,
) -> tuple[str, dict[str, Any]]:
    """``kubectl rollout history`` plus the template diff between two revisions (default: the
    two newest)."""
    lst = _revisions(cluster, ns, deployment).get(deployment) or []
    if not lst:
        change_timeline(cluster, ns, deployment, 200)  # NotFound for a missing deployment
        return (
            f"deployment/{deployment} in {ns} has no revisions (no ReplicaSet)",
            {"namespace": ns, "deployment": deployment, "revisions": [], "diff": []},
        )
    by_rev = {_rev(rs): rs for rs in lst}
    numbers = sorted(by_rev)
    b = rev_to if rev_to is not None else numbers[-1]
    a = rev_from if rev_from is not None else (numbers[-2] if len(numbers) > 1 else None)
    for n in (a, b):
        if n is not None and n not in by_rev:
            raise RevisionNotFound(
                f"not found: revision {n} of deployment/{deployment} in {ns} "
                f"(revisions: {', '.join(map(str, numbers))})"
            )
    revisions = []
    lines = []
    for n in reversed(numbers):
        rs = by_rev[n]
        md = rs.get("metadata") or {}
        cause = (md.get("annotations") or {}).get(CHANGE_CAUSE) or ""
        replicas = (rs.get("spec") or {}).get("replicas", 0)
        revisions.append(
            {
                "revision": n,
                "replicaset": md.get("name"),
                "created": md.get("creationTimestamp"),
                "replicas": replicas,
                "images": _images(rs),
                "change_cause": cause or None,
            }
        )
        cur = " (current)" if n == numbers[-1] else ""
        lines.append(
            f"  {n}{cur}  {md.get('name')}  {md.get('creationTimestamp', '')}  replicas={replicas}"
            f"  {_images(rs)}" + (f"  change-cause: {cause}" if cause else "")
        )
    diff = template_diff(_template(by_rev[a]), _template(by_rev[b])) if a is not None else []
    head = [f"rollout history of deployment/{deployment} in {ns}: {len(numbers)} revisions"]
    tail = (
        [f"diff revision {a} -> {b}:"]
        + ([f"  {d}" for d in diff] or ["  (pod template identical)"])
        if a is not None
        else ["only one revision: nothing to diff"]
    )
    text, omitted = render.fit(head, lines, budget, what="revisions", tail=tail)
    return text, {
        "namespace": ns,
        "deployment": deployment,
        "revisions": revisions,
        "from": a,
        "to": b,
        "diff": diff,
        "truncated": omitted > 0,
    }
