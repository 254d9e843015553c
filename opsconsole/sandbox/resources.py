"""The API resources the sandbox serves, and the discovery documents built from them."""

from __future__ import annotations

from dataclasses import dataclass

READ = ("get", "list", "watch")
ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ALL
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    stored: bool = True  # False: computed on request (metrics, reviews)
    review: bool = False  # create-only, answered and not stored (SelfSubjectAccessReview)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return self.kind + "List"


#: (parent plural, subresource) -> (kind, verbs)
SUBRESOURCES: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "pods": {
        "log": ("Pod", ("get",)),
        "status": ("Pod", ("get", "patch", "update")),
    },
    "deployments": {
        "scale": ("Scale", ("get", "patch", "update")),
        "status": ("Deployment", ("get", "patch", "update")),
    },
    "replicasets": {
        "scale": ("Scale", ("get", "patch", "update")),
        "status": ("ReplicaSet", ("get", "patch", "update")),
    },
    "statefulsets": {
        "scale": ("Scale", ("get", "patch", "update")),
        "status": ("StatefulSet", ("get", "patch", "update")),
    },
    "daemonsets": {"status": ("DaemonSet", ("get", "patch", "update"))},
    "namespaces": {"status": ("Namespace", ("get", "patch", "update"))},
    "nodes": {"status": ("Node", ("get", "patch", "update"))},
    "serviceaccounts": {"token": ("TokenRequest", ("create",))},
    "jobs": {"status": ("Job", ("get", "patch", "update"))},
    "cronjobs": {"status": ("CronJob", ("get", "patch", "update"))},
    "horizontalpodautoscalers": {"status": ("HorizontalPodAutoscaler", ("get", "patch", "update"))},
    "poddisruptionbudgets": {"status": ("PodDisruptionBudget", ("get", "patch", "update"))},
    "persistentvolumeclaims": {"status": ("PersistentVolumeClaim", ("get", "patch", "update"))},
    "persistentvolumes": {"status": ("PersistentVolume", ("get", "patch", "update"))},
    "resourcequotas": {"status": ("ResourceQuota", ("get", "patch", "update"))},
    "ingresses": {"status": ("Ingress", ("get", "patch", "update"))},
}

RBAC = "rbac.authorization.k8s.io"

RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", False, short_names=("ns",)),
    Resource("", "v1", "nodes", "Node", False, short_names=("no",)),
    Resource("", "v1", "pods", "Pod", True, short_names=("po",), categories=("all",)),
    Resource("", "v1", "events", "Event", True, short_names=("ev",)),
    Resource("", "v1", "services", "Service", True, short_names=("svc",), categories=("all",)),
    Resource("", "v1", "endpoints", "Endpoints", True, short_names=("ep",)),
    Resource("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True),
    Resource("", "v1", "configmaps", "ConfigMap", True, short_names=("cm",)),
    Resource("", "v1", "secrets", "Secret", True),
    Resource(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        short_names=("deploy",),
        categories=("all",),
    ),
    Resource(
        "apps", "v1", "replicasets", "ReplicaSet", True, short_names=("rs",), categories=("all",)
    ),
    Resource(
        "apps", "v1", "statefulsets", "StatefulSet", True, short_names=("sts",), categories=("all",)
    ),
    Resource(
        "apps", "v1", "daemonsets", "DaemonSet", True, short_names=("ds",), categories=("all",)
    ),
    # stored as they are, with no controller behind them (yet)
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, short_names=("sa",)),
    Resource("", "v1", "resourcequotas", "ResourceQuota", True, short_names=("quota",)),
    Resource("", "v1", "limitranges", "LimitRange", True, short_names=("limits",)),
    Resource(
        "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, short_names=("pvc",)
    ),
    Resource("", "v1", "persistentvolumes", "PersistentVolume", False, short_names=("pv",)),
    Resource("apps", "v1", "controllerrevisions", "ControllerRevision", True),
    Resource("batch", "v1", "jobs", "Job", True, categories=("all",)),
    Resource("batch", "v1", "cronjobs", "CronJob", True, short_names=("cj",), categories=("all",)),
    Resource(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        True,
        short_names=("hpa",),
        categories=("all",),
    ),
    Resource(
        "policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, short_names=("pdb",)
    ),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", True, short_names=("ing",)),
    Resource("networking.k8s.io", "v1", "ingressclasses", "IngressClass", False),
    Resource(
        "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, short_names=("netpol",)
    ),
    Resource(RBAC, "v1", "roles", "Role", True),
    Resource(RBAC, "v1", "rolebindings", "RoleBinding", True),
    Resource(RBAC, "v1", "clusterroles", "ClusterRole", False),
    Resource(RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Resource(
        "scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", False, short_names=("pc",)
    ),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, short_names=("sc",)),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", True),
    # stored only: the custom resources a CRD defines are not served yet
    Resource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
        stored=False,
        review=True,
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        False,
        verbs=("create",),
        stored=False,
        review=True,
    ),
    Resource("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, verbs=READ, stored=False),
    Resource("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, verbs=READ, stored=False),
)

GROUP_VERSIONS: dict[str, list[str]] = {}
for _r in RESOURCES:
    GROUP_VERSIONS.setdefault(_r.group, [])
    if _r.version not in GROUP_VERSIONS[_r.group]:
        GROUP_VERSIONS[_r.group].append(_r.version)

_BY_PATH: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
BY_KEY: dict[str, Resource] = {r.key: r for r in RESOURCES if r.stored}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return _BY_PATH.get((group, version, plural))


def by_key(key: str) -> Resource:
    return BY_KEY[key]


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_doc(group: str) -> dict:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in GROUP_VERSIONS[group]]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    }


def api_group_list() -> dict:
    groups = [_group_doc(g) for g in GROUP_VERSIONS if g]
    for g in groups:
        del g["kind"], g["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict | None:
    if not group or group not in GROUP_VERSIONS:
        return None
    return _group_doc(group)


def resource_list(group: str, version: str) -> dict | None:
    if version not in GROUP_VERSIONS.get(group, []):
        return None
    items: list[dict] = []
    for r in RESOURCES:
        if r.group != group or r.version != version:
            continue
        entry: dict = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        items.append(entry)
        if r.stored:
            for sub, (kind, verbs) in SUBRESOURCES.get(r.plural, {}).items():
                sub_entry: dict = {
                    "name": f"{r.plural}/{sub}",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": kind,
                    "verbs": list(verbs),
                }
                if kind == "Scale":
                    sub_entry["group"] = "autoscaling"
                    sub_entry["version"] = "v1"
                items.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": items}


def openapi_served() -> list:
    """The served resources as the OpenAPI documents describe them (metrics are aggregated from
    elsewhere in a real cluster and have no schema here)."""
    from .wire.openapi import Served

    out = []
    for r in RESOURCES:
        if r.group == "metrics.k8s.io":
            continue
        subs = tuple(
            (sub, "autoscaling", "v1", "Scale")
            if kind == "Scale"
            else (sub, r.group, r.version, kind)
            for sub, (kind, _) in SUBRESOURCES.get(r.plural, {}).items()
            if sub in ("status", "scale")
        )
        out.append(Served(r.group, r.version, r.plural, r.kind, r.namespaced, r.verbs, subs))
    return out
