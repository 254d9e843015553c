"""The simulated cluster: the store plus a lazy clock-driven simulation.

Nothing polls. Each pod that has something to do (start, crash, back off, be probed, finish
terminating) has one timer on a heap; a single thread sleeps until the next one is due. An idle
healthy cluster therefore costs no CPU. ``speed`` divides every simulated delay.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from .autoscalers import Autoscalers
from .behaviours import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    CRASH_RUN,
    MIN_REAL_PERIOD,
    TERMINATED_FOR,
    Kubelet,
    backoff_for,
)
from .controllers import Controllers
from .controllers_sets import DaemonSets, StatefulSets
from .crds import CustomResources
from .cri import Network, Runtime
from .deployments import Deployments
from .endpoints import Endpoints
from .events_v1 import EventsV1
from .gc import GarbageCollector
from .jobs import CronJobs, Jobs
from .logs import ContainerLog, Instance, LogProfile
from .meta import node_ip
from .namespaces import Namespaces
from .pods import PodRT, hname, render_status
from .resources import Registry
from .scheduler import Scheduler
from .store import DELETED, Obj, Store, iso
from .volumes import Volumes


class LogUnavailable(Exception):
    """400 from the log endpoint, with the kubelet/apiserver message."""


class Cluster:
    def __init__(self, speed: float = 1.0, history_limit: int = 10000) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = float(speed)
        self.store = Store(history_limit)
        self.lock = self.store.lock
        self.epoch = time.time()
        self.rts: dict[tuple[str, str], PodRT] = {}
        self.behaviours: dict[tuple[str, str, str], tuple[str, str, dict]] = {}
        self.profiles: dict[tuple[str, str, str], dict[str, LogProfile]] = {}
        self.events_by_key: dict[tuple, tuple[str, str]] = {}
        self.ip_next: dict[str, int] = {}
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.names = itertools.count()
        self.errors: list[BaseException] = []
        self.building = False  # a scenario is being loaded: no controllers, events stored as-is
        self.store.listeners.append(self._on_change)
        # the collaborators, each with one job, all sharing this state and its clock
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.controllers = Controllers(self)
        self.deployments = Deployments(self)
        self.statefulsets = StatefulSets(self)
        self.daemonsets = DaemonSets(self)
        self.endpoints = Endpoints(self)
        self.jobs = Jobs(self)
        self.cronjobs = CronJobs(self)
        self.volumes = Volumes(self)
        self.autoscalers = Autoscalers(self)
        self.events_v1 = EventsV1(self)
        self.namespaces = Namespaces(self)
        self.registry = Registry()  # the built-in resources and those of the CRDs
        self.crds = CustomResources(self)
        self.gc = GarbageCollector(self)
        # the containers' processes and the pod network, behind the seam of cri.py
        self.runtime: Runtime | None = None
        self.network: Network | None = None

    # --- clock and timers ---------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def after(self, sim_seconds: float, fn: Callable[[], None], *, min_real: float = 0.0) -> None:
        delay = max(sim_seconds / self.speed, min_real)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), fn))
            self._cond.notify()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sandbox-sim", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap and self._heap[0][0] <= time.monotonic():
                        break
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopping:
                    return
                _, _, fn = heapq.heappop(self._heap)
            try:
                with self.lock:
                    fn()
                    self.controllers.flush()
            except Exception as exc:  # keep the simulation alive; tests can inspect errors
                self.errors.append(exc)

    # --- events -------------------------------------------------------------------------
    def event(
        self,
        obj: Obj,
        etype: str,
        reason: str,
        message: str,
        *,
        component: str = "kubelet",
        host: str = "",
        field_path: str | None = None,
        count: int = 1,
        first: float | None = None,
        last: float | None = None,
    ) -> None:
        md = obj["metadata"]
        ns = md.get("namespace") or "default"
        key = (md["uid"], reason, message)
        now = self.now()
        last = now if last is None else last
        existing = self.events_by_key.get(key)
        if existing is not None and self.store.get("events", *existing) is not None:

            def bump(ev: Obj) -> None:
                ev["count"] = int(ev.get("count", 1)) + count
                ev["lastTimestamp"] = iso(last)

            self.store.update("events", existing[0], existing[1], bump)
            return
        first = last if first is None else first
        name = f"{md['name']}.{hname(f'{key}/{next(self.names)}', 16)}"
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": md.get("namespace", ""),
            "name": md["name"],
            "uid": md["uid"],
            "apiVersion": obj.get("apiVersion", "v1"),
            "resourceVersion": md.get("resourceVersion", ""),
        }
        if not md.get("namespace"):
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        source: Obj = {"component": component}
        if host:
            source["host"] = host
        ev: Obj = {
            "kind": "Event",
            "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": iso(first)},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": iso(first),
            "lastTimestamp": iso(last),
            "count": count,
            "type": etype,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        self.events_by_key[key] = (ns, name)
        if self.building:
            self.store.put_initial("events", ev)
        else:
            self.store.create("events", ev)

    # --- change tracking --------------------------------------------------------------
    def _on_change(self, rkey: str, etype: str, old: Obj | None, new: Obj) -> None:
        if rkey != "pods":
            return
        md = new["metadata"]
        key = (md["namespace"], md["name"])
        if etype == DELETED:
            rt = self.rts.get(key)
            if rt is not None and (old is None or old["metadata"]["uid"] == md["uid"]):
                self.rts.pop(key, None)

    # --- pods ---------------------------------------------------------------------------
    def pod_rt(self, ns: str, name: str) -> PodRT | None:
        return self.rts.get((ns, name))

    def refresh_pod(self, ns: str, name: str) -> None:
        rt = self.rts.get((ns, name))
        if rt is None:
            return

        pod = self.store.get("pods", ns, name)
        if pod is not None:
            self.store.set_field("pods", ns, name, "status", render_status(pod, rt))

    def alive(self, ns: str, name: str, rt: PodRT) -> bool:
        pod = self.store.get("pods", ns, name)
        return (
            self.rts.get((ns, name)) is rt
            and pod is not None
            and "deletionTimestamp" not in pod["metadata"]
        )

    def make_logs(self, pod: Obj, rt: PodRT, profiles: dict[str, LogProfile]) -> None:
        md = pod["metadata"]
        for c in pod["spec"]["containers"]:
            prof = profiles.get(c["name"], LogProfile())
            seed = int(hname(md["uid"] + c["name"], 6).encode().hex()[:8], 16)
            rt.logs[c["name"]] = ContainerLog(prof, md["name"], seed, self.speed, self.epoch)

    def allocate_ip(self, node: Obj | None) -> str:
        if node is None:
            return ""
        cidr = node["spec"].get("podCIDR", "10.244.0.0/24")
        base = cidr.split("/")[0].rsplit(".", 1)[0]
        n = self.ip_next.get(base, 10)
        self.ip_next[base] = n + 1 if n < 250 else 10
        return f"{base}.{n}"

    def start_containers(self, ns: str, name: str, rt: PodRT) -> None:
        """ContainerCreating -> the pod's behaviour (called by a timer for new pods)."""
        if not self.alive(ns, name, rt):
            return
        pod = self.store.get("pods", ns, name)
        assert pod is not None
        now = self.now()
        rt.creating = False
        node = rt.node
        for c in pod["spec"]["containers"]:
            cname, image = c["name"], c["image"]
            fp = f"spec.containers{{{cname}}}"
            if rt.behaviour == "imagepull" and cname == rt.fault_container:
                rt.instances[cname] = []
                continue
            rt.instances[cname] = [Instance(start=now)]
            self.event(
                pod, "Normal", "Pulling", f'Pulling image "{image}"', host=node, field_path=fp
            )
            self.event(
                pod,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{image}" in 1.2s (1.2s including waiting). '
                "Image size: 48213011 bytes.",
                host=node,
                field_path=fp,
            )
            self.event(
                pod, "Normal", "Created", f"Created container: {cname}", host=node, field_path=fp
            )
            self.event(
                pod, "Normal", "Started", f"Started container {cname}", host=node, field_path=fp
            )
        self.refresh_pod(ns, name)
        self.kubelet.arm(ns, name, rt, fresh=True)

    # --- deleting pods -------------------------------------------------------------------
    def delete_pod(self, ns: str, name: str, grace: int | None, dry_run: bool = False) -> Obj:
        pod = self.store.get("pods", ns, name)
        assert pod is not None
        if grace is None:
            grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
        if "deletionTimestamp" in pod["metadata"] and not dry_run:
            if grace == 0:
                return self.store.delete("pods", ns, name) or pod
            return pod
        rt = self.rts.get((ns, name))
        now = self.now()
        if grace == 0 or rt is None or not rt.scheduled:
            if dry_run:
                return pod
            final = self.store.delete("pods", ns, name)
            assert final is not None
            self.controllers.flush()
            return final

        def mark(p: Obj) -> None:
            p["metadata"]["deletionTimestamp"] = iso(now + grace)
            p["metadata"]["deletionGracePeriodSeconds"] = grace

        new = self.store.update("pods", ns, name, mark, dry_run=dry_run)
        assert new is not None
        if dry_run:
            return new
        for c in pod["spec"]["containers"]:
            self.event(
                new,
                "Normal",
                "Killing",
                f"Stopping container {c['name']}",
                host=rt.node,
                field_path=f"spec.containers{{{c['name']}}}",
            )
        uid = pod["metadata"]["uid"]

        def finish() -> None:
            cur = self.store.get("pods", ns, name)
            if cur is not None and cur["metadata"]["uid"] == uid:
                if cur["metadata"].get("finalizers"):
                    return  # stays Terminating until its finalizers are removed
                self.store.delete("pods", ns, name)

        self.after(min(float(grace), 2.0), finish)
        self.controllers.flush()
        return new

    def delete_object(self, rkey: str, ns: str, name: str, *, cascade: bool = True) -> Obj | None:
        """DELETE of anything but a pod or a namespace. An object with finalizers is only marked
        (deletionTimestamp) and goes when an update removes the last one; the marked object is
        returned. Otherwise it goes now, with its dependents unless ``cascade`` is false."""
        obj = self.store.get(rkey, ns, name)
        if obj is None:
            return None
        if obj["metadata"].get("finalizers"):
            if "deletionTimestamp" not in obj["metadata"]:
                now = iso(self.now())

                def mark(o: Obj) -> None:
                    o["metadata"]["deletionTimestamp"] = now
                    o["metadata"]["deletionGracePeriodSeconds"] = 0

                obj = self.store.update(rkey, ns, name, mark) or obj
            return obj
        final = self.store.delete(rkey, ns, name)
        if cascade:
            self.controllers.cascade_delete(obj)
        self.controllers.flush()
        return final

    # --- logs ---------------------------------------------------------------------------
    def log_source(
        self, ns: str, name: str, container: str | None, previous: bool
    ) -> tuple[ContainerLog, Instance, str]:
        pod = self.store.get("pods", ns, name)
        rt = self.rts.get((ns, name))
        if pod is None:
            raise KeyError(name)
        names = [c["name"] for c in pod["spec"]["containers"]]
        if container is None:
            if len(names) > 1:  # the apiserver ignores kubectl's default-container annotation
                inits = [c["name"] for c in pod["spec"].get("initContainers") or ()]
                more = f" or one of the init containers: [{' '.join(inits)}]" if inits else ""
                raise LogUnavailable(
                    f"a container name must be specified for pod {name}, "
                    f"choose one of: [{' '.join(names)}]{more}"
                )
            container = names[0]
        if container not in names:
            raise LogUnavailable(f"container {container} is not valid for pod {name}")
        if rt is None or not rt.scheduled:
            raise LogUnavailable(
                f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            )
        if rt.creating or not rt.instances.get(container):
            status = next(
                (s for s in pod["status"].get("containerStatuses", []) if s["name"] == container),
                {},
            )
            reason = (status.get("state", {}).get("waiting") or {}).get(
                "reason", "ContainerCreating"
            )
            if reason == "ImagePullBackOff":
                reason = "trying and failing to pull image"
            raise LogUnavailable(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        inst = rt.previous(container) if previous else rt.current(container)
        if inst is None:
            raise LogUnavailable(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        return rt.logs[container], inst, container

    def create_bare_pod(self, obj: Obj) -> Obj:
        """POST of a pod with no controller: scheduled, ContainerCreating, then Running."""
        from .pods import pod_from_template

        md = obj["metadata"]
        ns, name = md["namespace"], md["name"]
        spec = obj.get("spec") or {}
        if not spec.get("containers"):
            from .api import ApiError

            raise ApiError(
                422,
                "Invalid",
                f'Pod "{name}" is invalid: spec.containers: Required value',
                {"name": name, "kind": "pods"},
            )
        why = ""
        if spec.get("nodeName"):
            node = self.store.get("nodes", "", spec["nodeName"])
        else:
            node, why = self.scheduler.schedule(
                spec, md.get("namespace") or "default", md.get("labels") or {}
            )
        template = {
            "metadata": {
                "labels": md.get("labels") or {},
                "annotations": md.get("annotations") or {},
            },
            "spec": spec,
        }
        pod = pod_from_template(
            template,
            name=name,
            namespace=ns,
            uid=md["uid"],
            created=md["creationTimestamp"],
            owner=None,
            node=node["metadata"]["name"] if node else "",
        )
        behaviour = "healthy" if node else "pending"
        params: dict[str, Any] = {} if node else {"message": why}
        if why:
            params["_then"] = "healthy"
        rt = PodRT(
            behaviour=behaviour,
            fault_container=spec["containers"][0]["name"],
            params=params,
            node=node["metadata"]["name"] if node else "",
            started=self.now(),
            creating=node is not None,
        )
        if node is not None:
            rt.ip = self.allocate_ip(node)
            rt.params["_host_ip"] = node_ip(node)
        self.make_logs(pod, rt, {})
        pod["status"] = render_status(pod, rt)
        self.rts[(ns, name)] = rt
        self.store.create("pods", pod)
        if why:
            self.scheduler.waiting[(ns, name)] = rt
        if node is not None:
            self.event(
                pod,
                "Normal",
                "Scheduled",
                f"Successfully assigned {ns}/{name} to {rt.node}",
                component="default-scheduler",
            )
            self.after(2.0, lambda: self.start_containers(ns, name, rt))
        else:
            self.kubelet.arm(ns, name, rt)
        self.controllers.flush()
        return pod


__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "CRASH_RUN",
    "MIN_REAL_PERIOD",
    "TERMINATED_FOR",
    "Cluster",
    "LogUnavailable",
    "backoff_for",
]
