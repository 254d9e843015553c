"""The one place that wires opsconsole together.

:func:`build_runtime` starts the sandbox (``--demo``), writes its kubeconfig, connects the
cluster, builds the tool registry, the model (online or the offline planner) and the session
recorder; :meth:`Runtime.runner` builds the agent (a single loop or the team's Scheduler, one
:class:`~opsconsole.agent.runner.Runner` protocol). The console, ``ask`` and ``eval`` all get
theirs from here; ``tests/unit/test_runtime_wiring.py`` checks that nothing else constructs a
cluster, a sandbox or a model client.
"""

from opsconsole.runtime.build import (
    SANDBOX_CONTEXT,
    Runtime,
    RuntimeNote,
    RuntimeOptions,
    build_runtime,
)

__all__ = ["SANDBOX_CONTEXT", "Runtime", "RuntimeNote", "RuntimeOptions", "build_runtime"]
