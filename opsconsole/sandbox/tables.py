"""meta.k8s.io/v1 Table rendering (what ``kubectl get`` asks for), after apiserver printers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from opsconsole.duration import human_duration

Obj = dict[str, Any]


def parse_ts(s: str | None) -> float | None:
    if not s:
        return None
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


def age(ts: str | None, now: float) -> str:
    t = parse_ts(ts)
    return "<unknown>" if t is None else human_duration(now - t)


def col(name: str, desc: str = "", *, typ: str = "string", fmt: str = "", prio: int = 0) -> Obj:
    return {"name": name, "type": typ, "format": fmt, "description": desc, "priority": prio}


NAME = col("Name", "Name must be unique within a namespace.", fmt="name")
AGE = col(
    "Age",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def pod_cells(pod: Obj, now: float) -> list[Any]:
    st = pod.get("status") or {}
    statuses = st.get("containerStatuses") or []
    total = len(pod["spec"].get("containers", []))
    reason = st.get("reason") or st.get("phase", "")
    restarts = ready = 0
    last_restart = 0.0
    has_running = False
    for cs in reversed(statuses):
        restarts += int(cs.get("restartCount", 0))
        term_last = (cs.get("lastState") or {}).get("terminated")
        if term_last:
            t = parse_ts(term_last.get("finishedAt")) or 0.0
            last_restart = max(last_restart, t)
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            term = state["terminated"]
            if term.get("reason"):
                reason = term["reason"]
            elif term.get("signal"):
                reason = f"Signal:{term['signal']}"
            else:
                reason = f"ExitCode:{term.get('exitCode', 0)}"
        elif cs.get("ready") and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running"
    if "deletionTimestamp" in pod["metadata"]:
        reason = "Terminating"
    restarts_s = str(restarts)
    if last_restart:
        restarts_s = f"{restarts} ({human_duration(now - last_restart)} ago)"
    nominated = st.get("nominatedNodeName") or "<none>"
    gates = pod["spec"].get("readinessGates")
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restarts_s,
        age(pod["metadata"].get("creationTimestamp"), now),
        st.get("podIP") or "<none>",
        pod["spec"].get("nodeName") or "<none>",
        nominated,
        f"0/{len(gates)}" if gates else "<none>",
    ]


POD_COLS = [
    NAME,
    col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    col("Status", "The aggregate status of the containers in this pod."),
    col(
        "Restarts",
        "The number of times the containers in this pod have been restarted and "
        "when the last container in this pod has restarted.",
    ),
    AGE,
    col("IP", "IP address allocated to the pod. Routable at least within the cluster.", prio=1),
    col("Node", "NodeName is a request to schedule this pod onto a specific node.", prio=1),
    col(
        "Nominated Node",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
        prio=1,
    ),
    col(
        "Readiness Gates",
        "If specified, all readiness gates will be evaluated for pod readiness.",
        prio=1,
    ),
]


def _node_cells(n: Obj, now: float) -> list[Any]:
    conds = {c["type"]: c["status"] for c in n["status"].get("conditions", [])}
    status = [
        "Ready"
        if conds.get("Ready") == "True"
        else "NotReady"
        if conds.get("Ready") == "False"
        else "Unknown"
    ]
    if n["spec"].get("unschedulable"):
        status.append("SchedulingDisabled")
    labels = n["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = n["status"].get("nodeInfo") or {}
    addrs = {a["type"]: a["address"] for a in n["status"].get("addresses", [])}
    return [
        n["metadata"]["name"],
        ",".join(status),
        ",".join(roles) or "<none>",
        age(n["metadata"].get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


NODE_COLS = [
    NAME,
    col("Status", "The status of the node"),
    col("Roles", "The roles of the node"),
    AGE,
    col("Version", "Kubelet Version reported by the node."),
    col("Internal-IP", "List of addresses reachable to the node.", prio=1),
    col("External-IP", "List of addresses reachable to the node.", prio=1),
    col("OS-Image", "OS Image reported by the node from /etc/os-release", prio=1),
    col("Kernel-Version", "Kernel Version reported by the node", prio=1),
    col("Container-Runtime", "Container Runtime Version reported by the node", prio=1),
]


def _containers(o: Obj) -> tuple[str, str]:
    cs = o["spec"]["template"]["spec"]["containers"]
    return ",".join(c["name"] for c in cs), ",".join(c["image"] for c in cs)


def _selector(o: Obj) -> str:
    ml = (o["spec"].get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in ml.items()) or "<none>"


def _deploy_cells(d: Obj, now: float) -> list[Any]:
    st = d.get("status") or {}
    want = d["spec"].get("replicas", 1)
    names, images = _containers(d)
    return [
        d["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{want}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        age(d["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(d),
    ]


WIDE_WORKLOAD = [
    col("Containers", "Names of each container in the template.", prio=1),
    col("Images", "Images referenced by each container in the template.", prio=1),
    col("Selector", "Label selector for pods.", prio=1),
]
DEPLOY_COLS = [
    NAME,
    col("Ready", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "Total number of non-terminated pods targeted by this "
        "deployment that have the desired template spec.",
        typ="integer",
    ),
    col(
        "Available",
        "Total number of available pods (ready for at least "
        "minReadySeconds) targeted by this deployment.",
        typ="integer",
    ),
    AGE,
    *WIDE_WORKLOAD,
]


def _rs_cells(r: Obj, now: float) -> list[Any]:
    st = r.get("status") or {}
    names, images = _containers(r)
    return [
        r["metadata"]["name"],
        r["spec"].get("replicas", 1),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age(r["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(r),
    ]


RS_COLS = [
    NAME,
    col("Desired", "Number of desired pods.", typ="integer"),
    col("Current", "Number of actual pods.", typ="integer"),
    col("Ready", "Number of ready pods.", typ="integer"),
    AGE,
    *WIDE_WORKLOAD,
]


def _sts_cells(s: Obj, now: float) -> list[Any]:
    st = s.get("status") or {}
    names, images = _containers(s)
    return [
        s["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{s['spec'].get('replicas', 1)}",
        age(s["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


STS_COLS = [NAME, col("Ready", "Number of the pod with ready state"), AGE, *WIDE_WORKLOAD[:2]]


def _ds_cells(d: Obj, now: float) -> list[Any]:
    st = d.get("status") or {}
    names, images = _containers(d)
    sel = d["spec"]["template"]["spec"].get("nodeSelector") or {}
    return [
        d["metadata"]["name"],
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>",
        age(d["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(d),
    ]


DS_COLS = [
    NAME,
    col("Desired", typ="integer"),
    col("Current", typ="integer"),
    col("Ready", typ="integer"),
    col("Up-to-date", typ="integer"),
    col("Available", typ="integer"),
    col("Node Selector"),
    AGE,
    *WIDE_WORKLOAD,
]


def _port_str(p: Obj) -> str:
    s = f"{p['port']}/{p.get('protocol', 'TCP')}"
    if p.get("nodePort"):
        s = f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
    return s


def _svc_cells(s: Obj, now: float) -> list[Any]:
    spec = s["spec"]
    ext = "<none>"
    ing = (s.get("status") or {}).get("loadBalancer", {}).get("ingress") or []
    if ing:
        ext = ",".join(i.get("ip") or i.get("hostname", "") for i in ing)
    elif spec.get("type") == "LoadBalancer":
        ext = "<pending>"
    sel = spec.get("selector") or {}
    return [
        s["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", ""),
        ext,
        ",".join(_port_str(p) for p in spec.get("ports", [])) or "<none>",
        age(s["metadata"].get("creationTimestamp"), now),
        ",".join(f"{k}={v}" for k, v in sel.items()) or "<none>",
    ]


SVC_COLS = [
    NAME,
    col("Type", "Type of the service."),
    col("Cluster-IP", "ClusterIP"),
    col("External-IP", "External IPs"),
    col("Port(s)", "The ports"),
    AGE,
    col(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector.",
        prio=1,
    ),
]


def _ep_cells(e: Obj, now: float) -> list[Any]:
    eps = []
    for sub in e.get("subsets") or []:
        for a in sub.get("addresses") or []:
            for p in sub.get("ports") or [{}]:
                eps.append(f"{a['ip']}:{p.get('port', '')}" if p else a["ip"])
    text = ",".join(eps[:3]) + (f" + {len(eps) - 3} more..." if len(eps) > 3 else "")
    return [
        e["metadata"]["name"],
        text or "<none>",
        age(e["metadata"].get("creationTimestamp"), now),
    ]


def _event_cells(e: Obj, now: float) -> list[Any]:
    io = e.get("involvedObject") or {}
    last = parse_ts(e.get("lastTimestamp")) or parse_ts(e.get("eventTime")) or now
    first = parse_ts(e.get("firstTimestamp")) or last
    src = e.get("source") or {}
    source = src.get("component", "")
    if src.get("host"):
        source += ", " + src["host"]
    return [
        human_duration(now - last),
        e.get("type", ""),
        e.get("reason", ""),
        f"{io.get('kind', '').lower()}/{io.get('name', '')}",
        io.get("fieldPath", ""),
        source,
        e.get("message", ""),
        human_duration(now - first),
        e.get("count", 1),
        e["metadata"]["name"],
    ]


EVENT_COLS = [
    col("Last Seen"),
    col("Type"),
    col("Reason"),
    col("Object"),
    col("Subobject", prio=1),
    col("Source", prio=1),
    col("Message"),
    col("First Seen", prio=1),
    col("Count", typ="integer", prio=1),
    col("Name", prio=1),
]

PRINTERS: dict[str, tuple[list[Obj], Any]] = {
    "pods": (POD_COLS, pod_cells),
    "nodes": (NODE_COLS, _node_cells),
    "apps/deployments": (DEPLOY_COLS, _deploy_cells),
    "apps/replicasets": (RS_COLS, _rs_cells),
    "apps/statefulsets": (STS_COLS, _sts_cells),
    "apps/daemonsets": (DS_COLS, _ds_cells),
    "services": (SVC_COLS, _svc_cells),
    "endpoints": ([NAME, col("Endpoints", "Endpoints"), AGE], _ep_cells),
    "events": (EVENT_COLS, _event_cells),
    "events.k8s.io/events": (
        EVENT_COLS,
        lambda e, now: _event_cells(
            {
                **e,
                "involvedObject": e.get("regarding") or {},
                "message": e.get("note", ""),
                "source": e.get("deprecatedSource") or {"component": e.get("reportingController")},
                "firstTimestamp": e.get("deprecatedFirstTimestamp"),
                "lastTimestamp": e.get("deprecatedLastTimestamp"),
                "count": e.get("deprecatedCount", 1),
            },
            now,
        ),
    ),
    "namespaces": (
        [NAME, col("Status", "The status of the namespace"), AGE],
        lambda o, now: [
            o["metadata"]["name"],
            o["status"].get("phase", "Active"),
            age(o["metadata"].get("creationTimestamp"), now),
        ],
    ),
    "configmaps": (
        [NAME, col("Data", typ="integer"), AGE],
        lambda o, now: [
            o["metadata"]["name"],
            len(o.get("data") or {}),
            age(o["metadata"].get("creationTimestamp"), now),
        ],
    ),
    "secrets": (
        [NAME, col("Type"), col("Data", typ="integer"), AGE],
        lambda o, now: [
            o["metadata"]["name"],
            o.get("type", "Opaque"),
            len(o.get("data") or {}),
            age(o["metadata"].get("creationTimestamp"), now),
        ],
    ),
}


def partial(obj: Obj) -> Obj:
    md = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md}


def columns(rkey: str) -> list[Obj]:
    if rkey in PRINTERS:
        return PRINTERS[rkey][0]
    return [NAME, AGE]


def row(rkey: str, obj: Obj, include: str, now: float | None = None) -> Obj:
    now = time.time() if now is None else now
    if rkey in PRINTERS:
        cells = PRINTERS[rkey][1](obj, now)
    else:
        cells = [obj["metadata"]["name"], age(obj["metadata"].get("creationTimestamp"), now)]
    r: Obj = {"cells": cells}
    if include == "Object":
        r["object"] = obj
    elif include != "None":
        r["object"] = partial(obj)
    return r


def table(
    rkey: str,
    objs: list[Obj],
    include: str,
    meta: Obj,
    *,
    headers: bool = True,
    printer: Any = None,
) -> Obj:
    """The Table of ``objs``; ``printer`` (a custom resource's: ``definitions``, ``cells``)
    stands for the kind's built-in printer."""
    now = time.time()
    if printer is None:
        cols = columns(rkey) if headers else None
        rows = [row(rkey, o, include, now) for o in objs]
    else:
        cols = printer.definitions if headers else None
        rows = []
        for o in objs:
            r: Obj = {"cells": printer.cells(o, now)}
            if include == "Object":
                r["object"] = o
            elif include != "None":
                r["object"] = partial(o)
            rows.append(r)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": cols,
        "rows": rows,
    }


# the printers of the kinds stored without a controller live beside these (they use the helpers
# above, so they are read in last)
from .tables_more import PRINTERS as _MORE  # noqa: E402

PRINTERS.update(_MORE)
