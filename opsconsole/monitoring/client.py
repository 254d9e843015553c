"""HTTP clients of the Prometheus API (``/api/v1``) and the Alertmanager API v2, over httpx.

Every expected failure is an :class:`~opsconsole.errors.OpsConsoleError`:
:class:`MonitoringUnreachable` (no answer, or not the API), :class:`QueryError` (Prometheus
refused the query: its own message, e.g. ``1:5: parse error: unexpected <EOF>``),
:class:`TooManySeries` (the query selects more series than ``max_series``: refused before it
runs) and :class:`MonitoringNotReady` (the demo's stack is still loading its history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from opsconsole.errors import OpsConsoleError


class MonitoringError(OpsConsoleError):
    code = "monitoring_error"


class MonitoringUnreachable(MonitoringError):
    code = "unreachable"


class MonitoringNotReady(MonitoringError):
    code = "unreachable"


class QueryError(MonitoringError):
    code = "invalid_argument"


class TooManySeries(MonitoringError):
    code = "too_many_series"


class _Api:
    """One API root with an optional bearer token."""

    what = "API"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        wait_ready: Callable[[float], bool] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._wait_ready = wait_ready

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: Any = None) -> Any:
        return self._request("GET", path, params=params)

    def _request(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        if self._wait_ready is not None and not self._wait_ready(60.0):
            raise MonitoringNotReady(
                f"the sandbox's {self.what} is not ready",
                hint="it loads the scenario's history at start; try again in a moment",
            )
        try:
            r = self._http.request(method, path, params=params, json=body)
        except httpx.TimeoutException:
            raise MonitoringUnreachable(
                f"{self.what} at {self.url} did not answer in time"
            ) from None
        except httpx.HTTPError as exc:
            raise MonitoringUnreachable(
                f"{self.what} unreachable at {self.url} ({type(exc).__name__}: {exc})",
                hint="check monitoring.*.url in the config",
            ) from None
        try:
            body = r.json()
        except ValueError:
            raise MonitoringUnreachable(
                f"{self.what} at {self.url} answered HTTP {r.status_code} with no JSON "
                f"({r.text[:120].strip()!r})"
            ) from None
        if r.status_code in (401, 403):
            raise MonitoringUnreachable(
                f"{self.what} at {self.url} refused the request (HTTP {r.status_code})",
                hint="set the bearer token's environment variable (monitoring.*.bearer_token_env)",
            )
        return r, body


class Prometheus(_Api):
    what = "Prometheus"

    def _api(self, path: str, params: Any = None) -> Any:
        r, body = self._get("/api/v1/" + path, params)
        if isinstance(body, dict) and body.get("status") == "error":
            kind = body.get("errorType", "")
            message = str(body.get("error", "")).strip()
            if kind in ("bad_data", "execution") or r.status_code in (400, 422):
                raise QueryError(message or f"Prometheus refused the query (HTTP {r.status_code})")
            raise MonitoringUnreachable(f"Prometheus error ({kind}): {message}")
        if not isinstance(body, dict) or "data" not in body:
            raise MonitoringUnreachable(f"Prometheus at {self.url} answered without data")
        return body["data"]

    def query(self, query: str, time: float | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"query": query}
        if time is not None:
            params["time"] = time
        data: dict[str, Any] = self._api("query", params)
        return data

    def query_range(self, query: str, start: float, end: float, step: float) -> dict[str, Any]:
        data: dict[str, Any] = self._api(
            "query_range", {"query": query, "start": start, "end": end, "step": step}
        )
        return data

    def check_series(self, query: str, limit: int) -> int | None:
        """How many series ``query`` returns now (None: not a vector); :class:`TooManySeries`
        above ``limit``, and Prometheus's own message (of the query as written) for a bad
        one."""
        try:
            data = self.query(f"count(({query}))")
        except QueryError:
            self.query(query)  # its own message, with the user's columns
            return None
        result = data.get("result") or []
        if data.get("resultType") != "vector":
            return None
        n = int(float(result[0]["value"][1])) if result else 0
        if n > limit:
            raise TooManySeries(
                f"refused: the query selects {n:,} series (the limit is {limit:,})",
                hint='narrow it with label matchers (e.g. {namespace="shop"}) or aggregate '
                "it (sum by (namespace) (...), topk(10, ...))",
            )
        return n

    def series(self, match: str, start: float, end: float) -> list[dict[str, str]]:
        data: list[dict[str, str]] = self._api(
            "series", {"match[]": match, "start": start, "end": end}
        )
        return data

    def label_values(self, label: str, match: str | None = None) -> list[str]:
        params = {"match[]": match} if match else None
        data: list[str] = self._api(f"label/{label}/values", params)
        return data

    def rules(self) -> list[dict[str, Any]]:
        data = self._api("rules", {"type": "alert"})
        groups: list[dict[str, Any]] = data.get("groups") or []
        return groups

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self._api("alerts").get("alerts") or []
        return alerts


class Alertmanager(_Api):
    what = "Alertmanager"

    def alerts(self, filters: list[str]) -> list[dict[str, Any]]:
        params: list[tuple[str, str]] = [("active", "true"), ("silenced", "true")]
        params += [("inhibited", "true"), ("unprocessed", "true")]
        params += [("filter", f) for f in filters]
        r, body = self._get("/api/v2/alerts", params)
        if r.status_code == 400:
            message = body if isinstance(body, str) else str(body)
            raise QueryError(f"Alertmanager refused the filter: {message}")
        if not isinstance(body, list):
            raise MonitoringUnreachable(f"Alertmanager at {self.url} answered HTTP {r.status_code}")
        return body

    def create_silence(
        self, matchers: dict[str, str], starts: str, ends: str, comment: str, by: str
    ) -> str:
        """A silence of the alerts with exactly these label values; its id."""
        silence = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(matchers.items())
            ],
            "startsAt": starts,
            "endsAt": ends,
            "createdBy": by,
            "comment": comment,
        }
        r, body = self._request("POST", "/api/v2/silences", body=silence)
        if r.status_code == 400:
            raise QueryError(f"Alertmanager refused the silence: {body}")
        if not isinstance(body, dict) or not body.get("silenceID"):
            raise MonitoringUnreachable(f"Alertmanager at {self.url} answered HTTP {r.status_code}")
        return str(body["silenceID"])
