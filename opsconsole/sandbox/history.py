"""The scenario's recent past as OpenMetrics text, for ``promtool tsdb create-blocks-from
openmetrics``: every scrape target's families at each step of the last hours, computed by the
same exporters as the live scrapes (:mod:`.exporters`), with the labels Prometheus would add
(``job``, ``instance``, a target's own labels) and its ``up``.

Each series' samples are in time order; the containers the kernel kills for memory get a
sample every few seconds while they run, so their climb to the limit shows in the history too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from prometheus_client.core import Metric
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from .exporters import Exporters


@dataclass(frozen=True)
class Target:
    """One scrape target as Prometheus sees it: its job, instance and extra target labels;
    ``exporter`` is ``kube-state``, ``cadvisor`` or ``apps/<namespace>/<service>``."""

    job: str
    instance: str
    exporter: str
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return "/metrics/" + self.exporter

    def target_labels(self) -> dict[str, str]:
        return {"job": self.job, "instance": self.instance, **dict(self.labels)}


@dataclass
class _Family:
    name: str
    documentation: str
    type: str
    series: dict[tuple, list[tuple[float, float]]] = field(default_factory=dict)


class _History:
    def __init__(self) -> None:
        self.families: dict[str, _Family] = {}

    def add(self, metric: Metric, extra: dict[str, str], t: float) -> None:
        fam = self.families.get(metric.name)
        if fam is None:
            fam = self.families[metric.name] = _Family(
                metric.name, metric.documentation, metric.type
            )
        for s in metric.samples:
            labels = {**s.labels, **extra}
            key = (s.name, tuple(sorted(labels.items())))
            fam.series.setdefault(key, []).append((t, s.value))

    def text(self) -> bytes:
        """OpenMetrics: each family's series in label order, each series' points in time
        order (each label set is escaped once, not once per point)."""
        out: list[str] = []
        for fam in self.families.values():
            out.append(f"# HELP {fam.name} {_escape(fam.documentation)}\n")
            out.append(f"# TYPE {fam.name} {fam.type}\n")
            for (sample_name, labels), points in sorted(fam.series.items()):
                inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
                head = f"{sample_name}{{{inner}}} " if inner else f"{sample_name} "
                seen = None
                for t, v in sorted(points):
                    if t != seen:
                        out.append(f"{head}{floatToGoString(v)} {t:.3f}\n")
                        seen = t
        out.append("# EOF\n")
        return "".join(out).encode()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def openmetrics_history(
    exporters: Exporters,
    targets: Iterable[Target],
    start: float,
    end: float,
    *,
    step: float = 60.0,
    dense_step: float = 5.0,
    cancelled: Callable[[], bool] = lambda: False,
) -> bytes:
    """The targets' samples from ``start`` to ``end`` (every ``step`` seconds) as OpenMetrics;
    ``cancelled`` is asked at each step (True: stop, and return what there is)."""
    targets = list(targets)
    hist = _History()
    up = Metric("up", "Whether the target answered its last scrape.", "gauge")
    cl = exporters.c
    times = [start + i * step for i in range(int((end - start) // step) + 1)]
    for t in times:
        if cancelled():
            return hist.text()
        with cl.lock:
            for target in targets:
                extra = target.target_labels()
                families = _families_at(exporters, target, t)
                up.samples = [Sample("up", {}, 1.0 if families is not None else 0.0)]
                hist.add(up, extra, t)
                for fam in families or ():
                    hist.add(fam, extra, t)
    if not cancelled():
        _dense_oom_memory(exporters, targets, hist, times, dense_step)
    return hist.text()


def _families_at(exporters: Exporters, target: Target, t: float) -> list[Metric] | None:
    if target.exporter == "kube-state":
        return list(exporters.kube_state(t))
    if target.exporter == "cadvisor":
        return list(exporters.cadvisor(t))
    ns, svc = target.exporter.split("/")[1:3]
    if not exporters.service_ready(ns, svc, t):
        return None
    return list(exporters.app(ns, svc, t))


def _dense_oom_memory(
    exporters: Exporters, targets: list[Target], hist: _History, times: list[float], step: float
) -> None:
    """Samples every ``step`` seconds of the working set of each container killed for memory,
    during its runs."""
    cadvisor = next((t for t in targets if t.exporter == "cadvisor"), None)
    if cadvisor is None or not times:
        return
    cl = exporters.c
    oom = {
        pod["metadata"]["name"]
        for pod, rt in exporters.pods(times[-1])
        if rt is not None and rt.behaviour == "oomkilled"
    }
    if not oom:
        return
    name = "container_memory_working_set_bytes"
    extra = cadvisor.target_labels()
    t = times[0]
    with cl.lock:
        while t <= times[-1]:
            for fam in exporters.cadvisor(t, only={name}, pods=oom):
                hist.add(fam, extra, t)
            t += step
