"""Kubeconfig + context -> ApiClient, with a timeout on every call and errors made readable.

A :class:`Cluster` is pinned to one context (S10): tools cannot name another one; only the UI
switches context, explicitly, with :meth:`Cluster.switch_context`. Every request goes through
:meth:`Cluster.call` (or :meth:`Cluster.get_json` for raw JSON), which

- adds ``_request_timeout=(connect, read)`` from ``settings.kubernetes.request_timeout``;
- uses limited urllib3 retries (connect errors retried once, reads never), so an unreachable
  cluster fails within a few seconds (K4) and a hung one after the read timeout (K5);
- on 401 reloads the kubeconfig, rebuilds the ApiClient and retries once (K3);
- turns every failure into an :mod:`opsconsole.errors` type via :func:`map_error`.

Read-only by default: the ApiClient is a :class:`~opsconsole.k8s.guard.GuardedApiClient`, so
every request of this layer (these calls, watches, log streams, raw ``call_api`` requests) goes
through one guard at the HTTP layer. While :attr:`Cluster.write_mode` is off it sends GETs and
server-side dry runs built by our own code, nothing else; in either mode a mutating request
whose URL was not built from validated parts is refused (see :mod:`opsconsole.k8s.guard`). The
runtime sets :attr:`Cluster.write_mode` (the console's ``/write``, ``--write``, the eval
harness); it takes effect on the next request.

The ``kubernetes`` package is imported lazily (it is slow to import; docs/performance.md).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsconsole.errors import (
    ClusterError,
    ClusterTimeout,
    ClusterUnreachable,
    Conflict,
    CredentialsExpired,
    Forbidden,
    NoClusterConfigured,
    NotFound,
    OpsConsoleError,
)

if TYPE_CHECKING:
    from opsconsole.config import KubernetesSettings, Settings

IN_CLUSTER_CONTEXT = "in-cluster"
_SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_API_CLASSES = {
    "core": "CoreV1Api",
    "apps": "AppsV1Api",
    "custom": "CustomObjectsApi",
    "version": "VersionApi",
}


class NamespaceNotAllowed(Forbidden):
    """A namespace outside ``kubernetes.namespace_allowlist`` (S11); refused before any request."""


# --- GC pause around big parses ----------------------------------------------------------

_gc_lock = threading.Lock()
_gc_depth = 0


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while parsing a big JSON document (5,000 pods: 0.75 s -> 0.2 s).

    Re-entrant and thread-safe: collection resumes when the last parser leaves.
    """
    global _gc_depth
    with _gc_lock:
        _gc_depth += 1
        was_enabled = gc.isenabled() if _gc_depth == 1 else True
        if _gc_depth == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and was_enabled:
                gc.enable()


def loads(data: bytes | str) -> Any:
    with gc_paused():
        return json.loads(data)


# --- error mapping -----------------------------------------------------------------------


def api_message(exc: Any) -> str:
    """The API server's ``Status.message`` from an ApiException, else its reason."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            data = json.loads(body)
            if isinstance(data, dict) and data.get("message"):
                return str(data["message"])
        except ValueError:
            text = str(body).strip().splitlines()
            if text:
                return text[0][:300]
    reason = getattr(exc, "reason", None) or ""
    return str(reason).strip().splitlines()[0][:300] if reason else "unknown error"


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _walk_causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        nxt = getattr(cur, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = cur.__cause__ or cur.__context__
        cur = nxt


def map_error(
    exc: BaseException,
    *,
    server: str = "",
    kind: str | None = None,
    name: str | None = None,
    namespace: str | None = None,
) -> OpsConsoleError:
    """Turn a kubernetes/urllib3/OS failure into a user-facing :mod:`opsconsole.errors` type."""
    if isinstance(exc, OpsConsoleError):
        return exc
    where = f" ({server})" if server else ""
    cls_name = type(exc).__name__
    status = _status(exc)
    if cls_name.endswith("ApiException") or cls_name.endswith("Exception") and status:
        msg = api_message(exc)
        if status == 401:
            return CredentialsExpired(
                f"credentials expired or rejected by the cluster{where} (401 Unauthorized)"
            )
        if status == 403:
            return Forbidden(f"forbidden: {msg}" if "forbidden" not in msg.lower() else msg)
        if status == 404:
            if kind and name:
                ns = f" in {namespace}" if namespace else ""
                return NotFound(f"not found: {kind}/{name}{ns}")
            return NotFound(f"not found: {msg}")
        if status in (409, 422):
            return Conflict(msg)
        if status == 0:
            return ClusterUnreachable(f"cluster unreachable{where}: {msg}")
        if status == 410:
            return ClusterError(f"resource version expired (410 Gone): {msg}")
        if status == 429:
            return ClusterError(f"API server is throttling requests (429): {msg}")
        if status and status >= 500:
            return ClusterError(f"API server error {status}{where}: {msg}")
        return ClusterError(f"API error {status}: {msg}")
    if cls_name == "ConfigException":
        return NoClusterConfigured(f"invalid kubeconfig: {str(exc).splitlines()[0][:300]}")
    for cause in _walk_causes(exc):
        cname = type(cause).__name__
        if cname in ("ReadTimeoutError", "TimeoutError") or isinstance(cause, TimeoutError):
            if cname == "ConnectTimeoutError":
                break
            return ClusterTimeout(f"cluster did not answer in time{where} (request timed out)")
    text = str(exc)
    if "Read timed out" in text:
        return ClusterTimeout(f"cluster did not answer in time{where} (request timed out)")
    if cls_name in (
        "MaxRetryError",
        "NewConnectionError",
        "NameResolutionError",
        "ConnectTimeoutError",
        "ProtocolError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "SSLError",
    ) or isinstance(exc, ConnectionError | OSError):
        detail = ""
        for cause in _walk_causes(exc):
            cn = type(cause).__name__
            if cn == "NameResolutionError" or "resolve" in str(cause).lower():
                detail = ": DNS lookup failed"
                break
            if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
                detail = ": connection refused"
                break
            if cn == "ConnectTimeoutError":
                detail = ": connect timed out"
                break
            if cn == "SSLError":
                detail = ": TLS error"
                break
        return ClusterUnreachable(f"cluster unreachable{where}{detail}")
    return ClusterError(f"kubernetes request failed: {cls_name}: {text.splitlines()[0][:200]}")


# --- kubeconfig ---------------------------------------------------------------------------


def _kubeconfig_paths(explicit: str | os.PathLike[str] | None) -> list[Path]:
    if explicit:
        return [Path(os.path.expanduser(str(explicit)))]
    env = os.environ.get("KUBECONFIG", "").strip()
    if env:
        return [Path(os.path.expanduser(p)) for p in env.split(os.pathsep) if p.strip()]
    return [Path.home() / ".kube" / "config"]


def _read_contexts(paths: list[Path]) -> tuple[list[dict[str, Any]], str | None]:
    """Contexts (first definition wins) and current-context (first file that sets it)."""
    import yaml

    contexts: list[dict[str, Any]] = []
    seen: set[str] = set()
    current: str | None = None
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise NoClusterConfigured(f"cannot read kubeconfig {path}: {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark else ""
            raise NoClusterConfigured(f"invalid kubeconfig {path}: malformed YAML{at}") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise NoClusterConfigured(f"invalid kubeconfig {path}: not a mapping")
        for ctx in data.get("contexts") or []:
            if isinstance(ctx, dict) and isinstance(ctx.get("name"), str):
                if ctx["name"] not in seen:
                    seen.add(ctx["name"])
                    contexts.append(ctx)
        if current is None and data.get("current-context"):
            current = str(data["current-context"])
    return contexts, current


def kubeconfig_contexts(kubeconfig: str | os.PathLike[str] | None = None) -> list[str]:
    """Context names of a kubeconfig (or the default chain) without loading a cluster; [] when
    there is no readable kubeconfig."""
    paths = [p for p in _kubeconfig_paths(kubeconfig) if p.exists()]
    try:
        found, _ = _read_contexts(paths)
    except NoClusterConfigured:
        return []
    return [str(c["name"]) for c in found]


def _in_cluster_available() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (_SA_DIR / "token").exists()


class Cluster:
    """One cluster connection, pinned to one kubeconfig context.

    Raises :class:`NoClusterConfigured` on construction when no usable config is found (K9).
    """

    def __init__(
        self,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
        request_timeout: float = 15.0,
        connect_timeout: float | None = None,
        default_namespace: str | None = None,
        namespace_allowlist: list[str] | tuple[str, ...] = (),
        connect_retries: int = 1,
        in_cluster_fallback: bool = True,
        write_mode: bool = False,
    ) -> None:
        from opsconsole.k8s.guard import RequestGuard

        self.request_timeout = float(request_timeout)
        self.connect_timeout = float(connect_timeout or min(5.0, self.request_timeout))
        self.namespace_allowlist: tuple[str, ...] = tuple(namespace_allowlist or ())
        self.connect_retries = max(0, int(connect_retries))
        self._explicit_kubeconfig = kubeconfig
        self._explicit_namespace = default_namespace
        self._in_cluster_fallback = in_cluster_fallback
        self._lock = threading.RLock()
        self._guard = RequestGuard(write_mode=write_mode)
        self._api_client: Any = None
        self._apis: dict[str, Any] = {}
        self.contexts: list[dict[str, Any]] = []
        self.kubeconfig_paths: list[Path] = []
        self.in_cluster = False
        self.context: str = ""
        self.server: str = ""
        self._namespace_from_context: str | None = None
        self._load(context)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls,
        settings: Settings | KubernetesSettings,
        *,
        kubeconfig: str | os.PathLike[str] | None = None,
        context: str | None = None,
    ) -> Cluster:
        from opsconsole.config import KubernetesSettings

        ks = settings if isinstance(settings, KubernetesSettings) else settings.kubernetes
        return cls(
            kubeconfig=kubeconfig or ks.kubeconfig,
            context=context or ks.context,
            request_timeout=ks.request_timeout,
            default_namespace=ks.namespace if ks.namespace != "default" else None,
            namespace_allowlist=list(
                dict.fromkeys([*ks.namespace_allowlist, *ks.allowed_namespaces])
            ),
        )

    def _load(self, context: str | None) -> None:
        """(Re)read the kubeconfig and build a fresh ApiClient for ``context``."""
        from kubernetes import config as kconfig
        from kubernetes.client import Configuration

        from opsconsole.k8s.guard import GuardedApiClient

        paths = _kubeconfig_paths(self._explicit_kubeconfig)
        existing = [p for p in paths if p.is_file()]
        cfg = Configuration()
        if not existing:
            if self._explicit_kubeconfig or not (
                self._in_cluster_fallback and _in_cluster_available()
            ):
                shown = ", ".join(str(p) for p in paths)
                raise NoClusterConfigured(f"no kubeconfig found ({shown})")
            if context and context != IN_CLUSTER_CONTEXT:
                raise NoClusterConfigured(
                    f"unknown context {context!r}: no kubeconfig, only in-cluster config"
                )
            try:
                kconfig.load_incluster_config(client_configuration=cfg)
            except Exception as exc:  # ConfigException and friends
                raise NoClusterConfigured(f"in-cluster config unusable: {exc}") from None
            self.in_cluster = True
            self.contexts = [{"name": IN_CLUSTER_CONTEXT, "context": {}}]
            self.context = IN_CLUSTER_CONTEXT
            ns_file = _SA_DIR / "namespace"
            self._namespace_from_context = ns_file.read_text().strip() if ns_file.exists() else None
        else:
            joined = os.pathsep.join(str(p) for p in existing)
            names, current = _read_contexts(existing)
            known = [c.get("name") for c in names]
            wanted = context or current
            if not wanted:
                raise NoClusterConfigured(
                    f"kubeconfig {joined} has no current-context; pass --context "
                    f"(known: {', '.join(map(str, known)) or 'none'})"
                )
            if wanted not in known:
                raise NoClusterConfigured(
                    f"unknown context {wanted!r} in {joined} "
                    f"(known: {', '.join(map(str, known)) or 'none'})"
                )
            try:
                kconfig.load_kube_config(
                    config_file=joined,
                    context=wanted,
                    client_configuration=cfg,
                    persist_config=False,
                )
            except Exception as exc:
                raise NoClusterConfigured(
                    f"cannot use context {wanted!r} from {joined}: {str(exc).splitlines()[0][:200]}"
                ) from None
            self.in_cluster = False
            self.contexts = [c for c in names if isinstance(c, dict)]
            self.context = wanted
            ctx = next(c for c in self.contexts if c.get("name") == wanted)
            self._namespace_from_context = (ctx.get("context") or {}).get("namespace")
        self.kubeconfig_paths = existing
        import urllib3

        cfg.retries = urllib3.Retry(
            total=self.connect_retries,
            connect=self.connect_retries,
            read=0,
            status=0,
            other=0,
            redirect=0,
            backoff_factor=0.2,
            raise_on_status=False,
        )
        old = self._api_client
        self._api_client = GuardedApiClient(cfg, self._guard)
        self._apis = {}
        self.server = str(cfg.host or "")
        if old is not None:
            with contextlib.suppress(Exception):
                old.close()

    # -- public state ----------------------------------------------------------------------

    @property
    def write_mode(self) -> bool:
        """Whether the HTTP layer sends changes (off: only GETs and our own dry runs)."""
        return self._guard.write_mode

    @write_mode.setter
    def write_mode(self, on: bool) -> None:
        self._guard.write_mode = bool(on)

    @property
    def default_namespace(self) -> str:
        return self._explicit_namespace or self._namespace_from_context or "default"

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds passed as ``_request_timeout`` on every call."""
        return (self.connect_timeout, self.request_timeout)

    def list_contexts(self) -> list[str]:
        return [str(c.get("name")) for c in self.contexts]

    def current_context(self) -> str:
        return self.context

    def switch_context(self, name: str) -> None:
        """Re-pin to another context (explicit user action in the UI only; S10)."""
        with self._lock:
            if name not in self.list_contexts():
                raise NoClusterConfigured(
                    f"unknown context {name!r} (known: {', '.join(self.list_contexts())})"
                )
            self._load(name)

    def reload(self) -> None:
        """Re-read the kubeconfig (fresh exec/OIDC credentials) and rebuild the ApiClient."""
        with self._lock:
            self._load(self.context)

    def close(self) -> None:
        with self._lock:
            if self._api_client is not None:
                with contextlib.suppress(Exception):
                    self._api_client.close()
            self._apis = {}

    def describe(self) -> str:
        return f"context {self.context} ({self.server})"

    # -- namespaces ------------------------------------------------------------------------

    def check_namespace(self, namespace: str | None) -> None:
        """Refuse a namespace outside the allowlist before any request (S11)."""
        if not self.namespace_allowlist:
            return
        if namespace is None:
            return
        if namespace not in self.namespace_allowlist:
            raise NamespaceNotAllowed(
                f"namespace {namespace!r} is outside the configured allowlist "
                f"({', '.join(self.namespace_allowlist)})"
            )

    def scope(self, namespace: str | None) -> list[str | None]:
        """Namespaces to query for ``namespace`` (None = all, narrowed by the allowlist)."""
        if namespace is not None:
            self.check_namespace(namespace)
            return [namespace]
        if self.namespace_allowlist:
            return list(self.namespace_allowlist)
        return [None]

    # -- requests --------------------------------------------------------------------------

    def api(self, name: str) -> Any:
        """The generated API object (``core``, ``apps``, ``custom``, ``version``)."""
        with self._lock:
            obj = self._apis.get(name)
            if obj is None:
                import kubernetes.client as kc

                obj = getattr(kc, _API_CLASSES[name])(self._api_client)
                self._apis[name] = obj
            return obj

    @property
    def api_client(self) -> Any:
        return self._api_client

    def call(
        self,
        api: str,
        method: str,
        *args: Any,
        err_kind: str | None = None,
        err_name: str | None = None,
        err_namespace: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Call ``<api>.<method>(*args, **kwargs)`` with a timeout, 401 handling and mapping."""
        kwargs.setdefault("_request_timeout", self.timeout)
        for attempt in (0, 1):
            obj = self.api(api)
            try:
                return getattr(obj, method)(*args, **kwargs)
            except Exception as exc:
                if attempt == 0 and _status(exc) == 401:
                    try:
                        self.reload()
                    except OpsConsoleError:
                        pass
                    continue
                raise map_error(
                    exc,
                    server=self.server,
                    kind=err_kind,
                    name=err_name,
                    namespace=err_namespace,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, api: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`call` with ``_preload_content=False``; returns the parsed JSON body."""
        kwargs["_preload_content"] = False
        resp = self.call(api, method, *args, **kwargs)
        try:
            data = resp.data
        except Exception as exc:
            raise map_error(exc, server=self.server) from None
        finally:
            with contextlib.suppress(Exception):
                resp.release_conn()
        try:
            return loads(data)
        except ValueError:
            raise ClusterError("the API server sent a response that is not JSON") from None

    def stream(self, api: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like :meth:`call` with ``_preload_content=False``: the open urllib3 response."""
        kwargs["_preload_content"] = False
        return self.call(api, method, *args, **kwargs)
