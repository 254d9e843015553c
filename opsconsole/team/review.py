"""Review of Kubernetes YAML the user pastes (the Coder's and the Security agent's
``review_manifest``): schema problems, the Security agent's pod checks, best practice.
Pure functions; one FINDING line per problem, like the other analyzers."""

from __future__ import annotations

from typing import Any

from opsconsole.team.manifests import (
    ManifestError,
    _pod_template_spec,
    check_local,
    parse_documents,
    ref,
)


def review_objects(docs: list[dict[str, Any]]) -> list[str]:
    """FINDING lines: schema problems, the Security agent's pod checks, best practice."""
    from opsconsole.k8s.analyzers import Finding
    from opsconsole.k8s.render import finding_line
    from opsconsole.k8s.security import check_pod_spec, check_services

    findings: list[Finding] = []
    for obj in docs:
        kind = str(obj.get("kind", "?"))
        meta = obj.get("metadata") or {}
        ns, name = meta.get("namespace"), str(meta.get("name", "?"))
        lk = kind.lower()

        def add(
            sev: str, reason: str, ev: str, fix: str, _k: str = lk, _ns: Any = ns, _n: str = name
        ) -> None:
            findings.append(Finding(sev, _k, _ns, _n, reason, [ev], fix))

        for p in check_local(obj):
            add("high", "SchemaError", p, "fix the manifest; the API server would reject it")
        pod = _pod_template_spec(kind, obj)
        if isinstance(pod, dict):
            tmeta = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
            rep = check_pod_spec(pod, tmeta.get("annotations") or {})
            for sev, reason, ev, fix in rep.findings:
                add(sev, reason, ev, fix)
            if rep.restricted_gaps:
                add(
                    "info",
                    "PSSRestricted",
                    "not PSS restricted: " + "; ".join(rep.restricted_gaps[:4]),
                    "runAsNonRoot, allowPrivilegeEscalation: false, drop [ALL], seccomp "
                    "RuntimeDefault",
                )
            for c in pod.get("containers") or ():
                if not isinstance(c, dict):
                    continue
                cn = c.get("name")
                if kind in ("Deployment", "StatefulSet", "DaemonSet") and not c.get(
                    "readinessProbe"
                ):
                    add("low", "NoReadinessProbe", f"container {cn}", "add a readinessProbe")
                if not ((c.get("resources") or {}).get("requests")):
                    add("low", "NoRequests", f"container {cn}", "set cpu/memory requests")
        if kind == "Deployment" and (obj.get("spec") or {}).get("replicas", 1) == 1:
            add("info", "SingleReplica", "replicas: 1", "use 2+ replicas and a PDB for HA")
        if kind == "Service":
            for f in check_services([obj]):
                findings.append(f)
    return [finding_line(f) for f in findings]


def review_manifest_text(text: str) -> str:
    try:
        docs = parse_documents(text)
    except ManifestError as exc:
        return f"review: cannot parse the manifest: {exc}"
    lines = review_objects(docs)
    head = f"review of {len(docs)} document(s): " + ", ".join(ref(d) for d in docs)
    return "\n".join([head, f"{len(lines)} findings", *lines] if lines else [head, "no findings"])
