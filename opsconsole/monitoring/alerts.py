"""Firing alerts as the things an investigation starts from.

:func:`firing_alerts` reads Alertmanager's active alerts (API v2: neither silenced nor
inhibited), optionally those of one ``alertname``, as :class:`FiringAlert`s sorted by
severity, name and target; :meth:`FiringAlert.task` is the request an investigation gives the
agent: the alert's name, severity, target, summary and description, and every label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.errors import OpsConsoleError
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


class WebhookError(OpsConsoleError):
    """An Alertmanager webhook body that is not one (answered 400; nothing is started)."""

    code = "invalid_argument"


@dataclass(frozen=True)
class AlertGroup:
    """One notification of Alertmanager's webhook receiver (payload version 4): a group of
    alerts under one ``groupKey``."""

    key: str
    status: str
    alerts: tuple[FiringAlert, ...]
    receiver: str = ""

    @classmethod
    def from_webhook(cls, payload: Any) -> AlertGroup:
        if not isinstance(payload, dict):
            raise WebhookError("the body is not a JSON object (Alertmanager's webhook payload)")
        key, status, alerts = payload.get("groupKey"), payload.get("status"), payload.get("alerts")
        if not isinstance(key, str) or not key:
            raise WebhookError("no groupKey: not an Alertmanager webhook payload")
        if status not in ("firing", "resolved"):
            raise WebhookError(f"status {status!r}: expected firing or resolved")
        if not isinstance(alerts, list) or not all(
            isinstance(a, dict) and isinstance(a.get("labels"), dict) for a in alerts
        ):
            raise WebhookError("alerts: expected a list of alerts, each with its labels")
        firing = [FiringAlert.from_api(a) for a in alerts if a.get("status", "firing") == "firing"]
        return cls(
            key=key,
            status=status,
            alerts=tuple(sorted(firing, key=FiringAlert.sort_key)),
            receiver=str(payload.get("receiver") or ""),
        )

    def merged(self, other: AlertGroup) -> AlertGroup:
        """This group with the alerts of a later notification of it (by fingerprint)."""
        seen = {a.fingerprint or repr(sorted(a.labels.items())) for a in self.alerts}
        extra = [
            a for a in other.alerts if (a.fingerprint or repr(sorted(a.labels.items()))) not in seen
        ]
        return AlertGroup(
            self.key,
            other.status,
            tuple(sorted([*self.alerts, *extra], key=FiringAlert.sort_key)),
            self.receiver,
        )

    def task(self) -> str:
        """The request for the group: its most urgent alert, and the others' targets."""
        first, rest = self.alerts[0], self.alerts[1:]
        text = first.task()
        if rest:
            others = ", ".join(f"{a.name} on {a.target or '-'}" for a in rest[:10])
            more = f" and {len(rest) - 10} more" if len(rest) > 10 else ""
            text += f"\nThe same group has {len(rest)} more alerts: {others}{more}."
        return redact(text)
