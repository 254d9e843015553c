"""Prometheus exporters of the simulated cluster, in the names and labels of the real ones.

Three scrape targets, each a ``prometheus_client`` collector rendered by ``generate_latest``:

- ``/metrics/kube-state``: kube-state-metrics (pod phase, container restarts, waiting and last
  terminated reasons, resource requests and limits, Deployments, nodes' conditions, HPAs, Jobs);
- ``/metrics/cadvisor``: the kubelet's cAdvisor (working set memory, CPU seconds, CFS periods
  and throttled periods) of every running container;
- ``/metrics/apps/<namespace>/<service>``: the application metrics of the demo's web,
  checkout and payment-api (``http_requests_total{code}``, ``http_request_duration_seconds``);
  a service with no ready pod answers 503, so Prometheus sees the target down.

Every figure is a function of the cluster's state at time ``t`` (:class:`PodClock`), so the
history that :mod:`.history` backfills and the live scrapes tell one story: the OOM-killed
container's memory climbs to its limit during each run, restarts step up at each restart, and
web answers 5xx while checkout has no ready pod.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest

from .behaviours import CRASH_RUN, backoff_for
from .metrics import container_usage, cpu_millis, mem_bytes
from .pods import COMPLETES, PodRT
from .selectors import label_selector
from .store import Obj

if TYPE_CHECKING:
    from .cluster import Cluster

#: what ``/metrics/<name>`` serves
EXPORTERS = ("kube-state", "cadvisor")
#: the demo's services with application metrics: (namespace, service) -> requests per second
APP_SERVICES: dict[tuple[str, str], float] = {
    ("shop", "web"): 12.0,
    ("shop", "checkout"): 3.0,
    ("payments", "payment-api"): 2.5,
}
#: a service that calls another: its requests to it fail (502) while the callee has no ready pod
APP_CALLS: dict[tuple[str, str], tuple[tuple[str, str], float]] = {
    ("shop", "web"): (("shop", "checkout"), 0.12),
    ("shop", "checkout"): (("payments", "payment-api"), 0.5),
}
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: the share of requests under each bucket's bound: healthy, and when a callee fails (timeouts)
_LATENCY_OK = (0.55, 0.8, 0.95, 0.99, 0.998, 1.0, 1.0)
_LATENCY_FAILING = (0.4, 0.62, 0.78, 0.84, 0.86, 0.9, 1.0)
_PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
_WAITING = ("ContainerCreating", "CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff")


@lru_cache(maxsize=8192)
def _iso_seconds(value: str | None) -> float:
    if not value:
        return 0.0
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class PodClock:
    """When a crash-looping container ran and restarted, from its runtime state: the known
    instances, and before them the restarts its backoff implies back to the pod's creation."""

    created: float
    run: float
    restarts_now: int
    #: instance starts, ascending (the first is the container's first start)
    starts: list[float]

    @classmethod
    def of(cls, pod: Obj, rt: PodRT) -> PodClock:
        created = _iso_seconds(pod["metadata"].get("creationTimestamp"))
        run = CRASH_RUN if rt.behaviour == "crashloop" else float(rt.params.get("run_seconds", 20))
        insts = rt.instances.get(rt.fault_container, [])
        known = [i.start for i in insts]
        restarts_now = rt.restarts(rt.fault_container)
        starts = list(known)
        n = restarts_now - max(len(known) - 1, 0)  # restarts before the first known start
        t = known[0] if known else created
        while n > 0 and t > created + 2:
            t -= run + 1 + backoff_for(n - 1)
            starts.insert(0, max(t, created + 2))
            n -= 1
        if not starts or starts[0] > created + 2.5:
            starts.insert(0, created + 2)
        return cls(created, run, restarts_now, starts)

    def restarts(self, t: float) -> int:
        later = sum(1 for s in self.starts[1:] if s > t)
        return max(self.restarts_now - later, 0)

    def running_since(self, t: float) -> float | None:
        """The start of the run going on at ``t``, or None (backing off)."""
        for s in reversed(self.starts):
            if s <= t:
                return s if t < s + self.run else None
        return None


@dataclass
class Traffic:
    """One service's request counters, advanced scrape by scrape (or step by step for the
    history): rates follow whether its callee has a ready pod at that moment."""

    rate: float
    started: float
    last: float = 0.0
    by_code: dict[str, float] = field(default_factory=dict)
    buckets: list[float] = field(default_factory=lambda: [0.0] * len(BUCKETS))
    count: float = 0.0
    total_seconds: float = 0.0

    def advance(self, t: float, callee_down: bool, call_share: float) -> None:
        if self.last == 0.0:
            self.last = self.started
        dt = t - self.last
        if dt <= 0:
            return
        self.last = t
        n = self.rate * (1 + 0.15 * math.sin(t / 600)) * dt
        failed = n * call_share if callee_down else n * 0.001
        for code, share in (("200", 0.97), ("201", 0.02), ("404", 0.01)):
            self.by_code[code] = self.by_code.get(code, 0.0) + (n - failed) * share
        if callee_down:
            self.by_code["502"] = self.by_code.get("502", 0.0) + failed * 0.8
            self.by_code["504"] = self.by_code.get("504", 0.0) + failed * 0.2
        else:
            self.by_code["500"] = self.by_code.get("500", 0.0) + failed
        shares = _LATENCY_FAILING if callee_down else _LATENCY_OK
        for i, share in enumerate(shares):
            self.buckets[i] += n * share
        self.count += n
        self.total_seconds += n * (0.9 if callee_down else 0.08)


class Exporters:
    """The exporters of one cluster (the traffic counters live here between scrapes)."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self.traffic: dict[tuple[str, str], Traffic] = {}
        self._clocks: dict[str, PodClock] = {}

    # -- what is served ---------------------------------------------------------------

    def render(self, name: str) -> bytes | None:
        """The text exposition of exporter ``name`` now (None: no such exporter)."""
        now = self.c.now()
        with self.c.lock:
            if name == "kube-state":
                families = list(self.kube_state(now))
            elif name == "cadvisor":
                families = list(self.cadvisor(now))
            else:
                return None
        return generate_latest(_Families(families))

    def render_app(self, namespace: str, service: str) -> bytes | None:
        """The service's application metrics; None when it has none or no ready pod."""
        key = (namespace, service)
        if key not in APP_SERVICES:
            return None
        now = self.c.now()
        with self.c.lock:
            if not self.service_ready(namespace, service, now):
                return None
            families = list(self.app(namespace, service, now))
        return generate_latest(_Families(families))

    def app_targets(self) -> list[tuple[str, str]]:
        """The demo's services with application metrics that this cluster has."""
        return [k for k in APP_SERVICES if self.c.store.get("services", k[0], k[1]) is not None]

    # -- state at time t ----------------------------------------------------------------

    def pods(self, t: float) -> Iterator[tuple[Obj, PodRT | None]]:
        for pod in list(self.c.store.objects.get("pods", {}).values()):
            md = pod["metadata"]
            if _iso_seconds(md.get("creationTimestamp")) > t:
                continue
            yield pod, self.c.pod_rt(md["namespace"], md["name"])

    def clock(self, pod: Obj, rt: PodRT) -> PodClock | None:
        if rt.behaviour not in ("crashloop", "oomkilled"):
            return None
        uid = pod["metadata"]["uid"]
        clock = self._clocks.get(uid)
        if clock is None or clock.restarts_now != rt.restarts(rt.fault_container):
            clock = self._clocks[uid] = PodClock.of(pod, rt)
        return clock

    def running_since(self, pod: Obj, rt: PodRT | None, cname: str, t: float) -> float | None:
        """When container ``cname`` started its current run at ``t`` (None: not running)."""
        live = t >= self.c.now() - 1
        if live:
            for s in (pod.get("status") or {}).get("containerStatuses") or []:
                if s["name"] == cname:
                    running = s.get("state", {}).get("running")
                    return _iso_seconds(running["startedAt"]) if running else None
            return None
        if rt is None or (pod.get("status") or {}).get("phase") != "Running":
            return None
        if cname == rt.fault_container:
            clock = self.clock(pod, rt)
            if clock is not None:
                return clock.running_since(t)
        return _iso_seconds(pod["metadata"].get("creationTimestamp")) + 2

    def restarts(self, pod: Obj, rt: PodRT | None, cname: str, status: Obj, t: float) -> int:
        if rt is not None and cname == rt.fault_container and t < self.c.now() - 1:
            clock = self.clock(pod, rt)
            if clock is not None:
                return clock.restarts(t)
        return int(status.get("restartCount", 0))

    def waiting_reason(
        self, pod: Obj, rt: PodRT | None, cname: str, status: Obj, t: float
    ) -> str | None:
        reason = (status.get("state", {}).get("waiting") or {}).get("reason")
        if rt is None or t >= self.c.now() - 1 or cname != rt.fault_container:
            return reason
        clock = self.clock(pod, rt)
        if clock is not None:  # a crash loop: backing off between runs
            return None if clock.running_since(t) is not None else "CrashLoopBackOff"
        return reason

    def memory(self, pod: Obj, rt: PodRT | None, c: Obj, since: float, t: float) -> float:
        """Working set bytes: the sandbox's usage figure, except that a container the kernel
        kills for memory climbs from half its limit to the limit during each run."""
        _, mem = container_usage(self.c, pod, c, t)
        limit = mem_bytes(((c.get("resources") or {}).get("limits") or {}).get("memory"))
        if rt is not None and rt.behaviour == "oomkilled" and c["name"] == rt.fault_container:
            run = float(rt.params.get("run_seconds", 20))
            frac = min(max((t - since) / run, 0.0), 1.0) if run > 0 else 1.0
            if limit:
                return limit * (0.5 + 0.49 * math.sqrt(frac))
        return mem

    def service_ready(self, namespace: str, service: str, t: float) -> bool:
        """Whether a pod behind the Service is ready at ``t`` (its fault not started yet)."""
        svc = self.c.store.get("services", namespace, service)
        if svc is None:
            return False
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            return False
        match = label_selector(",".join(f"{k}={v}" for k, v in selector.items()))
        live = t >= self.c.now() - 1
        for pod in self.c.store.objects.get("pods", {}).values():
            if pod["metadata"].get("namespace") != namespace:
                continue
            if not match(pod):
                continue
            if not live:
                rt = self.c.pod_rt(namespace, pod["metadata"]["name"])
                created = _iso_seconds(pod["metadata"].get("creationTimestamp"))
                if rt is None or rt.behaviour in ("healthy", COMPLETES) or t < created:
                    return True  # healthy now, or an earlier (healthy) pod served at t
                continue
            conds = (pod.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
                return True
        return False

    def since(self, key: tuple[str, str], t: float) -> float:
        """When the service's oldest pod was created (its counters count from there)."""
        svc = self.c.store.get("services", *key)
        selector = ((svc or {}).get("spec") or {}).get("selector") or {}
        match = label_selector(",".join(f"{k}={v}" for k, v in selector.items()))
        created = [
            _iso_seconds(p["metadata"].get("creationTimestamp"))
            for p in self.c.store.objects.get("pods", {}).values()
            if selector and p["metadata"].get("namespace") == key[0] and match(p)
        ]
        return min([*created, t])

    # -- the three exporters --------------------------------------------------------------

    def kube_state(self, t: float) -> Iterator[Metric]:
        labels_pod = ["namespace", "pod", "uid"]
        phase = GaugeMetricFamily(
            "kube_pod_status_phase", "The pods current phase.", labels=[*labels_pod, "phase"]
        )
        info = GaugeMetricFamily(
            "kube_pod_info",
            "Information about pod.",
            labels=[*labels_pod, "node", "host_ip", "pod_ip", "created_by_kind", "created_by_name"],
        )
        ready = GaugeMetricFamily(
            "kube_pod_status_ready",
            "Describes whether the pod is ready to serve requests.",
            labels=[*labels_pod, "condition"],
        )
        clabels = [*labels_pod, "container"]
        restarts = CounterMetricFamily(
            "kube_pod_container_status_restarts",
            "The number of container restarts per container.",
            labels=clabels,
        )
        waiting = GaugeMetricFamily(
            "kube_pod_container_status_waiting_reason",
            "Describes the reason the container is currently in waiting state.",
            labels=[*clabels, "reason"],
        )
        terminated = GaugeMetricFamily(
            "kube_pod_container_status_last_terminated_reason",
            "Describes the last reason the container was in terminated state.",
            labels=[*clabels, "reason"],
        )
        rlabels = [*clabels, "node", "resource", "unit"]
        limits = GaugeMetricFamily(
            "kube_pod_container_resource_limits",
            "The number of requested limit resource by a container.",
            labels=rlabels,
        )
        requests = GaugeMetricFamily(
            "kube_pod_container_resource_requests",
            "The number of requested request resource by a container.",
            labels=rlabels,
        )
        for pod, rt in self.pods(t):
            md, st = pod["metadata"], pod.get("status") or {}
            base = [md["namespace"], md["name"], md["uid"]]
            current = st.get("phase", "Pending")
            for p in _PHASES:
                phase.add_metric([*base, p], 1.0 if p == current else 0.0)
            owner = (md.get("ownerReferences") or [{}])[0]
            node = pod["spec"].get("nodeName", "")
            info.add_metric(
                [
                    *base,
                    node,
                    st.get("hostIP", ""),
                    st.get("podIP", ""),
                    owner.get("kind", "<none>"),
                    owner.get("name", "<none>"),
                ],
                1.0,
            )
            is_ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in st.get("conditions") or []
            )
            for cond in ("true", "false", "unknown"):
                ready.add_metric(
                    [*base, cond],
                    1.0 if (cond == "true") == is_ready and cond != "unknown" else 0.0,
                )
            statuses = {s["name"]: s for s in st.get("containerStatuses") or []}
            for c in pod["spec"]["containers"]:
                cl = [*base, c["name"]]
                s = statuses.get(c["name"], {})
                restarts.add_metric(cl, float(self.restarts(pod, rt, c["name"], s, t)))
                reason = self.waiting_reason(pod, rt, c["name"], s, t)
                if reason:
                    waiting.add_metric([*cl, reason], 1.0)
                last = (s.get("lastState") or {}).get("terminated") or {}
                if last.get("reason") and _iso_seconds(last.get("finishedAt")) <= t + 1:
                    terminated.add_metric([*cl, last["reason"]], 1.0)
                elif last.get("reason") and rt is not None and (clock := self.clock(pod, rt)):
                    if clock.restarts(t) > 0:
                        terminated.add_metric([*cl, last["reason"]], 1.0)
                res = c.get("resources") or {}
                for family, values in (
                    (limits, res.get("limits")),
                    (requests, res.get("requests")),
                ):
                    for resource, unit, value in _resources(values or {}):
                        family.add_metric([*cl, node, resource, unit], value)
        yield from (phase, info, ready, restarts, waiting, terminated, limits, requests)
        yield from self._workloads()

    def _workloads(self) -> Iterator[Metric]:
        objs = self.c.store.objects
        dl = ["namespace", "deployment"]
        spec = GaugeMetricFamily(
            "kube_deployment_spec_replicas", "Number of desired pods for a deployment.", labels=dl
        )
        avail = GaugeMetricFamily(
            "kube_deployment_status_replicas_available",
            "The number of available replicas per deployment.",
            labels=dl,
        )
        unavail = GaugeMetricFamily(
            "kube_deployment_status_replicas_unavailable",
            "The number of unavailable replicas per deployment.",
            labels=dl,
        )
        for d in objs.get("apps/deployments", {}).values():
            key = [d["metadata"]["namespace"], d["metadata"]["name"]]
            status = d.get("status") or {}
            spec.add_metric(key, float((d.get("spec") or {}).get("replicas", 1)))
            avail.add_metric(key, float(status.get("availableReplicas", 0)))
            unavail.add_metric(key, float(status.get("unavailableReplicas", 0)))
        cond = GaugeMetricFamily(
            "kube_node_status_condition",
            "The condition of a cluster node.",
            labels=["node", "condition", "status"],
        )
        for n in objs.get("nodes", {}).values():
            for c in (n.get("status") or {}).get("conditions") or []:
                for s in ("true", "false", "unknown"):
                    value = 1.0 if str(c.get("status", "Unknown")).lower() == s else 0.0
                    cond.add_metric([n["metadata"]["name"], c["type"], s], value)
        hl = ["namespace", "horizontalpodautoscaler"]
        cur = GaugeMetricFamily(
            "kube_horizontalpodautoscaler_status_current_replicas",
            "Current number of replicas of pods managed by this autoscaler.",
            labels=hl,
        )
        hmax = GaugeMetricFamily(
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "Upper limit for the number of pods that can be set by the autoscaler; cannot be "
            "smaller than MinReplicas.",
            labels=hl,
        )
        hmin = GaugeMetricFamily(
            "kube_horizontalpodautoscaler_spec_min_replicas",
            "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
            labels=hl,
        )
        for h in objs.get("autoscaling/horizontalpodautoscalers", {}).values():
            key = [h["metadata"]["namespace"], h["metadata"]["name"]]
            hs = h.get("spec") or {}
            cur.add_metric(key, float((h.get("status") or {}).get("currentReplicas", 0)))
            hmax.add_metric(key, float(hs.get("maxReplicas", 1)))
            hmin.add_metric(key, float(hs.get("minReplicas", 1)))
        jl = ["namespace", "job_name"]
        failed = GaugeMetricFamily(
            "kube_job_status_failed", "The number of pods which reached Phase Failed.", labels=jl
        )
        succeeded = GaugeMetricFamily(
            "kube_job_status_succeeded",
            "The number of pods which reached Phase Succeeded.",
            labels=jl,
        )
        active = GaugeMetricFamily(
            "kube_job_status_active", "The number of actively running pods.", labels=jl
        )
        for j in objs.get("batch/jobs", {}).values():
            key = [j["metadata"]["namespace"], j["metadata"]["name"]]
            js = j.get("status") or {}
            failed.add_metric(key, float(js.get("failed", 0)))
            succeeded.add_metric(key, float(js.get("succeeded", 0)))
            active.add_metric(key, float(js.get("active", 0)))
        yield from (spec, avail, unavail, cond, cur, hmax, hmin, failed, succeeded, active)

    def cadvisor(
        self, t: float, only: set[str] | None = None, pods: set[str] | None = None
    ) -> Iterator[Metric]:
        """cAdvisor's container metrics (``only``: just the families named; ``pods``: just
        the pods named)."""
        cl = ["namespace", "pod", "container", "node", "image"]
        mem = GaugeMetricFamily(
            "container_memory_working_set_bytes",
            "Current working set of the container in bytes",
            labels=cl,
        )
        cpu = CounterMetricFamily(
            "container_cpu_usage_seconds", "Cumulative cpu time consumed in seconds.", labels=cl
        )
        periods = CounterMetricFamily(
            "container_cpu_cfs_periods",
            "Number of elapsed enforcement period intervals.",
            labels=cl,
        )
        throttled = CounterMetricFamily(
            "container_cpu_cfs_throttled_periods",
            "Number of throttled period intervals.",
            labels=cl,
        )
        for pod, rt in self.pods(t):
            md = pod["metadata"]
            if pods is not None and md["name"] not in pods:
                continue
            for c in pod["spec"]["containers"]:
                since = self.running_since(pod, rt, c["name"], t)
                if since is None or since > t:
                    continue
                key = [
                    md["namespace"],
                    md["name"],
                    c["name"],
                    pod["spec"].get("nodeName", ""),
                    c["image"],
                ]
                mem.add_metric(key, self.memory(pod, rt, c, since, t))
                if only is not None and only == {mem.name}:
                    continue
                rate, _ = container_usage(self.c, pod, c, since)
                elapsed = max(t - since, 0.0)
                cpu.add_metric(key, rate / 1000 * elapsed)
                limit = cpu_millis(((c.get("resources") or {}).get("limits") or {}).get("cpu"))
                if limit:
                    n = math.floor(elapsed * 10)  # 100 ms CFS periods
                    periods.add_metric(key, float(n))
                    share = min(max(rate / limit - 0.6, 0.0) * 1.5, 0.9)
                    throttled.add_metric(key, float(math.floor(n * share)))
        for family in (mem, cpu, periods, throttled):
            if only is None or family.name in only:
                yield family

    def app(self, namespace: str, service: str, t: float) -> Iterator[Metric]:
        key = (namespace, service)
        traffic = self.traffic.get(key)
        if traffic is None:
            traffic = self.traffic[key] = Traffic(APP_SERVICES[key], started=self.since(key, t))
        callee, share = APP_CALLS.get(key, (None, 0.0))
        down = callee is not None and not self.service_ready(callee[0], callee[1], t)
        traffic.advance(t, down, share)
        total = CounterMetricFamily(
            "http_requests", "Total number of HTTP requests.", labels=["method", "code"]
        )
        for code, value in sorted(traffic.by_code.items()):
            total.add_metric(["GET" if code != "201" else "POST", code], math.floor(value))
        hist = HistogramMetricFamily(
            "http_request_duration_seconds", "HTTP request latency in seconds.", labels=[]
        )
        buckets = [(str(b), v) for b, v in zip(BUCKETS, traffic.buckets, strict=True)]
        buckets.append(("+Inf", traffic.count))
        hist.add_metric([], buckets, traffic.total_seconds)
        yield total
        yield hist


def _resources(values: Obj) -> Iterable[tuple[str, str, float]]:
    for name, q in values.items():
        if name == "cpu":
            yield "cpu", "core", cpu_millis(q) / 1000
        elif name == "memory":
            yield "memory", "byte", mem_bytes(q)
        else:
            yield name.replace(".", "_").replace("/", "_"), "integer", float(cpu_millis(q) / 1000)


class _Families:
    """A ``collect()`` over ready families, for ``generate_latest``."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> list[Metric]:
        return self.families
