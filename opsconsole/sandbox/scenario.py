"""Scenarios: YAML data files in ``scenarios/`` turned into cluster objects.

The format (see ``scenarios/demo.yaml`` for a full example): ``nodes``, ``namespaces``,
``workloads`` (Deployment/StatefulSet/DaemonSet with near-Kubernetes ``containers`` plus a
``logs`` profile per container, an optional ``fault`` and, for a Deployment, its earlier
revisions as ``history``), ``services``, ``configmaps``,
``secrets``, ``objects`` (manifests of any served kind: StorageClasses, PVCs, Jobs, CronJobs,
HPAs, RBAC, ...; a Job's ``fault`` gives its pods' ``exit_code``, its ``logs`` their containers'
profiles) and named ``logs`` profiles.
Status, events and log history of each pod are derived from its ``fault`` so they agree with
each other. A fault belongs to the pod template it is declared with: an image pull failure to
that image, an OOM kill or an unschedulable pod to those resources; pods of a template that
changed them (a rollback, a raised limit, a lowered request) run healthy.
"""

from __future__ import annotations

import gc
import json
import re
from importlib import resources as ires
from typing import Any

import yaml

from opsconsole.errors import OpsConsoleError

from . import jobhistory
from .cluster import Cluster, backoff_for
from .logs import Instance, LogProfile
from .meta import node_ip, owner_ref, template_hash
from .objects import Objects
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


class Builder:
    def __init__(self, cluster: Cluster, data: dict[str, Any]) -> None:
        self.c = cluster
        self.data = data
        self.now = cluster.epoch
        self.age = seconds(data.get("age"), 30 * 86400)
        self.profiles = {k: LogProfile.from_data(v) for k, v in (data.get("logs") or {}).items()}
        self.rr = 0
        self.objects = Objects(cluster, self.now, self.age)
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
        c.building = True
        try:
            with c.lock:
                for n in self.data.get("nodes") or []:
                    self.objects.node(n)
                namespaces = list(self.data.get("namespaces") or [])
                for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
                    if ns not in namespaces:
                        namespaces.append(ns)
                for ns in namespaces:
                    self.objects.namespace(ns)
                self.objects.service(
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
                    self.objects.service(s)
                for cm in self.data.get("configmaps") or []:
                    self.objects.configmap(cm)
                for s in self.data.get("secrets") or []:
                    self.objects.secret(s)
                for m in self.data.get("objects") or []:
                    self.manifest(m)
        finally:
            c.building = False
        with c.lock:
            c.crds.load_all()
            c.controllers.reconcile_all()
            for ns in namespaces:
                c.endpoints.sync(ns)
            c.events_v1.mirror_all()
            c.store.compact()

    # --- objects --------------------------------------------------------------------------
    def manifest(self, m: dict[str, Any]) -> None:
        """One of ``objects:``; a Job with a ``fault`` has already run (:mod:`.jobhistory`)."""
        self.manifest_logs(m)
        played = isinstance(m, dict) and m.get("kind") == "Job" and "fault" in m
        age = seconds(m.get("age"), self.age) if isinstance(m, dict) else 0.0
        self.objects.manifest(m)
        if played:
            md = m.get("metadata") or {}
            job = self.c.store.get("batch/jobs", md.get("namespace") or "default", md["name"])
            assert job is not None
            jobhistory.play(self.c, job, self.now - age, self.now, lambda s: self.place({}, s, 0))

    def manifest_logs(self, m: dict[str, Any]) -> None:
        """A Job's or CronJob's ``logs: {container: profile}``: what its pods write."""
        logs = m.pop("logs", None) if isinstance(m, dict) else None
        if not logs:
            return
        if m.get("kind") not in ("Job", "CronJob") or not isinstance(logs, dict):
            raise ScenarioError("objects: logs are for the containers of a Job or a CronJob")
        rkey = "batch/jobs" if m["kind"] == "Job" else "batch/cronjobs"
        md = m.get("metadata") or {}
        profiles = {}
        for container, prof in logs.items():
            if isinstance(prof, str):
                if prof not in self.profiles:
                    raise ScenarioError(f"objects: unknown logs profile {prof!r}")
                profiles[container] = self.profiles[prof]
            else:
                profiles[container] = LogProfile.from_data(prof)
        self.c.profiles[(rkey, md.get("namespace") or "default", md.get("name", ""))] = profiles

    def ts(self, age: float) -> str:
        return iso(self.now - age)

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
        # the fault belongs to the template it is declared with (see Controllers.spawn_pod)
        fc = next(c for c in containers if c["name"] == fault_container)
        fault["_declared"] = {
            "image": fc.get("image"),
            "resources": json.loads(json.dumps(fc.get("resources") or {})),
        }
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
            rs = self.c.deployments.new_replicaset(
                obj, h, replicas, revision, initial=True, created=self.ts(pod_age + 5)
            )
            self.earlier_revisions(obj, w.get("history") or [], age)
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
            for i, node in enumerate(
                self.c.scheduler.eligible_nodes(pod_spec, ignore_conditions=True)
            ):
                nname = node["metadata"]["name"]
                pname = f"{name}-{hname(f'{ns}/{name}/{nname}', 5)}"
                self.pod(obj, rkey, pname, i, w, pod_age, node=nname, generate_name=name + "-")
        for ev in w.get("events") or []:
            self.objects.extra_event(obj, ev, component=f"{kind.lower()}-controller")

    def earlier_revisions(self, dep: Obj, history: list[dict[str, Any]], age: float) -> None:
        """``history``: the Deployment's earlier revisions, each ``{revision, images: {container:
        image}, age}``, as ReplicaSets scaled to 0 (what ``kubectl rollout undo`` goes back to)."""
        for old in history:
            prev: Obj = json.loads(json.dumps(dep))
            images = old.get("images") or {}
            for c in prev["spec"]["template"]["spec"]["containers"]:
                c["image"] = images.get(c["name"], c["image"])
            created = self.ts(seconds(old.get("age"), age))
            h = template_hash(prev["spec"]["template"])
            rev = int(old["revision"])
            self.c.deployments.new_replicaset(prev, h, 0, rev, initial=True, created=created)

    def place(self, w: dict[str, Any], spec: Obj, i: int) -> Obj | None:
        if w.get("nodes"):
            return self.c.store.get("nodes", "", w["nodes"][i % len(w["nodes"])])
        key = json.dumps([spec.get("nodeSelector"), spec.get("tolerations")], sort_keys=True)
        nodes = self._eligible.get(key)
        if nodes is None:
            nodes = self._eligible[key] = self.c.scheduler.eligible_nodes(
                spec, ignore_conditions=True
            )
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
        wl = c.controllers.workload_of(owner, owner_rkey)
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
            c.controllers.owned.setdefault(ref["uid"], set()).add((ns, name))
        self.history_events(pod, rt, age, restarts)
        if behaviour == "pending" and params.get("then"):
            # the scheduler keeps trying: once the pod fits (the fault fixed) it runs as `then`
            rt.params["_then"] = params["then"]
            c.scheduler.waiting[(ns, name)] = rt
        if behaviour != "healthy":
            c.kubelet.arm(ns, name, rt, first_delay=first_delay)

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
