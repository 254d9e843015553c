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
    custom: bool = False  # defined by a CustomResourceDefinition (see crds.py)
    singular_name: str = ""  # a CRD's names.singular (built-ins: the kind in lower case)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.group}/{self.plural}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.singular_name or self.kind.lower()

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
    Resource("events.k8s.io", "v1", "events", "Event", True, short_names=("ev",)),
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
    # the custom resources a CRD defines are served through the cluster's Registry (crds.py)
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
    Resource(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        False,
        verbs=("create",),
        stored=False,
        review=True,
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "subjectaccessreviews",
        "SubjectAccessReview",
        False,
        verbs=("create",),
        stored=False,
        review=True,
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "localsubjectaccessreviews",
        "LocalSubjectAccessReview",
        True,
        verbs=("create",),
        stored=False,
        review=True,
    ),
    Resource("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, verbs=READ, stored=False),
    Resource("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, verbs=READ, stored=False),
)

_BY_PATH: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
BY_KEY: dict[str, Resource] = {r.key: r for r in RESOURCES if r.stored}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """A built-in resource (the cluster's :class:`Registry` also knows the custom ones)."""
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


class Registry:
    """The resources one server serves: the built-in table plus the custom resources of its
    CustomResourceDefinitions (added and removed as CRDs come and go), with their discovery
    documents. Custom resources carry their own subresources and printer columns."""

    def __init__(self) -> None:
        self._custom: dict[tuple[str, str, str], Resource] = {}
        self._subs: dict[tuple[str, str, str], dict[str, tuple[str, tuple[str, ...]]]] = {}
        #: (group, version, plural) -> additionalPrinterColumns of a custom resource
        self.columns: dict[tuple[str, str, str], list[dict]] = {}

    # --- the custom part --------------------------------------------------------------------
    def define(
        self,
        res: Resource,
        subresources: dict[str, tuple[str, tuple[str, ...]]],
        columns: list[dict],
    ) -> None:
        path = (res.group, res.version, res.plural)
        self._custom[path] = res
        self._subs[path] = subresources
        self.columns[path] = columns

    def undefine(self, group: str, plural: str) -> None:
        for path in [p for p in self._custom if p[0] == group and p[2] == plural]:
            del self._custom[path]
            self._subs.pop(path, None)
            self.columns.pop(path, None)

    # --- lookups ----------------------------------------------------------------------------
    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return _BY_PATH.get((group, version, plural)) or self._custom.get((group, version, plural))

    def by_key(self, key: str) -> Resource | None:
        hit = BY_KEY.get(key)
        if hit is not None:
            return hit
        return next((r for r in self._custom.values() if r.key == key), None)

    def all(self) -> list[Resource]:
        return [*RESOURCES, *self._custom.values()]

    def subresources(self, res: Resource) -> dict[str, tuple[str, tuple[str, ...]]]:
        if res.custom:
            return self._subs.get((res.group, res.version, res.plural), {})
        return SUBRESOURCES.get(res.plural, {})

    def group_versions(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for r in self.all():
            out.setdefault(r.group, [])
            if r.version not in out[r.group]:
                out[r.group].append(r.version)
        return out

    # --- discovery --------------------------------------------------------------------------
    def _group_doc(self, group: str, versions_of: list[str]) -> dict:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions_of]
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": versions,
            "preferredVersion": versions[0],
        }

    def api_group_list(self) -> dict:
        groups = [self._group_doc(g, vs) for g, vs in self.group_versions().items() if g]
        for g in groups:
            del g["kind"], g["apiVersion"]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def api_group(self, group: str) -> dict | None:
        versions = self.group_versions().get(group)
        if not group or not versions:
            return None
        return self._group_doc(group, versions)

    def resource_list(self, group: str, version: str) -> dict | None:
        if version not in self.group_versions().get(group, []):
            return None
        items: list[dict] = []
        for r in self.all():
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
                for sub, (kind, verbs) in self.subresources(r).items():
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
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": items,
        }


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
