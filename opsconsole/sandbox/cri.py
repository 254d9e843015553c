"""The seam between the sandbox's containers, its network and its streaming endpoints, named
after the kubelet's Container Runtime Interface.

- The container runtime (``cluster.runtime``, a :class:`Runtime`) runs a container's commands,
  answers connections on the ports its processes listen on, and streams its main process.
- The network (``cluster.network``, a :class:`Network`) resolves cluster DNS names, routes a
  connection through a Service's selector, ready endpoints and ``targetPort`` to a pod, and lets
  NetworkPolicies allow or drop it. A container's ``wget``, ``curl`` and ``nc`` go through it.
- The streaming endpoints (``pods/exec``, ``pods/attach``, ``pods/portforward``) and
  ``kubectl run -i`` talk to both through these types only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str


@dataclass(frozen=True)
class ExecResult:
    """A finished command: what it printed and its exit code (127: not found, 137: killed)."""

    stdout: bytes
    stderr: bytes
    code: int


@dataclass(frozen=True)
class Unreachable:
    """A connection that got no answer, with what a client would be told."""

    reason: Literal["refused", "timeout", "bad-address", "reset"]
    detail: str = ""  # the address tried, e.g. "10.96.0.12:80"


class Process(Protocol):
    """An interactive process: ``kubectl exec -i[t]`` or ``kubectl attach``."""

    def write(self, data: bytes) -> None:
        """Feed the process's stdin (b"" closes it)."""

    def read(self, timeout: float) -> tuple[bytes, bytes]:
        """(stdout, stderr) printed since the last read; waits up to ``timeout`` s for output."""

    def resize(self, cols: int, rows: int) -> None: ...

    @property
    def exit_code(self) -> int | None:
        """None while it runs."""

    def close(self) -> None: ...


class Runtime(Protocol):
    def exec(
        self, pod: PodRef, container: str, argv: Sequence[str], stdin: bytes = b""
    ) -> ExecResult:
        """Run ``argv`` in the container to completion (``kubectl exec`` without ``-i``)."""

    def open(self, pod: PodRef, container: str, argv: Sequence[str], *, tty: bool) -> Process:
        """Start ``argv`` in the container with stdin attached."""

    def attach(self, pod: PodRef, container: str, *, tty: bool) -> Process:
        """The container's main process, from now on (``kubectl attach``, ``run -i``)."""

    def listens(self, pod: PodRef, port: int, protocol: str = "TCP") -> bool: ...

    def serve(self, pod: PodRef, port: int, data: bytes) -> bytes | Unreachable:
        """One request's bytes to the process listening on ``port`` (an HTTP request for an
        HTTP server), and its answer's bytes."""


class Network(Protocol):
    def resolve(self, src: PodRef | None, host: str) -> str | None:
        """The IP ``host`` resolves to from ``src`` (a pod, or the node when None); None: no
        such name."""

    def connect(
        self, src: PodRef | None, host: str, port: int, data: bytes, *, timeout: float = 10.0
    ) -> bytes | Unreachable:
        """Send one request's bytes from ``src`` to ``host:port`` (a name or an IP) through
        Services and NetworkPolicies, and return the answer's bytes."""
