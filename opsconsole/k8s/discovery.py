"""API discovery: which kinds the cluster serves, and kubectl's names for them.

:func:`resources` reads ``/api/v1``, ``/apis`` and each group's preferred version (the
official client's ApiClient, through the guard) once per cluster connection and caches the
result on the connection's server+context; :func:`resolve` turns what a user or a model types
(``deploy``, ``svc``, ``pvc``, ``Deployment``, ``deployments.apps``, a CRD's plural, singular
or short name) into a :class:`ResourceInfo`, as ``kubectl get`` does, and an unknown name into
:class:`UnknownKind` naming the closest known kinds. :func:`raw_get` is the one GET of this
layer for paths built here (validated by :func:`opsconsole.k8s.paths.resource_path`).
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.errors import OpsConsoleError

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

JSON = "application/json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


class UnknownKind(OpsConsoleError):
    """A kind the cluster does not serve (by any of kubectl's names for it)."""

    code = "unknown_kind"


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def ref(self) -> str:
        """kubectl's full name: ``deployments.apps``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def can(self, verb: str) -> bool:
        return not self.verbs or verb in self.verbs


@dataclass
class _Catalog:
    items: list[ResourceInfo] = field(default_factory=list)
    names: dict[str, ResourceInfo] = field(default_factory=dict)


_cache: dict[tuple[str, str], _Catalog] = {}
_lock = threading.Lock()


def raw_get(
    cluster: Cluster,
    path: str,
    query: list[tuple[str, Any]] | None = None,
    *,
    accept: str = JSON,
) -> Any:
    """GET ``path`` (built from validated parts) through the guarded client; the parsed JSON."""
    from opsconsole.k8s.client import loads, map_error

    client = cluster.api_client
    for attempt in (0, 1):
        try:
            params = client.param_serialize(
                method="GET",
                resource_path=path,
                query_params=list(query or []),
                header_params={"Accept": accept},
                auth_settings=["BearerToken"],
            )
            resp = client.call_api(*params, _request_timeout=cluster.timeout)
            if resp.status == 401 and attempt == 0:
                cluster.reload()
                client = cluster.api_client
                continue
            body = resp.read()
        except OpsConsoleError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a readable error
            raise map_error(exc, server=cluster.server) from None
        if resp.status >= 400:
            raise map_error(HttpStatusException(resp.status, body), server=cluster.server)
        try:
            return loads(body)
        except ValueError:
            from opsconsole.errors import ClusterError

            raise ClusterError("the API server sent a response that is not JSON") from None
    raise AssertionError("unreachable")  # pragma: no cover


class HttpStatusException(Exception):
    """An HTTP error status in the shape :func:`~opsconsole.k8s.client.map_error` reads (an
    ``...Exception`` with ``status`` and ``body``, like the client's ApiException)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.reason = f"HTTP {status}"


def _entries(doc: dict[str, Any], group: str, version: str) -> list[ResourceInfo]:
    out = []
    for r in doc.get("resources") or ():
        name = str(r.get("name") or "")
        if not name or "/" in name:
            continue  # subresources
        out.append(
            ResourceInfo(
                group=str(r.get("group") or group),
                version=str(r.get("version") or version),
                plural=name,
                singular=str(r.get("singularName") or r.get("kind", "").lower()),
                kind=str(r.get("kind") or ""),
                namespaced=bool(r.get("namespaced")),
                verbs=tuple(r.get("verbs") or ()),
                short_names=tuple(r.get("shortNames") or ()),
            )
        )
    return out


def _load(cluster: Cluster) -> _Catalog:
    items = _entries(raw_get(cluster, "/api/v1"), "", "v1")
    groups = raw_get(cluster, "/apis").get("groups") or []
    from opsconsole.k8s.paths import check_part

    for g in groups:
        name = str(g.get("name") or "")
        pref = (g.get("preferredVersion") or {}).get("version") or (
            (g.get("versions") or [{}])[0].get("version")
        )
        if not name or not pref:
            continue
        path = f"/apis/{check_part('group', name)}/{check_part('version', pref)}"
        try:
            items += _entries(raw_get(cluster, path), name, pref)
        except OpsConsoleError:
            continue  # an unavailable aggregated API does not hide the rest (kubectl warns)
    cat = _Catalog(items=items)
    # later entries never override earlier ones: core first, as kubectl prefers
    for r in items:
        keys = [r.plural, r.singular, r.kind.lower(), r.ref, *r.short_names]
        if r.group:
            keys += [f"{r.singular}.{r.group}", f"{r.kind.lower()}.{r.group}"]
            keys += [f"{r.plural}.{r.version}.{r.group}"]
        for k in keys:
            if k:
                cat.names.setdefault(k.lower(), r)
    return cat


def _catalog(cluster: Cluster, *, refresh: bool = False) -> _Catalog:
    key = (cluster.server, cluster.context)
    with _lock:
        cat = _cache.get(key)
    if cat is None or refresh:
        cat = _load(cluster)
        with _lock:
            _cache[key] = cat
    return cat


def resources(cluster: Cluster) -> list[ResourceInfo]:
    """Every top-level resource the cluster serves (cached per server and context)."""
    return list(_catalog(cluster).items)


def forget(cluster: Cluster) -> None:
    """Drop the cached discovery of ``cluster`` (a CRD was added, the context switched)."""
    with _lock:
        _cache.pop((cluster.server, cluster.context), None)


def closest(cluster: Cluster, name: str, n: int = 3) -> list[str]:
    cat = _catalog(cluster)
    hits = difflib.get_close_matches(name.lower(), list(cat.names), n=8, cutoff=0.5)
    out: list[str] = []
    for h in hits:
        ref = cat.names[h].plural
        if ref not in out:
            out.append(ref)
    return out[:n]


def resolve(cluster: Cluster, name: object) -> ResourceInfo:
    """kubectl's resolution of a resource name; :class:`UnknownKind` with the closest kinds."""
    if not isinstance(name, str) or not name.strip():
        raise UnknownKind("kind is required (e.g. pods, deploy, svc, configmaps)")
    key = name.strip().lower()
    cat = _catalog(cluster)
    hit = cat.names.get(key)
    if hit is None:
        cat = _catalog(cluster, refresh=True)  # a CRD added since the cache was filled
        hit = cat.names.get(key)
    if hit is None:
        near = closest(cluster, key)
        also = f"; closest: {', '.join(near)}" if near else ""
        raise UnknownKind(
            f"the server does not serve a resource type {name.strip()!r}{also}",
            hint="list_api_resources shows every kind the cluster serves",
        )
    return hit
