"""What the API server fills in on created objects, per kind (shared by the API's writes and the
scenario builder, so an object in a scenario file looks as if it had been created through the API).
"""

from __future__ import annotations

from .controllers_sets import sts_defaults
from .deployments import deployment_defaults
from .jobs import cronjob_defaults, job_defaults

#: kinds whose objects carry metadata.generation
GENERATION = (
    "apps/deployments",
    "apps/statefulsets",
    "apps/daemonsets",
    "apps/replicasets",
    "batch/jobs",
    "batch/cronjobs",
    "autoscaling/horizontalpodautoscalers",
)
#: what the server fills in on a created object of these kinds
DEFAULTS = {
    "apps/deployments": deployment_defaults,
    "apps/statefulsets": sts_defaults,
    "batch/jobs": job_defaults,
    "batch/cronjobs": cronjob_defaults,
}
#: kinds a controller acts on when one is created or its spec changes
CONTROLLED = (
    *GENERATION,
    "persistentvolumeclaims",
    "persistentvolumes",
    "storage.k8s.io/storageclasses",
)

_TEMPLATES = {
    "apps/deployments": ("spec", "template"),
    "apps/replicasets": ("spec", "template"),
    "apps/statefulsets": ("spec", "template"),
    "apps/daemonsets": ("spec", "template"),
    "batch/jobs": ("spec", "template"),
    "batch/cronjobs": ("spec", "jobTemplate", "spec", "template"),
}


def pull_policy(image: str) -> str:
    """Always for ``:latest`` or no tag, else IfNotPresent (a digest counts as a tag)."""
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.rsplit(":", 1)[1] if ":" in last else ""
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def pod_spec_defaults(spec: dict) -> None:
    """What the API server's defaulting fills in on a pod spec and its containers."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for field in ("initContainers", "containers"):
        for c in spec.get(field) or []:
            if not isinstance(c, dict):
                continue
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("imagePullPolicy", pull_policy(str(c.get("image") or "")))
            c.setdefault("resources", {})
            for port in c.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def api_create_defaults(rkey: str, obj: dict) -> None:
    """Defaults of an object created through the API beyond :data:`DEFAULTS`: pod specs (of pods
    and of the templates of workloads), DaemonSet strategies, Service fields. Scenario objects
    keep the shape their files give them."""
    if rkey == "pods":
        pod_spec_defaults(obj.setdefault("spec", {}))
        return
    path = _TEMPLATES.get(rkey)
    if path is not None:
        node = obj
        for key in path:
            node = node.setdefault(key, {})
        pod_spec_defaults(node.setdefault("spec", {}))
    if rkey == "apps/daemonsets":
        spec = obj.setdefault("spec", {})
        spec.setdefault(
            "updateStrategy",
            {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        )
        spec.setdefault("revisionHistoryLimit", 10)
    if rkey == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
