"""``kubectl auth can-i``: SelfSubjectAccessReview for the session's own user, SubjectAccessReview
for another subject (``user:alice``, ``group:devs``, ``serviceaccount:NS:NAME`` or
``system:serviceaccount:NS:NAME``). The review is POSTed with ``dryRun=All``: a review is
computed, never stored, so the read-only guard lets it through (it sends nothing but dry runs
besides GETs) and the answer is the same."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from opsconsole.errors import NotFound, OpsConsoleError

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.discovery import ResourceInfo

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*")


class InvalidSubject(OpsConsoleError):
    code = "invalid_argument"


def parse_subject(subject: str) -> dict[str, Any]:
    s = subject.strip()
    if s.startswith("system:serviceaccount:"):
        return {"user": s}
    kind, _, rest = s.partition(":")
    if not rest:
        return {"user": s}
    if kind in ("user", "User"):
        return {"user": rest}
    if kind in ("group", "Group"):
        return {"user": "", "groups": [rest]}
    if kind in ("serviceaccount", "sa", "ServiceAccount"):
        ns, _, name = rest.partition(":")
        if not name:
            raise InvalidSubject(
                f"serviceaccount subject must be serviceaccount:NAMESPACE:NAME, got {subject!r}"
            )
        return {"user": f"system:serviceaccount:{ns}:{name}"}
    raise InvalidSubject(
        f"unknown subject {subject!r}: use user:NAME, group:NAME or serviceaccount:NS:NAME"
    )


def can_i(
    cluster: Cluster,
    verb: str,
    res: ResourceInfo,
    namespace: str | None,
    *,
    subject: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> tuple[str, dict[str, Any]]:
    from opsconsole.k8s.client import map_error

    attrs: dict[str, Any] = {"verb": verb, "group": res.group, "resource": res.plural}
    if res.namespaced and namespace:
        attrs["namespace"] = namespace
    if name:
        attrs["name"] = name
    if subresource:
        attrs["subresource"] = subresource
    spec: dict[str, Any] = {"resourceAttributes": attrs}
    if subject and subject not in ("me", "self"):
        spec.update(parse_subject(subject))
        kind, plural = "SubjectAccessReview", "subjectaccessreviews"
    else:
        kind, plural = "SelfSubjectAccessReview", "selfsubjectaccessreviews"
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": kind, "spec": spec}
    client = cluster.api_client
    try:
        params = client.param_serialize(
            method="POST",
            resource_path=f"/apis/authorization.k8s.io/v1/{plural}",
            query_params=[("dryRun", "All")],
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        resp = client.call_api(*params, _request_timeout=cluster.timeout)
        raw = resp.read()
    except Exception as exc:  # noqa: BLE001 - mapped below
        err = map_error(exc, server=cluster.server)
        if isinstance(err, NotFound):
            raise NotFound(
                f"the server does not answer {kind} (not served): {err.message}"
            ) from None
        raise err from None
    if resp.status >= 400:
        from opsconsole.k8s.discovery import HttpStatusException

        err = map_error(HttpStatusException(resp.status, raw), server=cluster.server)
        if isinstance(err, NotFound):
            raise NotFound(f"the server does not answer {kind} (not served)") from None
        raise err
    status = (json.loads(raw) or {}).get("status") or {}
    allowed = bool(status.get("allowed"))
    who = subject if subject and subject not in ("me", "self") else "you (this session's user)"
    where = (
        f" in namespace {namespace}"
        if res.namespaced and namespace
        else ("" if not res.namespaced else " in all namespaces")
    )
    target = res.ref + (f"/{subresource}" if subresource else "") + (f" {name}" if name else "")
    reason = status.get("reason") or status.get("evaluationError") or ""
    can = "can" if allowed else "cannot"
    text = f"{'yes' if allowed else 'no'}: {who} {can} {verb} {target}{where}"
    if reason:
        text += f" ({reason})"
    return text, {
        "allowed": allowed,
        "denied": bool(status.get("denied")),
        "reason": reason or None,
        "review": kind,
        "subject": subject,
        "verb": verb,
        "resource": res.ref,
        "group": res.group,
        "namespace": attrs.get("namespace"),
        "name": name,
    }
