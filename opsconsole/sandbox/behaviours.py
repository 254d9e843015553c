"""The kubelet's side of pod behaviours: crash loops with backoff, image pull retries, failing
readiness probes, unschedulable pods. Each step schedules the next on the cluster's timer heap."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .logs import Instance
from .pods import COMPLETES, PodRT
from .store import Obj

if TYPE_CHECKING:
    from .cluster import Cluster

CRASH_RUN = 2.0  # simulated seconds a crashing container runs
TERMINATED_FOR = 1.0  # seconds the terminated state shows before CrashLoopBackOff
BACKOFF_BASE, BACKOFF_CAP = 10.0, 300.0
MIN_REAL_PERIOD = 0.5  # periodic events never fire more often than this, whatever the speed


def backoff_for(restarts: int) -> float:
    return min(BACKOFF_BASE * (2 ** max(restarts, 0)), BACKOFF_CAP)


class Kubelet:
    """Runs each pod's behaviour through the cluster's clock (``cluster.after``)."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def arm(
        self,
        ns: str,
        name: str,
        rt: PodRT,
        *,
        fresh: bool = False,
        first_delay: float | None = None,
    ) -> None:
        """Schedule the next step of the pod's behaviour."""
        b = rt.behaviour
        if b in ("crashloop", "oomkilled"):
            if rt.sub == "running":
                run = CRASH_RUN if b == "crashloop" else float(rt.params.get("run_seconds", 20))
                self.c.after(
                    first_delay if first_delay is not None else run,
                    lambda: self.crash(ns, name, rt),
                )
            elif rt.sub == "waiting":
                delay = rt.backoff if first_delay is None else first_delay
                self.c.after(delay, lambda: self.restart(ns, name, rt))
        elif b == "imagepull":
            if fresh:
                rt.backoff = BACKOFF_BASE
                self.pull_attempt(ns, name, rt)
            else:
                self.c.after(
                    first_delay if first_delay is not None else rt.backoff,
                    lambda: self.pull_attempt(ns, name, rt),
                )
        elif b == "unready":
            self.schedule_periodic(
                ns, name, rt, float(rt.params.get("period", 10)), self.probe_failed, first_delay
            )
        elif b == "pending":
            # the scheduler says so at once, then again at each retry
            self.schedule_periodic(
                ns, name, rt, 60.0, self.unschedulable, first_delay, immediate=True
            )
        elif b == COMPLETES and rt.sub == "running":
            run = float(rt.params.get("run_seconds", 2))
            self.c.after(
                first_delay if first_delay is not None else run, lambda: self.exit(ns, name, rt)
            )

    def exit(self, ns: str, name: str, rt: PodRT) -> None:
        """A run-to-completion pod's containers exit: Succeeded (0) or Failed."""
        if not self.c.alive(ns, name, rt):
            return
        now = self.c.now()
        for insts in rt.instances.values():
            if insts:
                insts[-1].end = now
        rt.exit_code = int(rt.params.get("exit_code", 0))
        rt.sub = "exited"
        self.c.refresh_pod(ns, name)

    def schedule_periodic(
        self,
        ns: str,
        name: str,
        rt: PodRT,
        period: float,
        fn: Callable[[str, str, PodRT, int], None],
        first_delay: float | None,
        *,
        immediate: bool = False,
    ) -> None:
        real = max(period / self.c.speed, MIN_REAL_PERIOD)
        n = max(1, round(real * self.c.speed / period))

        behaviour = rt.behaviour

        def tick() -> None:
            if not self.c.alive(ns, name, rt) or rt.behaviour != behaviour:
                return  # gone, or no longer doing this (a waiting pod got its node)
            fn(ns, name, rt, n)
            self.c.after(0, tick, min_real=real)

        if first_delay is None and immediate:
            fn(ns, name, rt, 1)
            self.c.after(0, tick, min_real=real)
            return
        self.c.after(first_delay if first_delay is not None else 0, tick, min_real=real)

    def fault_container(self, pod: Obj, rt: PodRT) -> tuple[str, str]:
        for c in pod["spec"]["containers"]:
            if c["name"] == rt.fault_container:
                return c["name"], c["image"]
        c = pod["spec"]["containers"][0]
        return c["name"], c["image"]

    def crash(self, ns: str, name: str, rt: PodRT) -> None:
        if not self.c.alive(ns, name, rt):
            return
        insts = rt.instances.setdefault(rt.fault_container, [])
        if insts:
            insts[-1].end = self.c.now()
            insts[-1].crashed = True
        rt.sub = "terminated"
        self.c.refresh_pod(ns, name)
        self.c.after(TERMINATED_FOR, lambda: self.to_backoff(ns, name, rt))

    def to_backoff(self, ns: str, name: str, rt: PodRT) -> None:
        if not self.c.alive(ns, name, rt):
            return
        pod = self.c.store.get("pods", ns, name)
        assert pod is not None
        cname, _ = self.fault_container(pod, rt)
        rt.sub = "waiting"
        rt.backoff = backoff_for(rt.restarts(cname))
        md = pod["metadata"]
        self.c.event(
            pod,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {cname} in pod {md['name']}_{ns}({md['uid']})",
            host=rt.node,
            field_path=f"spec.containers{{{cname}}}",
        )
        self.c.refresh_pod(ns, name)
        self.c.after(rt.backoff, lambda: self.restart(ns, name, rt))

    def restart(self, ns: str, name: str, rt: PodRT) -> None:
        if not self.c.alive(ns, name, rt):
            return
        pod = self.c.store.get("pods", ns, name)
        assert pod is not None
        cname, image = self.fault_container(pod, rt)
        insts = rt.instances.setdefault(cname, [])
        insts.append(Instance(start=self.c.now()))
        while len(insts) > 2:
            insts.pop(0)
            rt.base_restarts += 1
        rt.sub = "running"
        fp = f"spec.containers{{{cname}}}"
        self.c.event(
            pod,
            "Normal",
            "Pulled",
            f'Container image "{image}" already present on machine',
            host=rt.node,
            field_path=fp,
        )
        self.c.event(
            pod, "Normal", "Created", f"Created container: {cname}", host=rt.node, field_path=fp
        )
        self.c.event(
            pod, "Normal", "Started", f"Started container {cname}", host=rt.node, field_path=fp
        )
        self.c.refresh_pod(ns, name)
        self.arm(ns, name, rt)

    def pull_attempt(self, ns: str, name: str, rt: PodRT) -> None:
        if not self.c.alive(ns, name, rt):
            return
        pod = self.c.store.get("pods", ns, name)
        assert pod is not None
        cname, image = self.fault_container(pod, rt)
        fp = f"spec.containers{{{cname}}}"
        rt.pull_error = True
        msg = rt.params.get("pull_message") or (
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{image}": failed to resolve reference "{image}": '
            f"{image}: not found"
        )
        self.c.event(
            pod, "Normal", "Pulling", f'Pulling image "{image}"', host=rt.node, field_path=fp
        )
        self.c.event(pod, "Warning", "Failed", msg, host=rt.node, field_path=fp)
        self.c.event(pod, "Warning", "Failed", "Error: ErrImagePull", host=rt.node, field_path=fp)
        self.c.refresh_pod(ns, name)

        def back_off() -> None:
            if not self.c.alive(ns, name, rt):
                return
            rt.pull_error = False
            self.c.event(
                pod,
                "Normal",
                "BackOff",
                f'Back-off pulling image "{image}"',
                host=rt.node,
                field_path=fp,
            )
            self.c.event(
                pod, "Warning", "Failed", "Error: ImagePullBackOff", host=rt.node, field_path=fp
            )
            self.c.refresh_pod(ns, name)
            rt.backoff = min(rt.backoff * 2, BACKOFF_CAP)
            self.c.after(rt.backoff, lambda: self.pull_attempt(ns, name, rt))

        self.c.after(TERMINATED_FOR, back_off)

    def probe_failed(self, ns: str, name: str, rt: PodRT, n: int) -> None:
        pod = self.c.store.get("pods", ns, name)
        assert pod is not None
        cname, _ = self.fault_container(pod, rt)
        msg = rt.params.get(
            "probe_message", "Readiness probe failed: HTTP probe failed with statuscode: 503"
        )
        self.c.event(
            pod,
            "Warning",
            "Unhealthy",
            msg,
            host=rt.node,
            field_path=f"spec.containers{{{cname}}}",
            count=n,
        )

    def unschedulable(self, ns: str, name: str, rt: PodRT, n: int) -> None:
        if self.c.scheduler.retry_one(ns, name, rt):
            return
        pod = self.c.store.get("pods", ns, name)
        assert pod is not None
        self.c.event(
            pod,
            "Warning",
            "FailedScheduling",
            rt.params.get("message", "0/1 nodes are available."),
            component="default-scheduler",
            count=n,
        )
