"""Light row types the Kubernetes layer parses raw API JSON into.

The official client's generated models are slow and large at scale (docs/performance.md: 5.4 s and
554 MiB for 5,000 pods); list calls read raw JSON into these instead. Widgets, tools and
analyzers consume these rows; the raw object is kept where a consumer needs more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec


@dataclass(slots=True)
class ContainerRow:
    name: str
    image: str
    ready: bool = False
    restart_count: int = 0
    state: str = "waiting"  # running | waiting | terminated
    reason: str = ""  # e.g. CrashLoopBackOff, ImagePullBackOff, OOMKilled
    message: str = ""
    exit_code: int | None = None
    last_reason: str = ""  # lastState.terminated.reason (e.g. OOMKilled, Error)
    last_exit_code: int | None = None
    init: bool = False


@dataclass(slots=True)
class PodRow:
    namespace: str
    name: str
    uid: str
    phase: str  # Pending | Running | Succeeded | Failed | Unknown
    status: str  # what kubectl shows in STATUS (CrashLoopBackOff, Running, Pending, ...)
    ready: int
    total: int
    restarts: int
    node: str
    pod_ip: str
    created: str  # RFC 3339
    labels: dict[str, str] = field(default_factory=dict)
    owner_kind: str = ""
    owner_name: str = ""
    containers: list[ContainerRow] = field(default_factory=list)
    resource_version: str = ""
    deleting: bool = False
    #: the pod object as compact JSON, kept only when asked (``keep_raw``): bytes cost a
    #: tenth of the parsed dicts, so 10,000 pods stay ~35 MB instead of ~120 MB (K8)
    packed: bytes | None = None

    @property
    def raw(self) -> dict[str, Any] | None:
        """The pod object (decoded from :attr:`packed` on each access), or None if not kept."""
        return None if self.packed is None else msgspec.json.decode(self.packed)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def ready_text(self) -> str:
        return f"{self.ready}/{self.total}"

    @property
    def healthy(self) -> bool:
        if self.phase == "Succeeded":
            return True
        return self.phase == "Running" and self.ready == self.total and not self.deleting


@dataclass(slots=True)
class EventRow:
    namespace: str
    type: str  # Normal | Warning
    reason: str
    message: str
    object_kind: str
    object_name: str
    count: int
    first_seen: str
    last_seen: str
    source: str = ""


@dataclass(slots=True)
class NodeRow:
    name: str
    status: str  # Ready | NotReady | Unknown (+ ",SchedulingDisabled")
    roles: str
    version: str
    created: str
    cpu_capacity: str = ""
    memory_capacity: str = ""
    gpu_capacity: str = ""
    pressure: list[str] = field(default_factory=list)  # MemoryPressure, DiskPressure, ...
    taints: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class DeploymentRow:
    namespace: str
    name: str
    replicas: int
    ready: int
    updated: int
    available: int
    unavailable: int
    created: str
    selector: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)


@dataclass(slots=True)
class UsageRow:
    """metrics.k8s.io usage for a pod (summed over containers) or a node."""

    name: str
    namespace: str | None
    cpu_millicores: int
    memory_bytes: int
