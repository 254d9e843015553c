"""Requests the API answers without storing anything: SelfSubjectAccessReview (``kubectl auth
can-i``, with ``--as`` too), SubjectAccessReview and LocalSubjectAccessReview (RBAC's answer
for a named user), SelfSubjectRulesReview (``kubectl auth can-i --list``) and TokenRequest
(``kubectl create token``: a token the API then authenticates as the service account)."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import TYPE_CHECKING

from . import resources as R
from .apitypes import ApiError
from .rbac import Attributes, Authorizer, User, service_account_user
from .store import Obj, iso

if TYPE_CHECKING:
    from .server import Faults


def access_review(
    kind: str, faults: Faults, review: Obj, user: User, authorizer: Authorizer, ns: str | None
) -> Obj:
    """SelfSubjectAccessReview (for the requesting user, impersonation included),
    SubjectAccessReview and LocalSubjectAccessReview (for ``spec.user`` and ``spec.groups``):
    the same RBAC rules that answer requests, then the fault rules."""
    spec = review.get("spec") or {}
    if kind != "SelfSubjectAccessReview":
        if not spec.get("user") and not spec.get("groups"):
            raise ApiError(
                422,
                "Invalid",
                f'{kind}.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at '
                "least one of user or group must be specified",
            )
        name = spec.get("user", "")
        groups = tuple(spec.get("groups") or ())
        if name.startswith("system:serviceaccount:") and name.count(":") == 3:
            _, _, sa_ns, sa = name.split(":")
            user = service_account_user(sa_ns, sa, groups)
        else:
            user = User(name, groups)
    attrs = spec.get("resourceAttributes")
    status: Obj = {"allowed": True}
    if attrs:
        namespace = attrs.get("namespace") or None
        if kind == "LocalSubjectAccessReview":
            namespace = ns
        a = Attributes(
            attrs.get("verb", ""),
            attrs.get("group", ""),
            attrs.get("resource", ""),
            attrs.get("subresource") or None,
            namespace,
            attrs.get("name") or None,
        )
        allowed, reason = authorizer.decide(user, a)
        if allowed:
            res = R.Resource(a.group, attrs.get("version", ""), a.resource, "", True)
            try:
                faults.check(a.verb, res, namespace, a.name, a.subresource)
            except ApiError:
                allowed, reason = False, ""
        status = {"allowed": allowed}
        if reason:
            status["reason"] = reason
    elif spec.get("nonResourceAttributes"):
        status = {"allowed": True}
    md = dict(review.get("metadata") or {})
    md["creationTimestamp"] = None
    return {
        "kind": kind,
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": md,
        "spec": spec,
        "status": status,
    }


_KINDS = {
    "selfsubjectaccessreviews": "SelfSubjectAccessReview",
    "subjectaccessreviews": "SubjectAccessReview",
    "localsubjectaccessreviews": "LocalSubjectAccessReview",
}


def review(
    plural: str, faults: Faults, body: Obj, user: User, authorizer: Authorizer, ns: str | None
) -> Obj:
    if plural == "selfsubjectrulesreviews":
        return self_subject_rules_review(body, user, authorizer)
    if plural == "selfsubjectreviews":  # kubectl auth whoami
        return {
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": {"username": user.name, "groups": list(user.groups)}},
        }
    return access_review(_KINDS[plural], faults, body, user, authorizer, ns)


def self_subject_rules_review(review: Obj, user: User, authorizer: Authorizer) -> Obj:
    """The rules RBAC grants the user in the review's namespace (forbidden verbs of the fault
    rules are not roles and are not listed)."""
    spec = review.get("spec") or {}
    non_resource = (
        [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
        if user.admin
        else [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*"]}]
    )
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": {
            "resourceRules": authorizer.rules_for(user, spec.get("namespace") or "default"),
            "nonResourceRules": non_resource,
            "incomplete": False,
        },
    }


def token_request(sa: Obj, request: Obj) -> Obj:
    """A token for the service account: JWT-shaped, signed by nobody (the sandbox is local)."""
    spec = dict(request.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or 3600)
    audiences = spec.get("audiences") or ["https://kubernetes.default.svc.cluster.local"]
    spec["audiences"] = audiences
    spec["expirationSeconds"] = seconds
    md = sa["metadata"]
    now = int(time.time())
    claims = {
        "aud": audiences,
        "exp": now + seconds,
        "iat": now,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": os.urandom(8).hex(),
        "kubernetes.io": {
            "namespace": md["namespace"],
            "serviceaccount": {"name": md["name"], "uid": md["uid"]},
        },
        "nbf": now,
        "sub": f"system:serviceaccount:{md['namespace']}:{md['name']}",
    }
    token = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode())
        for part in ({"alg": "none", "typ": "JWT"}, claims)
    )
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {
            "name": md["name"],
            "namespace": md["namespace"],
            "creationTimestamp": iso(now),
        },
        "spec": spec,
        "status": {"token": token + ".sandbox", "expirationTimestamp": iso(now + seconds)},
    }


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
