"""The built-in sandbox cluster: a Kubernetes-API-compatible HTTP server on loopback.

Headless (stdlib + PyYAML only). The official ``kubernetes`` client and the real ``kubectl``
work against it unchanged::

    from opsconsole.sandbox import SandboxServer, list_scenarios, UnknownScenario

    with SandboxServer(scenario="demo", speed=1.0) as srv:     # port=0: a free port
        path = srv.write_kubeconfig(tmp / "kubeconfig")        # context "opsconsole-sandbox"
        ...  # kubernetes.config.load_kube_config(config_file=path, context="opsconsole-sandbox")

``SandboxServer(scenario="demo", pods=None, host="127.0.0.1", port=0, speed=1.0, *,
namespaces=1, history_limit=10000, seed=7, data=None)``: ``pods=N`` replaces the scenario by a
generated cluster of exactly N pods (see :mod:`.generate`); ``data`` by scenario data of your own
(the format of ``scenarios/*.yaml``, already parsed); ``speed`` divides every simulated delay
(CrashLoopBackOff backoff 10s, 20s, ... 300s; pod start 2s; termination min(grace, 2s)).
``history_limit``: how many changes watches can resume from before a resourceVersion is too
old (410). ``start()`` serves in daemon threads and returns the server; ``url``;
``write_kubeconfig(path, token=None)`` (mode 0600, a dummy bearer token); ``stop()`` is
idempotent and ends open watch/follow streams; ``compact()`` forgets watch history so every
earlier resourceVersion answers 410. ``warmed`` (a threading.Event) is set once every pod's
JSON is cached: large clusters serialize in the background after ``start()``; wait on it
before timing a first big list. ``start()`` raises :class:`PortInUse` when the port is
taken; the constructor raises :class:`UnknownScenario` (its message lists the known ones).

Fault injection (``srv.faults``, a :class:`Faults`)::

    srv.faults.forbid("pods", namespace="shop", verbs=None)  # 403 with the apiserver message:
        # pods is forbidden: User "system:serviceaccount:default:opsconsole-sandbox" cannot
        # list resource "pods" in API group "" in the namespace "shop"
        # ("pods/log", "deployments/scale", "*" work too; namespace None = everywhere)
    srv.faults.unauthorized = True        # 401 Unauthorized (Status JSON) for every request
    srv.faults.accept_only_token("t2")    # 401 unless "Authorization: Bearer t2"; rewrite the
                                          # kubeconfig with write_kubeconfig(path, token="t2")
    srv.faults.hang = True                # accept TCP, read the request, never answer (until
                                          # hang is cleared or stop())
    srv.faults.latency = 0.5              # seconds added before every answer
    srv.faults.gone_as_http = True        # a watch from a too-old resourceVersion answers
                                          # HTTP 410 instead of a 200 + ERROR event (code 410)
    srv.faults.clear()                    # all of the above off
    srv.faults.requests                   # how many requests were received

Scenarios are YAML files in ``scenarios/`` (``list_scenarios()``); the faults of ``demo`` are
listed in ``README.md`` beside this file and at the top of ``scenarios/demo.yaml``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scenario import UnknownScenario, list_scenarios
    from .server import Faults, PortInUse, SandboxServer

__all__ = ["Faults", "PortInUse", "SandboxServer", "UnknownScenario", "list_scenarios"]


def __getattr__(name: str) -> Any:
    if name in ("UnknownScenario", "list_scenarios"):
        from . import scenario

        return getattr(scenario, name)
    if name in ("SandboxServer", "Faults", "PortInUse"):
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
