"""Table printers of the kinds stored without a controller (the columns ``kubectl get`` shows on a
real cluster for them)."""

from __future__ import annotations

from typing import Any

from .tables import AGE, NAME, Obj, age, col


def _name(o: Obj) -> str:
    return o["metadata"]["name"]


def _age(o: Obj, now: float) -> str:
    return age(o["metadata"].get("creationTimestamp"), now)


def _created_at(o: Obj, now: float) -> list[Any]:
    return [_name(o), o["metadata"].get("creationTimestamp", "")]


def _binding(o: Obj, now: float) -> list[Any]:
    ref = o.get("roleRef") or {}
    subjects = o.get("subjects") or []

    def of(kind: str) -> str:
        names = [
            f"{s.get('namespace')}/{s['name']}" if kind == "ServiceAccount" else s["name"]
            for s in subjects
            if s.get("kind") == kind
        ]
        return ", ".join(names)

    return [
        _name(o),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        _age(o, now),
        of("User"),
        of("Group"),
        of("ServiceAccount"),
    ]


def _job(o: Obj, now: float) -> list[Any]:
    from opsconsole.duration import human_duration

    from .tables import parse_ts

    spec, st = o.get("spec") or {}, o.get("status") or {}
    conds = {c["type"]: c["status"] for c in st.get("conditions") or ()}
    if conds.get("Complete") == "True":
        status = "Complete"
    elif conds.get("Failed") == "True":
        status = "Failed"
    elif spec.get("suspend"):
        status = "Suspended"
    else:
        status = "Running"
    start, end = parse_ts(st.get("startTime")), parse_ts(st.get("completionTime"))
    duration = human_duration((end or now) - start) if start else ""
    completions = f"{st.get('succeeded', 0)}/{spec.get('completions', 1)}"
    return [_name(o), status, completions, duration, _age(o, now)]


def _cronjob(o: Obj, now: float) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    last = st.get("lastScheduleTime")
    return [
        _name(o),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        str(bool(spec.get("suspend"))),
        len(st.get("active") or []),
        age(last, now) if last else "<none>",
        _age(o, now),
    ]


def _hpa(o: Obj, now: float) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    current = {}
    for cm in st.get("currentMetrics") or ():
        res = cm.get("resource") or {}
        current[res.get("name", cm.get("type", ""))] = res.get("current") or {}
    for m in spec.get("metrics") or ():
        target = (m.get("resource") or {}).get("target") or {}
        name = (m.get("resource") or {}).get("name", m.get("type", ""))
        want = target.get("averageUtilization")
        have = current.get(name) or {}
        if want is not None:
            got = have.get("averageUtilization")
            targets.append(f"{name}: {'<unknown>' if got is None else f'{got}%'}/{want}%")
        else:
            got = have.get("averageValue")
            targets.append(f"{name}: {got or '<unknown>'}/{target.get('averageValue', '')}")
    return [
        _name(o),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        st.get("currentReplicas", 0),
        _age(o, now),
    ]


def _ingress(o: Obj, now: float) -> list[Any]:
    spec = o.get("spec") or {}
    hosts = [r["host"] for r in spec.get("rules") or () if r.get("host")]
    lb = ((o.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname", "") for i in lb)
    return [
        _name(o),
        spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        address,
        "80, 443" if spec.get("tls") else "80",
        _age(o, now),
    ]


def _pdb(o: Obj, now: float) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [
        _name(o),
        spec.get("minAvailable", "N/A"),
        spec.get("maxUnavailable", "N/A"),
        st.get("disruptionsAllowed", 0),
        _age(o, now),
    ]


def _quota(o: Obj, now: float) -> list[Any]:
    hard = (o.get("spec") or {}).get("hard") or {}
    used = (o.get("status") or {}).get("used") or {}
    requests = [k for k in sorted(hard) if not k.startswith("limits.")]
    limits = [k for k in sorted(hard) if k.startswith("limits.")]

    def show(keys: list[str]) -> str:
        return ", ".join(f"{k}: {used.get(k, '0')}/{hard[k]}" for k in keys)

    return [_name(o), _age(o, now), show(requests), show(limits)]


def _netpol(o: Obj, now: float) -> list[Any]:
    sel = ((o.get("spec") or {}).get("podSelector") or {}).get("matchLabels") or {}
    shown = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    return [_name(o), shown or "<none>", _age(o, now)]


CREATED_AT = col("Created At", typ="date")
BINDING_COLS = [
    NAME,
    col("Role"),
    AGE,
    col("Users", prio=1),
    col("Groups", prio=1),
    col("ServiceAccounts", prio=1),
]
RBAC = "rbac.authorization.k8s.io"

_MODES = {
    "ReadWriteOnce": "RWO",
    "ReadOnlyMany": "ROX",
    "ReadWriteMany": "RWX",
    "ReadWriteOncePod": "RWOP",
}


def _modes(modes: list[str] | None) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or ())


def _pvc(o: Obj, now: float) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    return [
        _name(o),
        st.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (st.get("capacity") or {}).get("storage", ""),
        _modes(st.get("accessModes")),
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        _age(o, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _pv(o: Obj, now: float) -> list[Any]:
    spec, st = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("claimRef") or {}
    return [
        _name(o),
        (spec.get("capacity") or {}).get("storage", ""),
        _modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", "Retain"),
        st.get("phase", "Available"),
        f"{ref['namespace']}/{ref['name']}" if ref else "",
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        st.get("reason", ""),
        _age(o, now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _sc(o: Obj, now: float) -> list[Any]:
    default = (o["metadata"].get("annotations") or {}).get(
        "storageclass.kubernetes.io/is-default-class"
    ) == "true"
    return [
        _name(o) + (" (default)" if default else ""),
        o.get("provisioner", ""),
        o.get("reclaimPolicy", "Delete"),
        o.get("volumeBindingMode", "Immediate"),
        bool(o.get("allowVolumeExpansion")),
        _age(o, now),
    ]


def _slice(o: Obj, now: float) -> list[Any]:
    ports = ",".join(str(p.get("port", "")) for p in o.get("ports") or ()) or "<unset>"
    addrs = [a for e in o.get("endpoints") or () for a in e.get("addresses") or ()]
    shown = ",".join(addrs[:3]) + (f" + {len(addrs) - 3} more..." if len(addrs) > 3 else "")
    return [_name(o), o.get("addressType", "IPv4"), ports, shown or "<unset>", _age(o, now)]


PRINTERS: dict[str, tuple[list[Obj], Any]] = {
    "serviceaccounts": (
        [NAME, col("Secrets", typ="integer"), AGE],
        lambda o, now: [_name(o), len(o.get("secrets") or []), _age(o, now)],
    ),
    f"{RBAC}/roles": ([NAME, CREATED_AT], _created_at),
    f"{RBAC}/clusterroles": ([NAME, CREATED_AT], _created_at),
    f"{RBAC}/rolebindings": (BINDING_COLS, _binding),
    f"{RBAC}/clusterrolebindings": (BINDING_COLS, _binding),
    "apiextensions.k8s.io/customresourcedefinitions": ([NAME, CREATED_AT], _created_at),
    "batch/jobs": (
        [NAME, col("Status"), col("Completions"), col("Duration"), AGE],
        _job,
    ),
    "batch/cronjobs": (
        [
            NAME,
            col("Schedule"),
            col("Timezone"),
            col("Suspend", typ="boolean"),
            col("Active", typ="integer"),
            col("Last Schedule"),
            AGE,
        ],
        _cronjob,
    ),
    "autoscaling/horizontalpodautoscalers": (
        [
            NAME,
            col("Reference"),
            col("Targets"),
            col("MinPods", typ="integer"),
            col("MaxPods", typ="integer"),
            col("Replicas", typ="integer"),
            AGE,
        ],
        _hpa,
    ),
    "networking.k8s.io/ingresses": (
        [NAME, col("Class"), col("Hosts"), col("Address"), col("Ports"), AGE],
        _ingress,
    ),
    "networking.k8s.io/networkpolicies": ([NAME, col("Pod-Selector"), AGE], _netpol),
    "policy/poddisruptionbudgets": (
        [
            NAME,
            col("Min Available"),
            col("Max Unavailable"),
            col("Allowed Disruptions", typ="integer"),
            AGE,
        ],
        _pdb,
    ),
    "scheduling.k8s.io/priorityclasses": (
        [
            NAME,
            col("Value", typ="integer"),
            col("Global-Default", typ="boolean"),
            AGE,
            col("PreemptionPolicy"),
        ],
        lambda o, now: [
            _name(o),
            o.get("value", 0),
            bool(o.get("globalDefault")),
            _age(o, now),
            o.get("preemptionPolicy", "PreemptLowerPriority"),
        ],
    ),
    "resourcequotas": ([NAME, AGE, col("Request"), col("Limit")], _quota),
    "persistentvolumeclaims": (
        [
            NAME,
            col("Status"),
            col("Volume"),
            col("Capacity"),
            col("Access Modes"),
            col("StorageClass"),
            col("VolumeAttributesClass"),
            AGE,
            col("VolumeMode", prio=1),
        ],
        _pvc,
    ),
    "persistentvolumes": (
        [
            NAME,
            col("Capacity"),
            col("Access Modes"),
            col("Reclaim Policy"),
            col("Status"),
            col("Claim"),
            col("StorageClass"),
            col("VolumeAttributesClass"),
            col("Reason"),
            AGE,
            col("VolumeMode", prio=1),
        ],
        _pv,
    ),
    "storage.k8s.io/storageclasses": (
        [
            NAME,
            col("Provisioner"),
            col("ReclaimPolicy"),
            col("VolumeBindingMode"),
            col("AllowVolumeExpansion", typ="boolean"),
            AGE,
        ],
        _sc,
    ),
    "discovery.k8s.io/endpointslices": (
        [NAME, col("AddressType"), col("Ports"), col("Endpoints"), AGE],
        _slice,
    ),
}
