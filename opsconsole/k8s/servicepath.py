"""Follow a Service's traffic: Service -> selector -> pods -> endpoints -> ports (targetPort
against the containers' ports) -> NetworkPolicies that select those pods; says where traffic
stops (:func:`service_path`). Each step is a line ``OK``/``STOP``/``WARN`` and a fact in data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.errors import NotFound
from opsconsole.k8s import render
from opsconsole.k8s.discovery import raw_get
from opsconsole.k8s.lists import list_items, selector_matches, selector_text
from opsconsole.k8s.paths import resource_path

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster


def _ready(pod: dict[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def _container_ports(pod: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for c in (pod.get("spec") or {}).get("containers") or ():
        for p in c.get("ports") or ():
            out.append({**p, "container": c.get("name")})
    return out


def _target(port: dict[str, Any]) -> int | str:
    t = port.get("targetPort")
    return t if t not in (None, "") else port.get("port", 0)


def _peer(peer: dict[str, Any]) -> str:
    parts = []
    for k, v in peer.items():
        if isinstance(v, dict) and "matchLabels" in v:
            parts.append(f"{k}={selector_text(v.get('matchLabels') or {})}")
        else:
            parts.append(f"{k}={v}")
    return ", ".join(parts)


def service_path(
    cluster: Cluster, ns: str, service: str, port: int | str | None, budget: int
) -> tuple[str, dict[str, Any]]:
    try:
        svc = raw_get(cluster, resource_path("", "v1", "services", namespace=ns, name=service))
    except NotFound:
        raise NotFound(f"not found: service/{service} in namespace {ns}") from None
    steps: list[dict[str, Any]] = []
    stop: str | None = None

    def step(status: str, what: str, text: str, **facts: Any) -> None:
        nonlocal stop
        steps.append({"status": status, "step": what, "text": text, **facts})
        if status == "STOP" and stop is None:
            stop = what

    spec = svc.get("spec") or {}
    sel: dict[str, str] = spec.get("selector") or {}
    ports = spec.get("ports") or []
    if port is not None:
        ports = [p for p in ports if str(port) in (str(p.get("port")), str(p.get("name")))]
        if not ports:
            step("STOP", "service_port", f"service {service} has no port {port}")
    step(
        "OK",
        "service",
        f"service {service} type {spec.get('type', 'ClusterIP')} clusterIP "
        f"{spec.get('clusterIP', '')} ports "
        + (
            ", ".join(f"{p.get('port')}->{_target(p)}/{p.get('protocol', 'TCP')}" for p in ports)
            or "<none>"
        ),
    )
    pods = list_items(cluster, "", "v1", "pods", ns)
    matched: list[dict[str, Any]] = []
    if not sel:
        step(
            "WARN",
            "selector",
            f"service {service} has no selector: its endpoints are managed by hand (or by an "
            "EndpointSlice controller outside Kubernetes)",
        )
    else:
        matched = [
            p
            for p in pods
            if selector_matches({"matchLabels": sel}, (p.get("metadata") or {}).get("labels") or {})
        ]
        if matched:
            step(
                "OK",
                "selector",
                f"selector {selector_text(sel)} matches {len(matched)} pod(s): "
                + ", ".join(p["metadata"]["name"] for p in matched[:5])
                + (" ..." if len(matched) > 5 else ""),
                pods=[p["metadata"]["name"] for p in matched][:100],
            )
        else:
            near = []
            for p in pods:
                labels = (p.get("metadata") or {}).get("labels") or {}
                shared = [k for k in sel if k in labels]
                if shared:
                    near.append(
                        f"{p['metadata']['name']} ("
                        + ", ".join(f"{k}={labels[k]}" for k in shared)
                        + ")"
                    )
            step(
                "STOP",
                "selector",
                f"selector {selector_text(sel)} matches no pod in {ns}"
                + (f"; pods with the same label keys: {', '.join(near[:5])}" if near else ""),
                near=near[:20],
            )
    ready = [p for p in matched if _ready(p)]
    if matched and not ready:
        step(
            "STOP",
            "readiness",
            f"none of the {len(matched)} selected pod(s) is Ready: no endpoint receives traffic",
            not_ready=[p["metadata"]["name"] for p in matched][:100],
        )
    elif matched and len(ready) < len(matched):
        step(
            "WARN",
            "readiness",
            f"{len(ready)}/{len(matched)} selected pods are Ready; not ready: "
            + ", ".join(p["metadata"]["name"] for p in matched if not _ready(p))[:300],
        )
    try:
        ep = raw_get(cluster, resource_path("", "v1", "endpoints", namespace=ns, name=service))
        subsets = ep.get("subsets") or []
        addrs = sum(len(s.get("addresses") or []) for s in subsets)
        not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
        status = "OK" if addrs else ("STOP" if sel or not matched else "STOP")
        step(
            status,
            "endpoints",
            f"endpoints {service}: {addrs} ready address(es), {not_ready} not ready",
            ready_addresses=addrs,
            not_ready_addresses=not_ready,
        )
    except NotFound:
        step("STOP", "endpoints", f"no Endpoints object named {service} in {ns}")
    for sp in ports:
        target = _target(sp)
        for p in (ready or matched)[:1] if matched else []:
            cports = _container_ports(p)
            pname = p["metadata"]["name"]
            if isinstance(target, str) and not target.isdigit():
                hit = [c for c in cports if c.get("name") == target]
                if not hit:
                    step(
                        "STOP",
                        "ports",
                        f"service port {sp.get('port')} targets the named port {target!r} but "
                        f"pod {pname} declares no port of that name (ports: "
                        + (
                            ", ".join(
                                f"{c.get('name', '-')}={c.get('containerPort')}" for c in cports
                            )
                            or "none"
                        )
                        + ")",
                    )
                else:
                    step(
                        "OK",
                        "ports",
                        f"port {sp.get('port')} -> {target} = containerPort "
                        f"{hit[0].get('containerPort')} ({hit[0]['container']})",
                    )
            else:
                num = int(target)
                hit = [c for c in cports if c.get("containerPort") == num]
                if hit:
                    step(
                        "OK",
                        "ports",
                        f"port {sp.get('port')} -> targetPort {num} = containerPort of "
                        f"{hit[0]['container']}",
                    )
                elif cports:
                    step(
                        "STOP",
                        "ports",
                        f"service port {sp.get('port')} sends to targetPort {num} but pod {pname} "
                        "listens on containerPort "
                        + ", ".join(str(c.get("containerPort")) for c in cports),
                        target_port=num,
                        container_ports=[c.get("containerPort") for c in cports],
                    )
                else:
                    step(
                        "WARN",
                        "ports",
                        f"port {sp.get('port')} -> targetPort {num}: pod {pname} declares no ports "
                        f"(traffic is sent anyway; the process must listen on {num})",
                    )
    policies = list_items(cluster, "networking.k8s.io", "v1", "networkpolicies", ns)
    for pol in policies:
        pspec = pol.get("spec") or {}
        targets = [
            p
            for p in matched
            if selector_matches(
                pspec.get("podSelector") or {}, (p.get("metadata") or {}).get("labels") or {}
            )
        ]
        if not targets:
            continue
        types = pspec.get("policyTypes") or ["Ingress"]
        if "Ingress" not in types:
            continue
        rules = pspec.get("ingress") or []
        name = pol["metadata"]["name"]
        if not rules:
            step(
                "STOP",
                "networkpolicy",
                f"networkpolicy {name} selects {len(targets)} of these pods and allows no "
                "ingress: all traffic to them is denied",
                policy=name,
            )
        else:
            desc = []
            for r in rules:
                src = r.get("from") or []
                prt = ",".join(str(p.get("port", "*")) for p in r.get("ports") or []) or "*"
                who = "; ".join(_peer(s) for s in src) or "anywhere"
                desc.append(f"from {who} to port {prt}")
            step(
                "WARN",
                "networkpolicy",
                f"networkpolicy {name} selects these pods: ingress only " + " | ".join(desc),
                policy=name,
            )
    if not any(s["step"] == "networkpolicy" for s in steps):
        step("OK", "networkpolicy", f"no NetworkPolicy in {ns} restricts ingress to these pods")
    verdict = f"traffic stops at: {stop}" if stop else "traffic can reach the pods"
    head = [f"service path of service/{service} in {ns}: {verdict}"]
    lines = [f"{s['status']:<4} {s['step']}: {s['text']}" for s in steps]
    text, omitted = render.fit(head, lines, budget, what="steps")
    return text, {
        "namespace": ns,
        "service": service,
        "stops_at": stop,
        "reachable": stop is None,
        "steps": steps,
        "truncated": omitted > 0,
    }
