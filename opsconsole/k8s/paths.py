"""Kubernetes name syntax and API paths built from validated parts only.

Every part of a path our code builds (group, version, plural, namespace, name) and every path
parameter the official client substitutes is checked against the Kubernetes syntax with
``re.fullmatch`` (a trailing newline is not a name) and percent-quoted, so text from a manifest
or a model can never add a segment, a query or a fragment to a request:

- namespace, plural: DNS-1123 label (at most 63 characters);
- name, group: DNS-1123 subdomain (at most 253 characters);
- version: ``v1``, ``v2``, ``v1beta1``, ``v2alpha3`` ...;
- kind: CamelCase letters and digits (``Deployment``).

A part that fails raises :class:`InvalidPathPart` naming the field, before anything is sent.
:func:`check_template` and :func:`check_path_param` are what the request guard
(:mod:`opsconsole.k8s.guard`) applies to every request the official client serialises.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from opsconsole.errors import InvalidName

Part = Literal["namespace", "name", "group", "version", "plural", "kind"]

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
VERSION = re.compile(r"v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?")
KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
#: a resource path template of the official client (``/api/v1/namespaces/{namespace}/pods``)
#: or one built here: segments of letters, digits, ``.``, ``_``, ``-`` and ``{placeholders}``
_TEMPLATE = re.compile(r"(?:/[A-Za-z0-9._{}-]+)*/?")

_RULES: dict[Part, tuple[re.Pattern[str], int, str]] = {
    "namespace": (DNS1123_LABEL, 63, "a DNS-1123 label: lowercase letters, digits and '-'"),
    "plural": (DNS1123_LABEL, 63, "a DNS-1123 label: lowercase letters, digits and '-'"),
    "name": (DNS1123_SUBDOMAIN, 253, "a DNS-1123 subdomain: lowercase letters, digits, '-', '.'"),
    "group": (DNS1123_SUBDOMAIN, 253, "a DNS-1123 subdomain: lowercase letters, digits, '-', '.'"),
    "version": (VERSION, 20, "an API version like v1, v1beta1 or v2alpha1"),
    "kind": (KIND, 63, "a kind like Deployment: letters and digits, starting upper case"),
}
#: path parameters of the official client's generated methods and what each one is
_PATH_PARAMS: dict[str, Part] = {
    "namespace": "namespace",
    "name": "name",
    "group": "group",
    "version": "version",
    "plural": "plural",
    "resource_plural": "plural",
}


class InvalidPathPart(InvalidName):
    """A part of an API path that is not valid Kubernetes syntax; nothing was sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 90 else text[:87] + "..."


def is_valid(part: Part, value: object) -> bool:
    """Whether ``value`` is a valid ``part`` (whole string, length limit included)."""
    pattern, limit, _ = _RULES[part]
    return isinstance(value, str) and len(value) <= limit and pattern.fullmatch(value) is not None


def check_part(part: Part, value: object, field: str | None = None) -> str:
    """``value`` if it is a valid ``part``, else :class:`InvalidPathPart` naming ``field``."""
    if is_valid(part, value):
        return str(value)
    field = field or part
    _, limit, what = _RULES[part]
    raise InvalidPathPart(
        field,
        f"{field}: {_shown(value)} is not a valid {part} ({what}; at most {limit} "
        "characters); nothing was sent",
    )


def split_api_version(api_version: object, field: str = "apiVersion") -> tuple[str, str]:
    """``"apps/v1"`` -> ``("apps", "v1")``, ``"v1"`` -> ``("", "v1")``; anything else (more
    slashes, a query, whitespace ...) raises :class:`InvalidPathPart` naming ``field``."""
    if not isinstance(api_version, str):
        raise InvalidPathPart(field, f"{field}: {_shown(api_version)} is not a string")
    group, sep, version = api_version.rpartition("/")
    try:
        if sep:
            check_part("group", group, field)
        check_part("version", version, field)
    except InvalidPathPart:
        raise InvalidPathPart(
            field,
            f"{field}: {_shown(api_version)} is not a valid apiVersion (GROUP/VERSION like "
            "apps/v1, or VERSION like v1; the group a DNS-1123 subdomain); nothing was sent",
        ) from None
    return group, version


def resource_path(
    group: str,
    version: str,
    plural: str,
    *,
    namespace: str | None = None,
    name: str | None = None,
) -> str:
    """``/api/v1/...`` (core, ``group=""``) or ``/apis/<group>/<version>/...``: the collection,
    or one object when ``name`` is given; every part validated and percent-quoted."""
    parts = ["api"] if group == "" else ["apis", check_part("group", group)]
    parts.append(check_part("version", version))
    if namespace is not None:
        parts += ["namespaces", check_part("namespace", namespace)]
    parts.append(check_part("plural", plural))
    if name is not None:
        parts.append(check_part("name", name))
    return "/" + "/".join(quote(p, safe="") for p in parts)


def check_template(resource_path: object) -> str:
    """A resource path (template) made of plain segments only: no query, fragment, percent
    escape, whitespace, ``.`` or ``..`` segment."""
    ok = isinstance(resource_path, str) and _TEMPLATE.fullmatch(resource_path) is not None
    if ok and isinstance(resource_path, str):
        ok = not any(seg in (".", "..") for seg in resource_path.split("/"))
    if not ok:
        raise InvalidPathPart(
            "path",
            f"refused: API path {_shown(resource_path)} has characters outside its "
            "validated parts; nothing was sent",
        )
    return str(resource_path)


def check_path_param(key: str, value: object) -> str:
    """A path parameter of a generated client method, validated by what it names (an unknown
    parameter such as a proxy ``path`` is refused)."""
    part = _PATH_PARAMS.get(key)
    if part is None:
        raise InvalidPathPart(key, f"refused: path parameter {key!r} is not supported")
    return check_part(part, value, key)
