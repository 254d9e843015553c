"""The client side of monitoring: Prometheus and Alertmanager APIs (:mod:`.client`), range
results as short summaries (:mod:`.summary`) and the agent's read-only tools (:mod:`.tools`).

:func:`connect` makes the clients from the settings (``monitoring.prometheus.url``,
``monitoring.alertmanager.url``, each with ``bearer_token_env``) or from the URLs of the
sandbox's own stack; the runtime owns them and closes them with the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsconsole.agent.tools import Tool
    from opsconsole.config import Settings

    from .client import Alertmanager, Prometheus


@dataclass
class Monitoring:
    """The clients of one run (either may be None)."""

    prometheus: Prometheus | None
    alertmanager: Alertmanager | None

    def tools(self, settings: Settings) -> list[Tool]:
        from .tools import build_monitoring_tools

        return build_monitoring_tools(self.prometheus, self.alertmanager, settings)

    def close(self) -> None:
        for c in (self.prometheus, self.alertmanager):
            if c is not None:
                c.close()


def connect(
    settings: Settings,
    *,
    prometheus_url: str | None = None,
    alertmanager_url: str | None = None,
    wait_ready: Callable[[float], bool] | None = None,
) -> Monitoring | None:
    """Clients for the given URLs, else the configured ones; None when there is neither."""
    from .client import Alertmanager, Prometheus

    cfg = settings.monitoring
    prom_url = prometheus_url or cfg.prometheus.url
    am_url = alertmanager_url or cfg.alertmanager.url
    if not prom_url and not am_url:
        return None
    timeout = cfg.request_timeout
    prom = (
        Prometheus(
            prom_url,
            token=None if prometheus_url else cfg.prometheus.bearer_token(),
            timeout=timeout,
            wait_ready=wait_ready,
        )
        if prom_url
        else None
    )
    am = (
        Alertmanager(
            am_url,
            token=None if alertmanager_url else cfg.alertmanager.bearer_token(),
            timeout=timeout,
            wait_ready=wait_ready,
        )
        if am_url
        else None
    )
    return Monitoring(prom, am)
