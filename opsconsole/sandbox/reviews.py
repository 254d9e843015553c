"""Requests the API answers without storing anything: SelfSubjectAccessReview (``kubectl auth
can-i``), SelfSubjectRulesReview (``kubectl auth can-i --list``) and TokenRequest (``kubectl
create token``)."""

from __future__ import annotations

import base64
import json
import os
import time
from typing import TYPE_CHECKING

from . import resources as R
from .apitypes import ApiError
from .store import Obj, iso

if TYPE_CHECKING:
    from .server import Faults


def self_subject_access_review(faults: Faults, review: Obj) -> Obj:
    """Answer from the fault rules: the sandbox's user may do anything not forbidden."""
    spec = review.get("spec") or {}
    attrs = spec.get("resourceAttributes")
    allowed = True
    if attrs:
        res = R.Resource(
            attrs.get("group", ""), attrs.get("version", ""), attrs.get("resource", ""), "", True
        )
        try:
            faults.check(
                attrs.get("verb", ""),
                res,
                attrs.get("namespace") or None,
                attrs.get("name") or None,
                attrs.get("subresource") or None,
            )
        except ApiError:
            allowed = False  # RBAC denies without a reason; kubectl prints "no"
    status: Obj = {"allowed": allowed}
    md = dict(review.get("metadata") or {})
    md["creationTimestamp"] = None
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": md,
        "spec": spec,
        "status": status,
    }


def review(plural: str, faults: Faults, body: Obj) -> Obj:
    if plural == "selfsubjectrulesreviews":
        return self_subject_rules_review(body)
    return self_subject_access_review(faults, body)


def self_subject_rules_review(review: Obj) -> Obj:
    """The sandbox's user may do anything (forbidden verbs are a fault rule, not a role)."""
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": review.get("spec") or {},
        "status": {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
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
