"""Firing alerts as the things an investigation starts from.

:func:`firing_alerts` reads Alertmanager's active alerts (API v2: neither silenced nor
inhibited), optionally those of one ``alertname``, as :class:`FiringAlert`s sorted by
severity, name and target; :meth:`FiringAlert.task` is the request an investigation gives the
agent: the alert's name, severity, target, summary and description, and every label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.redact import redact

if TYPE_CHECKING:
    from .client import Alertmanager

#: severities from the most urgent; anything else sorts after them
SEVERITIES = ("critical", "error", "warning", "info", "none")
#: the label naming the alert's object, in the order kube-prometheus's rules use them
TARGET_LABELS = (
    "pod",
    "deployment",
    "statefulset",
    "daemonset",
    "horizontalpodautoscaler",
    "job_name",
    "persistentvolumeclaim",
    "service",
    "node",
)


@dataclass(frozen=True)
class FiringAlert:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: str = ""
    fingerprint: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FiringAlert:
        labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
        annotations = {str(k): str(v) for k, v in (data.get("annotations") or {}).items()}
        return cls(
            name=labels.get("alertname", ""),
            labels=labels,
            annotations=annotations,
            starts_at=str(data.get("startsAt") or ""),
            fingerprint=str(data.get("fingerprint") or ""),
        )

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def namespace(self) -> str | None:
        return self.labels.get("namespace") or None

    @property
    def target(self) -> str:
        """``namespace/object`` (with the container), or what the labels say of it."""
        obj = next((self.labels[k] for k in TARGET_LABELS if self.labels.get(k)), "")
        ns = self.labels.get("namespace", "")
        extra = f" ({self.labels['container']})" if self.labels.get("container") else ""
        if ns and obj:
            return f"{ns}/{obj}{extra}"
        return obj or ns or self.labels.get("job", "")

    def sort_key(self) -> tuple[int, str, str]:
        sev = SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)
        return (sev, self.name, self.target)

    def task(self) -> str:
        """The request an investigation of this alert gives the agent (secrets redacted)."""
        summary = " ".join(self.annotations.get("summary", "").split())
        description = " ".join(self.annotations.get("description", "").split())
        labels = ", ".join(f"{k}={v}" for k, v in sorted(self.labels.items()))
        lines = [
            f"Alert {self.name} ({self.severity or 'no severity'}) firing on "
            f"{self.target or 'the cluster'}" + (f": {summary}" if summary else ""),
        ]
        if description:
            lines.append(f"Description: {description}")
        lines.append(f"Labels: {labels}")
        if self.starts_at:
            lines.append(f"Firing since {self.starts_at}.")
        lines.append(
            "Investigate this alert: find its cause from the cluster and the metrics, and say "
            "how to fix it."
        )
        return redact("\n".join(lines))


def firing_alerts(alertmanager: Alertmanager, name: str | None = None) -> list[FiringAlert]:
    """Alertmanager's active alerts (of ``alertname`` ``name``), most urgent first."""
    filters = [f'alertname="{name}"'] if name else []
    out = [
        FiringAlert.from_api(a)
        for a in alertmanager.alerts(filters)
        if (a.get("status") or {}).get("state") in ("active", "unprocessed")
    ]
    return sorted(out, key=FiringAlert.sort_key)
