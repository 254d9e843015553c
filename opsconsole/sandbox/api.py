"""Request routing and the REST semantics of the sandbox (transport-free).

:meth:`Api.handle` turns (method, path, query, headers, body) into a :class:`Response` or a
stream description (:class:`WatchStream`, :class:`LogStream`) that the HTTP layer drives.
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from . import resources as R
from . import tables
from .api_write import Writes
from .apitypes import (
    ApiError,
    Body,
    LogStream,
    Response,
    WatchStream,
    _q_int,
    not_found,
    ok,
    parse_body,
    status_obj,
)
from .cluster import Cluster, LogUnavailable
from .metrics import node_metrics, pod_metrics
from .negotiate import as_protobuf, decode_body, wants_only_protobuf
from .rbac import ADMIN_USER, Attributes, Authorizer, User, authenticate
from .reviews import review as answer_review
from .reviews import token_request
from .selectors import SelectorError, combine, field_selector, label_selector
from .store import Obj, TooOld, dumps
from .wire import openapi
from .wire.gnostic import RESPONSE_TYPE as GNOSTIC_RESPONSE

if TYPE_CHECKING:
    from .exporters import Exporters
    from .server import Faults

VERSION = {
    "major": "1",
    "minor": "31",
    "emulationMajor": "1",
    "emulationMinor": "31",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "30",
    "gitVersion": "v1.31.2-opsconsole-sandbox",
    "gitCommit": "0" * 40,
    "gitTreeState": "clean",
    "buildDate": "2024-10-22T20:28:14Z",
    "goVersion": "go1.22.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}


class Api:
    def __init__(self, cluster: Cluster, faults: Faults, address: str = "127.0.0.1:0") -> None:
        self.c = cluster
        self.writes = Writes(cluster)
        self.faults = faults
        self.address = address
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._exporters: Exporters | None = None
        #: (namespace, service) -> the URL the service proxy forwards to (the monitoring stack)
        self.proxies: dict[tuple[str, str], str] = {}
        self.authorizer = Authorizer(cluster.store)

    # --- entry --------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes
    ) -> Response | WatchStream | LogStream:
        parts = [p for p in path.split("/") if p]
        if self.proxies and len(parts) >= 7 and parts[4] == "services" and parts[6] == "proxy":
            if parts[:3] == ["api", "v1", "namespaces"]:
                return self._proxy(method, parts[3], parts[5], parts[7:], query, headers, body)
        try:
            user = authenticate(headers, self.c.store)
            out = self._handle(method, path, query, headers, decode_body(headers, body), user)
        except ApiError as e:
            out = self.error(e.code, e.reason, e.message, e.details)
        if wants_only_protobuf(headers.get("Accept")):
            return as_protobuf(out)
        return out

    def _proxy(
        self,
        method: str,
        ns: str,
        service: str,
        rest: list[str],
        query: dict[str, str],
        headers: Any,
        body: bytes,
    ) -> Response:
        """``services/<name>[:<port>]/proxy/<path>``: forwarded to a registered service."""
        import urllib.error
        import urllib.parse
        import urllib.request

        names = [p for p in service.split(":") if p not in ("http", "https")]
        base = self.proxies.get((ns, names[0] if names else ""))
        if base is None:
            return self.error(
                503,
                "ServiceUnavailable",
                f'no endpoints available for service "{service}"',
                {"name": service, "kind": "services"},
            )
        url = base + "/" + "/".join(rest)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        ctype = headers.get("Content-Type") or "application/x-www-form-urlencoded"
        req = urllib.request.Request(
            url, data=body or None, method=method, headers={"Content-Type": ctype}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return Response(r.status, r.read(), r.headers.get("Content-Type") or "text/plain")
        except urllib.error.HTTPError as e:
            return Response(e.code, e.read(), e.headers.get("Content-Type") or "text/plain")
        except (urllib.error.URLError, OSError) as e:
            return self.error(
                503, "ServiceUnavailable", f"error trying to reach service: {e}", None
            )

    def error(self, code: int, reason: str, message: str, details: Obj | None = None) -> Response:
        return Response(code, dumps(status_obj(code, reason, message, details)))

    def _handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: Any,
        body: Body,
        user: User = ADMIN_USER,
    ) -> Response | WatchStream | LogStream:
        parts = [p for p in path.split("/") if p]
        if method == "GET" and parts and parts[0] == "openapi":
            return self._openapi(parts[1:], query, headers)
        if method == "GET":
            simple = self._simple(parts)
            if simple is not None:
                return simple
        if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
        ns: str | None = None
        registry = self.c.registry
        if rest[0] == "namespaces" and len(rest) >= 3 and registry.lookup(group, version, rest[2]):
            ns, rest = rest[1], rest[2:]
        res = registry.lookup(group, version, rest[0])
        if res is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if ns is not None and not res.namespaced:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub and sub not in registry.subresources(res)):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        watch = query.get("watch") in ("true", "1")
        verb = {
            "GET": "watch" if watch else ("get" if name else "list"),
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete",
        }.get(method)
        if verb is None:
            raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
        if method == "PATCH" and name is not None and sub is None:
            ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype == "application/apply-patch+yaml" and (
                self.c.store.get(res.key, ns or "", name) is None
            ):
                verb = "create"  # a server-side apply that creates needs create
        with self.c.lock:
            self.authorizer.check(user, Attributes(verb, res.group, res.plural, sub, ns, name))
        self.faults.check(verb, res, ns, name, sub)
        dry_run = query.get("dryRun") == "All"
        with self.c.lock:
            if res.review:
                if method != "POST" or name is not None:
                    raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
                review = parse_body(body)
                if not isinstance(review, dict):
                    raise ApiError(
                        400, "BadRequest", "the body of the request was in an unknown format"
                    )
                return ok(
                    answer_review(res.plural, self.faults, review, user, self.authorizer, ns), 201
                )
            if not res.stored:
                return self._metrics(res, ns, name, query, headers, watch)
            if (
                ns is not None
                and self.c.store.get("namespaces", "", ns) is None
                and method in ("POST",)
            ):
                raise ApiError(
                    404,
                    "NotFound",
                    f'namespaces "{ns}" not found',
                    {"name": ns, "kind": "namespaces"},
                )
            if name is None:
                if method == "GET":
                    return self._list(res, ns, query, headers, watch)
                if method == "POST":
                    return self.writes.create(res, ns, query, body, dry_run, headers)
                raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
            if sub == "log":
                return self._log(ns or "", name, query)
            if sub == "scale":
                return self.writes.scale(res, ns or "", name, method, headers, body, dry_run)
            if sub == "token":
                if method != "POST":
                    raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")
                request = parse_body(body)
                sa = self.writes.get(res, ns or "", name)
                return ok(token_request(sa, request if isinstance(request, dict) else {}), 201)
            if method == "GET":
                obj = self.writes.get(res, ns or "", name)
                if sub is None and self._want(headers)[0]:  # kubectl get KIND NAME: a Table
                    include = query.get("includeObject") or "Metadata"
                    meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                    printer = self.c.crds.printer(res)
                    return ok(tables.table(res.key, [obj], include, meta, printer=printer))
                return ok(obj)
            if method == "DELETE":
                return self.writes.delete(res, ns or "", name, query, body, dry_run)
            if method in ("PUT", "PATCH"):
                return self.writes.write(
                    res, ns or "", name, method, headers, body, dry_run, sub, query
                )
        raise ApiError(405, "MethodNotAllowed", f"method {method} not allowed")

    def _simple(self, parts: list[str]) -> Response | None:
        if parts in (["version"], ["version", ""]):
            return ok(VERSION)
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return Response(200, b"ok", "text/plain")
        if parts == ["api"]:
            return ok(R.api_versions(self.address))
        if parts == ["apis"]:
            return ok(self.c.registry.api_group_list())
        if parts == ["api", "v1"]:
            return ok(self.c.registry.resource_list("", "v1"))
        if len(parts) == 2 and parts[0] == "apis":
            doc = self.c.registry.api_group(parts[1])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return ok(doc)
        if len(parts) == 3 and parts[0] == "apis":
            doc = self.c.registry.resource_list(parts[1], parts[2])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return ok(doc)
        if parts and parts[0] == "metrics":
            return self._exposition(parts[1:])
        if parts and parts[0] == "swagger.json":
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return None

    @property
    def exporters(self) -> Exporters:
        """The Prometheus exporters (:mod:`.exporters`), made on the first scrape."""
        if self._exporters is None:
            from .exporters import Exporters

            self._exporters = Exporters(self.c)
        return self._exporters

    def _exposition(self, parts: list[str]) -> Response:
        """``/metrics/kube-state``, ``/metrics/cadvisor``, ``/metrics/apps/<ns>/<service>``:
        the Prometheus text format; a service without a ready pod answers 503."""
        from prometheus_client.exposition import CONTENT_TYPE_LATEST

        body: bytes | None = None
        if len(parts) == 1:
            body = self.exporters.render(parts[0])
        elif len(parts) == 3 and parts[0] == "apps":
            if (parts[1], parts[2]) in self.exporters.app_targets():
                body = self.exporters.render_app(parts[1], parts[2])
                if body is None:
                    return Response(503, b"no ready pod behind the service\n", "text/plain")
        if body is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Response(200, body, CONTENT_TYPE_LATEST)

    def _openapi(self, parts: list[str], query: dict[str, str], headers: Any) -> Response:
        """/openapi/v2 and /openapi/v3[/<group-version>] (see :mod:`.wire.openapi`)."""
        custom, definitions = self.c.crds.openapi()
        docs = openapi.documents(
            f"{VERSION['major']}.{VERSION['minor']}", [*R.openapi_served(), *custom], definitions
        )
        if parts == ["v2"]:
            accept = headers.get("Accept") or ""
            if ("proto-openapi" in accept) and "json" not in accept and "*/*" not in accept:
                return Response(200, docs.v2_protobuf(), GNOSTIC_RESPONSE)
            return Response(200, docs.v2)
        if parts == ["v3"]:
            return Response(200, docs.v3_index)
        key = "/".join(parts[1:])
        if parts[:1] != ["v3"] or key not in docs.v3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        digest = docs.v3_hashes[key]
        wanted = query.get("hash")
        if wanted is not None and wanted != digest:
            return Response(
                301,
                b"",
                "text/plain",
                {"Location": f"/openapi/v3/{key}?hash={digest}"},
            )
        cache = "public, immutable" if wanted else "no-cache, private"
        return Response(200, docs.v3[key], headers={"Etag": f'"{digest}"', "Cache-Control": cache})

    # --- reading ------------------------------------------------------------------------
    @staticmethod
    def _want(headers: Any) -> tuple[bool, bool, str]:
        accept = headers.get("Accept", "") or ""
        first = accept.split(",")[0]
        table = "as=Table" in first
        partial = "as=PartialObjectMetadata" in first
        return table, partial, ""

    def _filter(self, res: R.Resource, query: dict[str, str]) -> Any:
        try:
            return combine(
                label_selector(query.get("labelSelector")),
                field_selector(query.get("fieldSelector"), res.key),
            )
        except SelectorError as e:
            raise ApiError(400, "BadRequest", str(e)) from None

    def _list(
        self, res: R.Resource, ns: str | None, query: dict[str, str], headers: Any, watch: bool
    ) -> Response | WatchStream:
        table, partial, _ = self._want(headers)
        include = query.get("includeObject") or "Metadata"
        match = self._filter(res, query)
        store = self.c.store
        if watch:
            rv_s = query.get("resourceVersion") or ""
            since = None if rv_s in ("", "0") else _q_int(query, "resourceVersion")
            timeout = _q_int(query, "timeoutSeconds")
            bookmark = None
            if query.get("sendInitialEvents") == "true":
                since = None
                bookmark = {
                    "kind": res.kind,
                    "apiVersion": res.api_version,
                    "metadata": {"annotations": {"k8s.io/initial-events-end": "true"}},
                }
            try:
                w = store.watch(res.key, ns, match, since, bookmark=bookmark)
            except TooOld as e:
                st = status_obj(410, "Expired", str(e))
                if self.faults.gone_as_http:
                    return Response(410, dumps(st))
                return WatchStream(None, res.key, table, include, None, error=st)
            return WatchStream(
                w,
                res.key,
                table,
                include,
                float(timeout) if timeout else None,
                printer=self.c.crds.printer(res),
            )
        limit = _q_int(query, "limit") or 0
        cont = query.get("continue") or ""
        list_rv = store.rv
        start = None
        if cont:
            try:
                tok = json.loads(base64.b64decode(cont.encode()).decode())
                list_rv, start = int(tok["rv"]), (tok["start"][0], tok["start"][1])
            except Exception:
                raise ApiError(
                    400,
                    "BadRequest",
                    "continue key is not valid: incorrect encoded "
                    "start resourceVersion (version meta.k8s.io/v1)",
                ) from None
            if list_rv < store.compacted_rv:
                raise ApiError(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to "
                    "display a consistent list result. You can start a new list "
                    "without the continue parameter, or use the continue token in "
                    "this response to retrieve the remainder of the results. "
                    "Continuing with the provided token results in an inconsistent "
                    "list - objects that were created, modified, or deleted between "
                    "the time the first chunk was returned and now may show up in "
                    "the list.",
                )
        ck = (
            res.key,
            ns,
            query.get("labelSelector"),
            query.get("fieldSelector"),
            limit,
            cont,
            table,
            partial,
            include,
            store.rv,
        )
        hit = self._cache.get(ck)
        if hit is not None:
            return Response(200, hit)
        objects = store.objects.get(res.key, {})
        keys = store.keys(res.key)
        if ns is not None:
            keys = [k for k in keys if k[0] == ns]
        if start is not None:
            import bisect

            keys = keys[bisect.bisect_right(keys, start) :]
        items = [objects[k] for k in keys]
        items = [o for o in items if match(o)]
        meta: Obj = {"resourceVersion": str(list_rv)}
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            token = {"rv": list_rv, "start": [last.get("namespace", ""), last["name"]]}
            meta["continue"] = base64.b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if table:
            printer = self.c.crds.printer(res)
            data = dumps(tables.table(res.key, items, include, meta, printer=printer))
        elif partial:
            data = dumps(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [tables.partial(o) for o in items],
                }
            )
        else:
            head = dumps({"kind": res.list_kind, "apiVersion": res.api_version, "metadata": meta})[
                :-1
            ]
            data = b"".join(
                (head, b',"items":[', b",".join(store.obj_bytes(res.key, o) for o in items), b"]}")
            )
        self._cache[ck] = data
        while len(self._cache) > 4:
            self._cache.popitem(last=False)
        return Response(200, data)

    def _metrics(
        self,
        res: R.Resource,
        ns: str | None,
        name: str | None,
        query: dict[str, str],
        headers: Any,
        watch: bool,
    ) -> Response:
        if watch:
            raise ApiError(405, "MethodNotAllowed", "watch is not supported on metrics")
        match = self._filter(res, query)
        if res.plural == "pods":
            pods = self.c.store.list("pods", ns)
            if name is not None:
                pods = [p for p in pods if p["metadata"]["name"] == name]
            items = [m for p in pods if match(p) and (m := pod_metrics(self.c, p)) is not None]
        else:
            by_node: dict[str, list[Obj]] = {}
            for p in self.c.store.list("pods"):
                by_node.setdefault(p["spec"].get("nodeName", ""), []).append(p)
            nodes = self.c.store.list("nodes")
            if name is not None:
                nodes = [n for n in nodes if n["metadata"]["name"] == name]
            items = [node_metrics(self.c, n, by_node) for n in nodes if match(n)]
        if name is not None:
            if not items:
                raise ApiError(
                    404,
                    "NotFound",
                    f'{res.plural}.metrics.k8s.io "{name}" not found',
                    {"name": name, "group": "metrics.k8s.io", "kind": res.plural},
                )
            return ok(items[0])
        return ok(
            {"kind": res.list_kind, "apiVersion": res.api_version, "metadata": {}, "items": items}
        )

    # --- logs -----------------------------------------------------------------------------
    def _log(self, ns: str, name: str, query: dict[str, str]) -> Response | LogStream:
        if self.c.store.get("pods", ns, name) is None:
            raise not_found(R.lookup("", "v1", "pods"), name)  # type: ignore[arg-type]
        previous = query.get("previous") in ("true", "1")
        try:
            source, inst, _ = self.c.log_source(ns, name, query.get("container") or None, previous)
        except LogUnavailable as e:
            raise ApiError(400, "BadRequest", str(e)) from None
        tail = _q_int(query, "tailLines")
        limit = _q_int(query, "limitBytes")
        since_s = _q_int(query, "sinceSeconds")
        now = time.time()
        since = now - since_s if since_s is not None else None
        if query.get("sinceTime"):
            since = tables.parse_ts(query["sinceTime"])
        ts = query.get("timestamps") in ("true", "1")
        from .logs import render

        raw = source.collect(inst, None, now)
        lines = render(raw, timestamps=ts, tail=tail, since=since)
        if query.get("follow") in ("true", "1"):
            # the crash lines go out once: now if the run has ended, else when it ends (a
            # short run's crash lines may be timed before its last start line)
            crashed = bool(source.crash_lines(inst))
            return LogStream(source, inst, ns, name, ts, limit, lines, now, crashed)
        data = "".join(lines).encode()
        if limit is not None:
            data = data[:limit]
        return Response(200, data, "text/plain")


__all__ = ["Api", "ApiError", "LogStream", "Response", "WatchStream", "status_obj"]
