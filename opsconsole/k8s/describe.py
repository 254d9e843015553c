"""A ``kubectl describe pod``-like text built from a raw pod and its events.

Secret-safe (S9): env vars from Secrets show only the reference, never a value; literal env
values pass through :func:`opsconsole.k8s.redact.redact` like everything else the tools emit.
"""

from __future__ import annotations

from typing import Any

from opsconsole.k8s.models import EventRow
from opsconsole.k8s.parse import pod_status

_E: dict[str, Any] = {}


def _probe(p: dict[str, Any] | None) -> str:
    if not p:
        return ""
    if "httpGet" in p:
        h = p["httpGet"]
        what = f"http-get {h.get('scheme', 'HTTP').lower()}://:{h.get('port')}{h.get('path', '/')}"
    elif "tcpSocket" in p:
        what = f"tcp-socket :{p['tcpSocket'].get('port')}"
    elif "exec" in p:
        what = "exec [" + " ".join(map(str, (p["exec"] or _E).get("command") or [])) + "]"
    elif "grpc" in p:
        what = f"grpc :{p['grpc'].get('port')}"
    else:
        what = "?"
    return (
        f"{what} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
        f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
        f"#failure={p.get('failureThreshold', 3)}"
    )


def _state(st: dict[str, Any] | None) -> list[str]:
    if not st:
        return ["<none>"]
    if "running" in st:
        return ["Running", f"  Started: {(st['running'] or _E).get('startedAt', '')}"]
    if "terminated" in st:
        t = st["terminated"] or _E
        out = ["Terminated", f"  Reason: {t.get('reason', '')}"]
        out.append(f"  Exit Code: {t.get('exitCode')}")
        if t.get("message"):
            out.append(f"  Message: {t['message']}")
        if t.get("startedAt"):
            out.append(f"  Started: {t['startedAt']}")
        if t.get("finishedAt"):
            out.append(f"  Finished: {t['finishedAt']}")
        return out
    w = st.get("waiting") or _E
    out = ["Waiting", f"  Reason: {w.get('reason', '')}"]
    if w.get("message"):
        out.append(f"  Message: {w['message']}")
    return out


def _env_line(e: dict[str, Any]) -> str:
    name = e.get("name", "")
    vf = e.get("valueFrom")
    if vf:
        if "secretKeyRef" in vf:
            r = vf["secretKeyRef"] or _E
            return f"{name} (from secret {r.get('name')}, key {r.get('key')})"
        if "configMapKeyRef" in vf:
            r = vf["configMapKeyRef"] or _E
            return f"{name} (from configmap {r.get('name')}, key {r.get('key')})"
        if "fieldRef" in vf:
            return f"{name} (from field {(vf['fieldRef'] or _E).get('fieldPath')})"
        return f"{name} (from {', '.join(vf)})"
    return f"{name}={e.get('value', '')}"


def _container_block(c: dict[str, Any], cs: dict[str, Any] | None, init: bool = False) -> list[str]:
    cs = cs or _E
    lines = [f"  {c.get('name')}{' (init)' if init else ''}:"]
    lines.append(f"    Image: {c.get('image', '')}")
    if c.get("command"):
        lines.append(f"    Command: {' '.join(map(str, c['command']))}")
    if c.get("args"):
        lines.append(f"    Args: {' '.join(map(str, c['args']))}")
    ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in c.get("ports") or ()]
    if ports:
        lines.append(f"    Ports: {', '.join(ports)}")
    state = _state(cs.get("state"))
    lines.append(f"    State: {state[0]}")
    lines.extend("    " + s for s in state[1:])
    last = cs.get("lastState") or _E
    if last:
        ls = _state(last)
        lines.append(f"    Last State: {ls[0]}")
        lines.extend("    " + s for s in ls[1:])
    lines.append(f"    Ready: {bool(cs.get('ready'))}")
    lines.append(f"    Restart Count: {cs.get('restartCount', 0)}")
    res = c.get("resources") or _E
    for key in ("limits", "requests"):
        vals = res.get(key) or _E
        if vals:
            pairs = ", ".join(f"{k}={v}" for k, v in vals.items())
            lines.append(f"    {key.capitalize()}: {pairs}")
    if not res.get("limits"):
        lines.append("    Limits: <none>")
    for label, key in (
        ("Liveness", "livenessProbe"),
        ("Readiness", "readinessProbe"),
        ("Startup", "startupProbe"),
    ):
        if c.get(key):
            lines.append(f"    {label}: {_probe(c[key])}")
    sc = c.get("securityContext") or _E
    flags = []
    if sc.get("privileged"):
        flags.append("privileged")
    if sc.get("runAsUser") == 0:
        flags.append("runAsUser=0")
    if sc.get("runAsNonRoot"):
        flags.append("runAsNonRoot")
    if sc.get("allowPrivilegeEscalation"):
        flags.append("allowPrivilegeEscalation")
    if flags:
        lines.append(f"    Security: {', '.join(flags)}")
    env = c.get("env") or ()
    if env:
        lines.append("    Environment:")
        lines.extend(f"      {_env_line(e)}" for e in env)
    for ef in c.get("envFrom") or ():
        if "secretRef" in ef:
            lines.append(f"    Environment From: secret {(ef['secretRef'] or _E).get('name')}")
        elif "configMapRef" in ef:
            cm = (ef["configMapRef"] or _E).get("name")
            lines.append(f"    Environment From: configmap {cm}")
    mounts = [
        f"{m.get('mountPath')} from {m.get('name')}{' (ro)' if m.get('readOnly') else ''}"
        for m in c.get("volumeMounts") or ()
    ]
    if mounts:
        lines.append("    Mounts: " + "; ".join(mounts))
    return lines


def _volume(v: dict[str, Any]) -> str:
    name = v.get("name")
    for key, fmt in (
        ("hostPath", lambda x: f"HostPath {x.get('path')}"),
        ("secret", lambda x: f"Secret {x.get('secretName')}"),
        ("configMap", lambda x: f"ConfigMap {x.get('name')}"),
        ("persistentVolumeClaim", lambda x: f"PVC {x.get('claimName')}"),
        ("emptyDir", lambda x: "EmptyDir"),
        ("projected", lambda x: "Projected"),
    ):
        if key in v:
            return f"  {name}: {fmt(v[key] or _E)}"
    kinds = [k for k in v if k != "name"]
    return f"  {name}: {kinds[0] if kinds else '?'}"


def describe_pod_text(pod: dict[str, Any], events: list[EventRow]) -> str:
    meta = pod.get("metadata") or _E
    spec = pod.get("spec") or _E
    status = pod.get("status") or _E
    text, ready, total, restarts = pod_status(pod)
    owners = meta.get("ownerReferences") or ()
    lines = [
        f"Name: {meta.get('name')}",
        f"Namespace: {meta.get('namespace')}",
        f"Node: {spec.get('nodeName') or '<none>'}",
        f"Start Time: {status.get('startTime', '')}",
        "Labels: "
        + (", ".join(f"{k}={v}" for k, v in (meta.get("labels") or _E).items()) or "<none>"),
        f"Status: {text} (phase {status.get('phase', '')}, ready {ready}/{total}, "
        f"restarts {restarts})",
    ]
    if status.get("reason") or status.get("message"):
        lines.append(f"Reason: {status.get('reason', '')} {status.get('message', '')}".rstrip())
    if status.get("podIP"):
        lines.append(f"IP: {status['podIP']}")
    if owners:
        lines.append(f"Controlled By: {owners[0].get('kind')}/{owners[0].get('name')}")
    if spec.get("serviceAccountName"):
        lines.append(f"Service Account: {spec['serviceAccountName']}")
    psc = spec.get("securityContext") or _E
    if psc.get("runAsUser") is not None or psc.get("runAsNonRoot") is not None:
        lines.append(
            f"Pod Security: runAsUser={psc.get('runAsUser')} runAsNonRoot={psc.get('runAsNonRoot')}"
        )
    if spec.get("hostNetwork") or spec.get("hostPID"):
        hn, hp = bool(spec.get("hostNetwork")), bool(spec.get("hostPID"))
        lines.append(f"Host: network={hn} pid={hp}")
    cstat = {c.get("name"): c for c in status.get("containerStatuses") or ()}
    istat = {c.get("name"): c for c in status.get("initContainerStatuses") or ()}
    if spec.get("initContainers"):
        lines.append("Init Containers:")
        for c in spec["initContainers"]:
            lines.extend(_container_block(c, istat.get(c.get("name")), init=True))
    lines.append("Containers:")
    for c in spec.get("containers") or ():
        lines.extend(_container_block(c, cstat.get(c.get("name"))))
    conds = status.get("conditions") or ()
    if conds:
        text_c = ", ".join(f"{c.get('type')}={c.get('status')}" for c in conds)
        lines.append(f"Conditions: {text_c}")
    vols = spec.get("volumes") or ()
    if vols:
        lines.append("Volumes:")
        lines.extend(_volume(v) for v in vols)
    if spec.get("nodeSelector"):
        lines.append(
            "Node-Selectors: " + ", ".join(f"{k}={v}" for k, v in spec["nodeSelector"].items())
        )
    tol = [
        f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect', '')}"
        for t in spec.get("tolerations") or ()
    ]
    if tol:
        lines.append("Tolerations: " + ", ".join(tol))
    if events:
        lines.append("Events (oldest first):")
        for e in events[-15:]:
            count = f" (x{e.count})" if e.count > 1 else ""
            lines.append(f"  {e.type} {e.reason}{count} {e.last_seen}: {e.message}")
    else:
        lines.append("Events: <none>")
    return "\n".join(lines)
