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
