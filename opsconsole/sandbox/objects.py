"""Scenario objects other than workloads: namespaces, nodes, services, ConfigMaps, Secrets."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from . import resources as R
from .defaults import DEFAULTS, GENERATION
from .namespaces import default_service_account
from .pods import hname, huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def _seconds(value: Any, default: float = 0.0) -> float:
    from .scenario import seconds

    return seconds(value, default)


def resource_of(api_version: str, kind: str) -> R.Resource | None:
    return next(
        (r for r in R.RESOURCES if r.kind == kind and r.api_version == api_version and r.stored),
        None,
    )


class Objects:
    """Builds a scenario's plain objects into the cluster's store, aged from ``now``."""

    def __init__(self, cluster: Cluster, now: float, age: float) -> None:
        self.c = cluster
        self.now = now
        self.age = age

    def ts(self, age: float) -> str:
        return iso(self.now - age)

    def namespace(self, name: str) -> None:
        obj = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": huid(f"ns/{name}"),
                "creationTimestamp": self.ts(self.age),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }
        self.c.store.put_initial("namespaces", obj)
        created = obj["metadata"]["creationTimestamp"]
        self.c.store.put_initial("serviceaccounts", default_service_account(name, created))

    def node(self, n: dict[str, Any]) -> None:
        name = n["name"]
        idx = len(self.c.store.list("nodes"))
        ip = n.get("ip", f"10.0.{1 + idx // 200}.{11 + idx % 200}")
        pool = n.get("pool", "general")
        cpu, mem = str(n.get("cpu", "4")), str(n.get("memory", "16Gi"))
        capacity = {
            "cpu": cpu,
            "memory": mem,
            "pods": "110",
            "ephemeral-storage": "104845292Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
        }
        if n.get("gpu"):
            capacity["nvidia.com/gpu"] = str(n["gpu"])
        allocatable = dict(capacity)
        allocatable["cpu"] = f"{int(float(cpu) * 1000) - 80}m"
        allocatable["ephemeral-storage"] = "96626364666"
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": n.get("instance_type", "m5.xlarge"),
            "topology.kubernetes.io/region": "eu-west-1",
            "topology.kubernetes.io/zone": n.get("zone", f"eu-west-1{'abc'[idx % 3]}"),
            "opsconsole.dev/pool": pool,
        }
        labels.update(n.get("labels") or {})
        created = self.ts(_seconds(n.get("age"), self.age))
        conds = {
            "MemoryPressure": (
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            "PIDPressure": (
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
        }
        for ctype, ov in (n.get("conditions") or {}).items():
            conds[ctype] = (str(ov["status"]), ov["reason"], ov["message"])
        conditions = [
            {
                "type": t,
                "status": s,
                "lastHeartbeatTime": iso(self.now - 20),
                "lastTransitionTime": created
                if (t != "Ready") == (s == "False")
                else self.ts(_seconds((n.get("conditions") or {}).get(t, {}).get("since"), 3600)),
                "reason": r,
                "message": m,
            }
            for t, (s, r, m) in conds.items()
        ]
        obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "uid": huid(f"node/{name}"),
                "creationTimestamp": created,
                "labels": labels,
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": {
                "podCIDR": f"10.244.{idx}.0/24",
                "podCIDRs": [f"10.244.{idx}.0/24"],
                "providerID": f"aws:///eu-west-1a/i-0{hname(name, 8)}",
            },
            "status": {
                "capacity": capacity,
                "allocatable": allocatable,
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": huid(f"m/{name}").replace("-", ""),
                    "systemUUID": huid(f"s/{name}"),
                    "bootID": huid(f"b/{name}"),
                    "kernelVersion": "6.1.112-124.190.amzn2023.x86_64",
                    "osImage": "Amazon Linux 2023.6.20241121",
                    "containerRuntimeVersion": "containerd://1.7.23",
                    "kubeletVersion": "v1.31.2-eks-94953ac",
                    "kubeProxyVersion": "",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
            },
        }
        if n.get("taints"):
            obj["spec"]["taints"] = [dict(t) for t in n["taints"]]
        if n.get("unschedulable"):
            obj["spec"]["unschedulable"] = True
        if n.get("usage"):
            obj["metadata"]["annotations"]["opsconsole.dev/usage"] = json.dumps(n["usage"])
        self.c.store.put_initial("nodes", obj)
        for ev in n.get("events") or []:
            self.extra_event(obj, ev, component="kubelet", host=name)

    def extra_event(
        self,
        obj: Obj,
        ev: dict[str, Any],
        *,
        component: str,
        host: str = "",
        field_path: str | None = None,
    ) -> None:
        count = int(ev.get("count", 1))
        first = self.now - _seconds(ev.get("first"), 600)
        last = self.now - _seconds(ev.get("last"), 30)
        self.c.event(
            obj,
            ev.get("type", "Normal"),
            ev["reason"],
            ev["message"],
            component=ev.get("component", component),
            host=host,
            field_path=ev.get("field_path", field_path),
            count=count,
            first=first,
            last=last,
        )

    def service(self, s: dict[str, Any]) -> None:
        ns, name = s["namespace"], s["name"]
        ip = (
            s.get("cluster_ip")
            or f"10.96.{int(hname(ns + name, 2).encode().hex(), 16) % 250}."
            f"{int(hname(name + ns, 2).encode().hex(), 16) % 250 + 2}"
        )
        ports = []
        for p in s.get("ports") or []:
            port = {
                "name": p.get("name"),
                "protocol": p.get("protocol", "TCP"),
                "port": p["port"],
                "targetPort": p.get("targetPort", p["port"]),
            }
            if port["name"] is None:
                del port["name"]
            ports.append(port)
        spec: Obj = {
            "ports": ports,
            "clusterIP": ip,
            "clusterIPs": [ip],
            "type": s.get("type", "ClusterIP"),
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        }
        if s.get("selector"):
            spec["selector"] = dict(s["selector"])
        created = self.ts(_seconds(s.get("age"), self.age))
        md = {
            "name": name,
            "namespace": ns,
            "uid": huid(f"svc/{ns}/{name}"),
            "creationTimestamp": created,
            "labels": dict(s.get("labels") or {}),
        }
        self.c.store.put_initial(
            "services",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": md,
                "spec": spec,
                "status": {"loadBalancer": {}},
            },
        )
        ep: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": huid(f"ep/{ns}/{name}"),
                "creationTimestamp": created,
                "labels": dict(s.get("labels") or {}),
            },
        }
        if name == "kubernetes" and ns == "default":
            ep["subsets"] = [
                {
                    "addresses": [{"ip": "10.0.0.2"}],
                    "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
                }
            ]
        self.c.store.put_initial("endpoints", ep)

    def configmap(self, cm: dict[str, Any]) -> None:
        ns, name = cm["namespace"], cm["name"]
        self.c.store.put_initial(
            "configmaps",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": huid(f"cm/{ns}/{name}"),
                    "creationTimestamp": self.ts(_seconds(cm.get("age"), self.age)),
                    "labels": dict(cm.get("labels") or {}),
                },
                "data": {k: str(v) for k, v in (cm.get("data") or {}).items()},
            },
        )

    def secret(self, s: dict[str, Any]) -> None:
        ns, name = s["namespace"], s["name"]
        self.c.store.put_initial(
            "secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": huid(f"secret/{ns}/{name}"),
                    "creationTimestamp": self.ts(_seconds(s.get("age"), self.age)),
                    "labels": dict(s.get("labels") or {}),
                },
                "type": s.get("type", "Opaque"),
                "data": {k: b64(str(v)) for k, v in (s.get("stringData") or {}).items()},
            },
        )

    def manifest(self, m: dict[str, Any]) -> None:
        """Any served kind as a manifest (``objects:`` in a scenario), stored as the API server
        would have stored it, for its controller to act on once the cluster starts. A Job's (or a
        CronJob's) ``fault`` sets what its pods do: ``{exit_code: 1, run_seconds: 5}``."""
        from .scenario import ScenarioError

        m = json.loads(json.dumps(m))
        fault = m.pop("fault", None)
        res = resource_of(m.get("apiVersion", ""), m.get("kind", ""))
        md = m.setdefault("metadata", {})
        if res is None or not md.get("name"):
            raise ScenarioError(
                f"objects: {m.get('apiVersion')}/{m.get('kind')} {md.get('name')!r} is not a "
                "served kind with a name"
            )
        if res.namespaced:
            md.setdefault("namespace", "default")
        ns = md.get("namespace", "")
        md["uid"] = huid(f"{res.key}/{ns}/{md['name']}")
        md["creationTimestamp"] = self.ts(_seconds(m.pop("age", None), self.age))
        if res.key in GENERATION:
            md["generation"] = 1
            m.setdefault("status", {})
        defaults = DEFAULTS.get(res.key)
        if defaults is not None:
            defaults(m)
        if res.key == "persistentvolumeclaims":
            self.c.volumes.admit(m)
        if res.key == "persistentvolumes":
            m["status"] = {"phase": "Available"}
        if fault is not None:
            if res.key not in ("batch/jobs", "batch/cronjobs") or not isinstance(fault, dict):
                raise ScenarioError(f"objects: {md['name']}: a fault is for a Job or a CronJob")
            self.c.behaviours[(res.key, ns, md["name"])] = ("complete", "", dict(fault))
        self.c.store.put_initial(res.key, m)
