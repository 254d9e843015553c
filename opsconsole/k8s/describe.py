"""A ``kubectl describe pod``-like view built from a raw pod and its events: a text for the
model and the same facts as data for programs (:func:`describe_pod`).

Secret-safe (S9): env vars from Secrets show only the reference, never a value; literal env
values pass through :func:`opsconsole.redact.redact` like everything else the tools emit.

The data (``Described.data``): ``lines``, every line of the text in order as ``{"key", "value",
"text", "container"}`` (``key`` is the field the line shows: "Status", "Limits", "Reason",
"Exit Code", "Labels", ...; ``text`` is the line as the text shows it, without its
indentation); ``labels``, ``node``, ``containers`` (name, image, ``limits`` and ``requests``,
``env`` with where each variable comes from, command and args) and ``events`` (type, reason,
count, last seen, message and the line).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class _Lines:
    """The describe view being built: indented text lines, each with the field it shows."""

    out: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    container: str | None = None

    def add(self, indent: int, key: str, value: Any = None, *, text: str | None = None) -> None:
        """``key: value`` (or ``text`` as given, for lines that are not a field)."""
        shown = text if text is not None else f"{key}: {value}"
        line = {"key": key, "value": "" if value is None else str(value), "text": shown}
        if self.container is not None:
            line["container"] = self.container
        self.out.append((indent, line))

    def render(self) -> str:
        return "\n".join(" " * indent + line["text"] for indent, line in self.out)


def _state(lines: _Lines, indent: int, key: str, st: dict[str, Any] | None) -> None:
    if not st:
        lines.add(indent, key, "<none>")
        return
    if "running" in st:
        lines.add(indent, key, "Running")
        lines.add(indent + 2, "Started", (st["running"] or _E).get("startedAt", ""))
        return
    if "terminated" in st:
        t = st["terminated"] or _E
        lines.add(indent, key, "Terminated")
        lines.add(indent + 2, "Reason", t.get("reason", ""))
        lines.add(indent + 2, "Exit Code", t.get("exitCode"))
        if t.get("message"):
            lines.add(indent + 2, "Message", t["message"])
        if t.get("startedAt"):
            lines.add(indent + 2, "Started", t["startedAt"])
        if t.get("finishedAt"):
            lines.add(indent + 2, "Finished", t["finishedAt"])
        return
    w = st.get("waiting") or _E
    lines.add(indent, key, "Waiting")
    lines.add(indent + 2, "Reason", w.get("reason", ""))
    if w.get("message"):
        lines.add(indent + 2, "Message", w["message"])


def _env(e: dict[str, Any]) -> dict[str, Any]:
    """One environment variable: where its value comes from, and its line."""
    name = e.get("name", "")
    vf = e.get("valueFrom")
    if vf:
        if "secretKeyRef" in vf:
            r = vf["secretKeyRef"] or _E
            src = {"from": "secret", "source": r.get("name"), "key": r.get("key")}
            text = f"{name} (from secret {r.get('name')}, key {r.get('key')})"
        elif "configMapKeyRef" in vf:
            r = vf["configMapKeyRef"] or _E
            src = {"from": "configmap", "source": r.get("name"), "key": r.get("key")}
            text = f"{name} (from configmap {r.get('name')}, key {r.get('key')})"
        elif "fieldRef" in vf:
            path = (vf["fieldRef"] or _E).get("fieldPath")
            src = {"from": "field", "source": path}
            text = f"{name} (from field {path})"
        else:
            src = {"from": ", ".join(vf)}
            text = f"{name} (from {', '.join(vf)})"
        return {"name": name, **src, "text": text}
    value = e.get("value", "")
    return {"name": name, "value": value, "text": f"{name}={value}"}


def _container(
    lines: _Lines, c: dict[str, Any], cs: dict[str, Any] | None, init: bool = False
) -> dict[str, Any]:
    cs = cs or _E
    name = c.get("name")
    lines.container = None
    lines.add(2, "container", name, text=f"{name}{' (init)' if init else ''}:")
    lines.container = str(name)
    lines.add(4, "Image", c.get("image", ""))
    if c.get("command"):
        lines.add(4, "Command", " ".join(map(str, c["command"])))
    if c.get("args"):
        lines.add(4, "Args", " ".join(map(str, c["args"])))
    ports = [f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in c.get("ports") or ()]
    if ports:
        lines.add(4, "Ports", ", ".join(ports))
    _state(lines, 4, "State", cs.get("state"))
    last = cs.get("lastState") or _E
    if last:
        _state(lines, 4, "Last State", last)
    lines.add(4, "Ready", bool(cs.get("ready")))
    lines.add(4, "Restart Count", cs.get("restartCount", 0))
    res = c.get("resources") or _E
    for key in ("limits", "requests"):
        vals = res.get(key) or _E
        if vals:
            lines.add(4, key.capitalize(), ", ".join(f"{k}={v}" for k, v in vals.items()))
    if not res.get("limits"):
        lines.add(4, "Limits", "<none>")
    for label, key in (
        ("Liveness", "livenessProbe"),
        ("Readiness", "readinessProbe"),
        ("Startup", "startupProbe"),
    ):
        if c.get(key):
            lines.add(4, label, _probe(c[key]))
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
        lines.add(4, "Security", ", ".join(flags))
    env = [_env(e) for e in c.get("env") or ()]
    if env:
        lines.add(4, "Environment", text="Environment:")
        for e in env:
            lines.add(6, "env", e["name"], text=e["text"])
    for ef in c.get("envFrom") or ():
        if "secretRef" in ef:
            lines.add(4, "Environment From", f"secret {(ef['secretRef'] or _E).get('name')}")
        elif "configMapRef" in ef:
            cm = (ef["configMapRef"] or _E).get("name")
            lines.add(4, "Environment From", f"configmap {cm}")
    mounts = [
        f"{m.get('mountPath')} from {m.get('name')}{' (ro)' if m.get('readOnly') else ''}"
        for m in c.get("volumeMounts") or ()
    ]
    if mounts:
        lines.add(4, "Mounts", "; ".join(mounts))
    lines.container = None
    return {
        "name": name,
        "init": init,
        "image": c.get("image", ""),
        "command": [str(x) for x in c.get("command") or ()],
        "args": [str(x) for x in c.get("args") or ()],
        "limits": {str(k): str(v) for k, v in (res.get("limits") or _E).items()},
        "requests": {str(k): str(v) for k, v in (res.get("requests") or _E).items()},
        "env": env,
    }


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
            return f"{name}: {fmt(v[key] or _E)}"
    kinds = [k for k in v if k != "name"]
    return f"{name}: {kinds[0] if kinds else '?'}"


@dataclass(frozen=True)
class Described:
    """The describe view of one pod: ``text`` for the model, ``data`` for programs."""

    text: str
    data: dict[str, Any]


def describe_pod(pod: dict[str, Any], events: list[EventRow]) -> Described:
    meta = pod.get("metadata") or _E
    spec = pod.get("spec") or _E
    status = pod.get("status") or _E
    text, ready, total, restarts = pod_status(pod)
    owners = meta.get("ownerReferences") or ()
    labels = {str(k): str(v) for k, v in (meta.get("labels") or _E).items()}
    lines = _Lines()
    lines.add(0, "Name", meta.get("name"))
    lines.add(0, "Namespace", meta.get("namespace"))
    lines.add(0, "Node", spec.get("nodeName") or "<none>")
    lines.add(0, "Start Time", status.get("startTime", ""))
    lines.add(0, "Labels", ", ".join(f"{k}={v}" for k, v in labels.items()) or "<none>")
    lines.add(
        0,
        "Status",
        f"{text} (phase {status.get('phase', '')}, ready {ready}/{total}, restarts {restarts})",
    )
    if status.get("reason") or status.get("message"):
        why = f"{status.get('reason', '')} {status.get('message', '')}".rstrip()
        lines.add(0, "Reason", why)
    if status.get("podIP"):
        lines.add(0, "IP", status["podIP"])
    if owners:
        lines.add(0, "Controlled By", f"{owners[0].get('kind')}/{owners[0].get('name')}")
    if spec.get("serviceAccountName"):
        lines.add(0, "Service Account", spec["serviceAccountName"])
    psc = spec.get("securityContext") or _E
    if psc.get("runAsUser") is not None or psc.get("runAsNonRoot") is not None:
        lines.add(
            0,
            "Pod Security",
            f"runAsUser={psc.get('runAsUser')} runAsNonRoot={psc.get('runAsNonRoot')}",
        )
    if spec.get("hostNetwork") or spec.get("hostPID"):
        hn, hp = bool(spec.get("hostNetwork")), bool(spec.get("hostPID"))
        lines.add(0, "Host", f"network={hn} pid={hp}")
    cstat = {c.get("name"): c for c in status.get("containerStatuses") or ()}
    istat = {c.get("name"): c for c in status.get("initContainerStatuses") or ()}
    containers = []
    if spec.get("initContainers"):
        lines.add(0, "Init Containers", text="Init Containers:")
        for c in spec["initContainers"]:
            containers.append(_container(lines, c, istat.get(c.get("name")), init=True))
    lines.add(0, "Containers", text="Containers:")
    for c in spec.get("containers") or ():
        containers.append(_container(lines, c, cstat.get(c.get("name"))))
    conds = status.get("conditions") or ()
    if conds:
        lines.add(0, "Conditions", ", ".join(f"{c.get('type')}={c.get('status')}" for c in conds))
    vols = spec.get("volumes") or ()
    if vols:
        lines.add(0, "Volumes", text="Volumes:")
        for v in vols:
            lines.add(2, "volume", v.get("name"), text=_volume(v))
    if spec.get("nodeSelector"):
        selectors = ", ".join(f"{k}={v}" for k, v in spec["nodeSelector"].items())
        lines.add(0, "Node-Selectors", selectors)
    tol = [
        f"{t.get('key', '')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect', '')}"
        for t in spec.get("tolerations") or ()
    ]
    if tol:
        lines.add(0, "Tolerations", ", ".join(tol))
    shown_events = []
    if events:
        lines.add(0, "Events", text="Events (oldest first):")
        for e in events[-15:]:
            count = f" (x{e.count})" if e.count > 1 else ""
            line = f"{e.type} {e.reason}{count} {e.last_seen}: {e.message}"
            lines.add(2, "event", e.type, text=line)
            shown_events.append(
                {
                    "type": e.type,
                    "reason": e.reason,
                    "count": e.count,
                    "last_seen": e.last_seen,
                    "message": e.message,
                    "line": line,
                }
            )
    else:
        lines.add(0, "Events", "<none>")
    data = {
        "namespace": meta.get("namespace"),
        "pod": meta.get("name"),
        "node": spec.get("nodeName") or None,
        "labels": labels,
        "containers": containers,
        "events": shown_events,
        "lines": [line for _, line in lines.out],
    }
    return Described(lines.render(), data)


def describe_pod_text(pod: dict[str, Any], events: list[EventRow]) -> str:
    return describe_pod(pod, events).text
