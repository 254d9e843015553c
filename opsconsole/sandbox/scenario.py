"""Scenarios: YAML data files in ``scenarios/`` turned into cluster objects.

The format (see ``scenarios/demo.yaml`` for a full example): ``nodes``, ``namespaces``,
``workloads`` (Deployment/StatefulSet/DaemonSet with near-Kubernetes ``containers`` plus a
``logs`` profile per container and an optional ``fault``), ``services``, ``configmaps``,
``secrets`` and named ``logs`` profiles. Status, events and log history of each pod are derived
from its ``fault`` so they agree with each other.
"""

from __future__ import annotations

import base64
import gc
import json
import re
from importlib import resources as ires
from typing import Any

import yaml

from opsconsole.errors import OpsConsoleError

from .cluster import Cluster, backoff_for
from .controllers import node_ip, owner_ref, template_hash
from .logs import Instance, LogProfile
from .pods import BEHAVIOURS, PodRT, hname, huid, pod_from_template, render_status
from .store import Obj, iso


class UnknownScenario(OpsConsoleError, ValueError):
    """The scenario name is not one of :func:`list_scenarios` (exit code 2)."""

    exit_code = 2

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown scenario {name!r}; known scenarios: {', '.join(known)}")
        self.name = name
        self.known = known


class ScenarioError(ValueError):
    pass


def list_scenarios() -> list[str]:
    root = ires.files("opsconsole.sandbox").joinpath("scenarios")
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name: str) -> dict[str, Any]:
    known = list_scenarios()
    if name not in known:
        raise UnknownScenario(name, known)
    text = ires.files("opsconsole.sandbox").joinpath("scenarios", f"{name}.yaml").read_text()
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ScenarioError(f"scenario {name}: expected a mapping at the top level")
    return data


_DUR = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def seconds(value: Any, default: float = 0.0) -> float:
    if value is None:
        return default
    if isinstance(value, int | float):
        return float(value)
    m = _DUR.match(str(value).strip())
    if not m:
        raise ScenarioError(f"bad duration {value!r} (use e.g. 90s, 15m, 3h, 21d)")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


class Builder:
    def __init__(self, cluster: Cluster, data: dict[str, Any]) -> None:
        self.c = cluster
        self.data = data
        self.now = cluster.epoch
        self.age = seconds(data.get("age"), 30 * 86400)
        self.profiles = {k: LogProfile.from_data(v) for k, v in (data.get("logs") or {}).items()}
        self.rr = 0
        self._eligible: dict[str, list[Obj]] = {}

    def build(self) -> None:
        gc_was_on = gc.isenabled()
        gc.disable()  # thousands of small dicts: collection passes would dominate the build
        try:
            self._build()
        finally:
            if gc_was_on:
                gc.enable()

    def _build(self) -> None:
        c = self.c
        c._building = True
        try:
            with c.lock:
                for n in self.data.get("nodes") or []:
                    self.node(n)
                namespaces = list(self.data.get("namespaces") or [])
                for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
                    if ns not in namespaces:
                        namespaces.append(ns)
                for ns in namespaces:
                    self.namespace(ns)
                self.service(
                    {
                        "namespace": "default",
                        "name": "kubernetes",
                        "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                        "cluster_ip": "10.96.0.1",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    }
                )
                for w in self.data.get("workloads") or []:
                    self.workload(w)
                for s in self.data.get("services") or []:
                    self.service(s)
                for cm in self.data.get("configmaps") or []:
                    self.configmap(cm)
                for s in self.data.get("secrets") or []:
                    self.secret(s)
        finally:
            c._building = False
        with c.lock:
            c.reconcile_all()
            for ns in namespaces:
                c.endpoints_for(ns)
            c.store.compact()

    # --- objects --------------------------------------------------------------------------
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
        created = self.ts(seconds(n.get("age"), self.age))
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
                else self.ts(seconds((n.get("conditions") or {}).get(t, {}).get("since"), 3600)),
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
        first = self.now - seconds(ev.get("first"), 600)
        last = self.now - seconds(ev.get("last"), 30)
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
        created = self.ts(seconds(s.get("age"), self.age))
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
                    "creationTimestamp": self.ts(seconds(cm.get("age"), self.age)),
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
                    "creationTimestamp": self.ts(seconds(s.get("age"), self.age)),
                    "labels": dict(s.get("labels") or {}),
                },
                "type": s.get("type", "Opaque"),
                "data": {k: b64(str(v)) for k, v in (s.get("stringData") or {}).items()},
            },
        )

    # --- workloads --------------------------------------------------------------------------
    def workload(self, w: dict[str, Any]) -> None:
        kind = w.get("kind", "Deployment")
        ns, name = w["namespace"], w["name"]
        labels = dict(w.get("labels") or {"app": name})
        age = seconds(w.get("age"), self.age)
        containers, profiles = [], {}
        for cdef in w["containers"]:
            cdef = dict(cdef)
            prof = cdef.pop("logs", None)
            if isinstance(prof, str):
                if prof not in self.profiles:
                    raise ScenarioError(f"{ns}/{name}: unknown log profile {prof!r}")
                profiles[cdef["name"]] = self.profiles[prof]
            elif isinstance(prof, dict):
                profiles[cdef["name"]] = LogProfile.from_data(prof)
            containers.append(cdef)
        pod_spec: Obj = dict(w.get("pod") or {})
        pod_spec["containers"] = containers
        template: Obj = {"metadata": {"labels": dict(labels)}, "spec": pod_spec}
        if w.get("pod_annotations"):
            template["metadata"]["annotations"] = dict(w["pod_annotations"])
        rkey = {
            "Deployment": "apps/deployments",
            "StatefulSet": "apps/statefulsets",
            "DaemonSet": "apps/daemonsets",
        }.get(kind)
        if rkey is None:
            raise ScenarioError(f"{ns}/{name}: unsupported kind {kind!r}")
        fault = dict(w.get("fault") or {})
        behaviour = fault.pop("type", "healthy")
        if behaviour not in BEHAVIOURS:
            raise ScenarioError(f"{ns}/{name}: unknown fault type {behaviour!r}")
        fault_container = fault.pop("container", containers[0]["name"])
        self.c.behaviours[(rkey, ns, name)] = (behaviour, fault_container, fault)
        self.c.profiles[(rkey, ns, name)] = profiles
        replicas = int(w.get("replicas", 1))
        spec: Obj = {"selector": {"matchLabels": dict(labels)}, "template": template}
        if kind != "DaemonSet":
            spec["replicas"] = replicas
        if kind == "Deployment":
            spec.update(
                strategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                },
                revisionHistoryLimit=10,
                progressDeadlineSeconds=600,
            )
        elif kind == "StatefulSet":
            spec.update(
                serviceName=w.get("service_name", name),
                podManagementPolicy="OrderedReady",
                updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            )
        else:
            spec.update(
                updateStrategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                },
                revisionHistoryLimit=10,
            )
        revision = int(w.get("revision", 1))
        obj: Obj = {
            "apiVersion": "apps/v1",
            "kind": kind,
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": huid(f"{kind}/{ns}/{name}"),
                "creationTimestamp": self.ts(age),
                "generation": revision,
                "labels": dict(w.get("object_labels") or labels),
                "annotations": dict(w.get("annotations") or {}),
            },
            "spec": spec,
            "status": {},
        }
        if kind == "Deployment":
            obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = str(revision)
        self.c.store.put_initial(rkey, obj)
        pod_age = seconds(fault.get("since"), min(age, seconds(w.get("pod_age"), age)))
        if kind == "Deployment":
            h = template_hash(template)
            rs = self.c.new_replicaset(
                obj, h, replicas, revision, initial=True, created=self.ts(pod_age + 5)
            )
            for i in range(replicas):
                pname = f"{rs['metadata']['name']}-{hname(f'{ns}/{name}/{i}', 5)}"
                self.pod(
                    rs,
                    "apps/replicasets",
                    pname,
                    i,
                    w,
                    pod_age,
                    generate_name=rs["metadata"]["name"] + "-",
                )
        elif kind == "StatefulSet":
            for i in range(replicas):
                pname = f"{name}-{i}"
                self.pod(
                    obj,
                    rkey,
                    pname,
                    i,
                    w,
                    pod_age,
                    extra={
                        "statefulset.kubernetes.io/pod-name": pname,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                )
        else:
            for i, node in enumerate(self.c.eligible_nodes(pod_spec, ignore_conditions=True)):
                nname = node["metadata"]["name"]
                pname = f"{name}-{hname(f'{ns}/{name}/{nname}', 5)}"
                self.pod(obj, rkey, pname, i, w, pod_age, node=nname, generate_name=name + "-")
        for ev in w.get("events") or []:
            self.extra_event(obj, ev, component=f"{kind.lower()}-controller")

    def place(self, w: dict[str, Any], spec: Obj, i: int) -> Obj | None:
        if w.get("nodes"):
            return self.c.store.get("nodes", "", w["nodes"][i % len(w["nodes"])])
        key = json.dumps([spec.get("nodeSelector"), spec.get("tolerations")], sort_keys=True)
        nodes = self._eligible.get(key)
        if nodes is None:
            nodes = self._eligible[key] = self.c.eligible_nodes(spec, ignore_conditions=True)
        if not nodes:
            return None
        self.rr += 1
        return nodes[(self.rr * 7 + i) % len(nodes)]

    def pod(
        self,
        owner: Obj,
        owner_rkey: str,
        name: str,
        i: int,
        w: dict[str, Any],
        age: float,
        *,
        node: str | None = None,
        extra: dict[str, str] | None = None,
        generate_name: str | None = None,
    ) -> None:
        c = self.c
        ns = owner["metadata"]["namespace"]
        wl = c.workload_of(owner, owner_rkey)
        behaviour, fault_container, params = c.behaviours[wl]
        template = owner["spec"]["template"]
        node_obj = None
        if behaviour != "pending":
            node_obj = (
                c.store.get("nodes", "", node) if node else self.place(w, template["spec"], i)
            )
        created = self.now - age + 3 + i
        pod = pod_from_template(
            template,
            name=name,
            namespace=ns,
            uid=huid(f"pod/{ns}/{name}"),
            created=iso(created),
            owner=owner_ref(owner),
            node=node_obj["metadata"]["name"] if node_obj else "",
            extra_labels=extra,
            generate_name=generate_name,
        )
        rt = PodRT(
            behaviour=behaviour,
            fault_container=fault_container,
            params=dict(params),
            node=node_obj["metadata"]["name"] if node_obj else "",
            started=created + 1,
            owner=wl,
        )
        if node_obj is not None:
            rt.ip = c.allocate_ip(node_obj)
            rt.params["_host_ip"] = node_ip(node_obj)
        c.make_logs(pod, rt, c.profiles.get(wl, {}))
        jitter = (int(hname(name, 3).encode().hex(), 16) % 60) / 100 + 0.2  # 0.2 .. 0.8
        first_delay = None
        for cdef in template["spec"]["containers"]:
            rt.instances[cdef["name"]] = [Instance(start=created + 2)]
        restarts = int(params.get("restarts", 6))
        if behaviour in ("crashloop", "oomkilled"):
            run = 2.0 if behaviour == "crashloop" else float(params.get("run_seconds", 20))
            rt.backoff = backoff_for(restarts - 1)
            end2 = self.now - rt.backoff * (1 - jitter) - 1
            start2 = end2 - run
            end1 = start2 - backoff_for(restarts - 2) - 1
            rt.instances[fault_container] = [
                Instance(start=end1 - run, end=end1, crashed=True),
                Instance(start=start2, end=end2, crashed=True),
            ]
            rt.base_restarts = restarts - 1
            rt.sub = "waiting"
            first_delay = rt.backoff * jitter
        elif behaviour == "imagepull":
            rt.instances[fault_container] = []
            rt.backoff = backoff_for(restarts)
            first_delay = rt.backoff * jitter
        elif behaviour in ("unready", "pending"):
            first_delay = 10.0 * jitter
        pod["status"] = render_status(pod, rt)
        c.rts[(ns, name)] = rt
        c.store.put_initial("pods", pod)
        for ref in pod["metadata"]["ownerReferences"]:
            c.owned.setdefault(ref["uid"], set()).add((ns, name))
        self.history_events(pod, rt, age, restarts)
        if behaviour != "healthy":
            c.arm(ns, name, rt, first_delay=first_delay)

    def history_events(self, pod: Obj, rt: PodRT, age: float, restarts: int) -> None:
        b = rt.behaviour
        c = self.c
        if b == "healthy":
            return
        cname = rt.fault_container
        image = next(x["image"] for x in pod["spec"]["containers"] if x["name"] == cname)
        fp = f"spec.containers{{{cname}}}"
        md = pod["metadata"]
        first = self.now - age + 5
        last = self.now - 20
        kw: dict[str, Any] = {"host": rt.node, "field_path": fp, "first": first, "last": last}
        if b in ("crashloop", "oomkilled"):
            c.event(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                count=restarts,
                **kw,
            )
            c.event(
                pod, "Normal", "Created", f"Created container: {cname}", count=restarts + 1, **kw
            )
            c.event(
                pod, "Normal", "Started", f"Started container {cname}", count=restarts + 1, **kw
            )
            c.event(
                pod,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container {cname} in pod "
                f"{md['name']}_{md['namespace']}({md['uid']})",
                count=restarts * 4 + 3,
                **kw,
            )
        elif b == "imagepull":
            n = restarts + 1
            msg = rt.params.get("pull_message") or (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to '
                f'pull and unpack image "{image}": failed to resolve reference "{image}": '
                f"{image}: not found"
            )
            c.event(pod, "Normal", "Pulling", f'Pulling image "{image}"', count=n, **kw)
            c.event(pod, "Warning", "Failed", msg, count=n, **kw)
            c.event(pod, "Warning", "Failed", "Error: ErrImagePull", count=n, **kw)
            c.event(
                pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', count=n * 4 + 2, **kw
            )
            c.event(pod, "Warning", "Failed", "Error: ImagePullBackOff", count=n * 4 + 2, **kw)
        elif b == "unready":
            period = float(rt.params.get("period", 10))
            msg = rt.params.get(
                "probe_message", "Readiness probe failed: HTTP probe failed with statuscode: 503"
            )
            c.event(
                pod, "Warning", "Unhealthy", msg, count=max(1, int(min(age, 3600) / period)), **kw
            )
        elif b == "pending":
            c.event(
                pod,
                "Warning",
                "FailedScheduling",
                rt.params.get("message", ""),
                component="default-scheduler",
                count=max(1, int(min(age, 3600) / 60)),
                first=first,
                last=last,
            )


def build_cluster(cluster: Cluster, data: dict[str, Any]) -> None:
    Builder(cluster, data).build()
