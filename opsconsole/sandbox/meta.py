"""Helpers on object metadata shared by the controllers: owner references, template hashes."""

from __future__ import annotations

import hashlib
import json

from .pods import hname
from .store import Obj

_HASHES: dict[int, tuple[Obj, str]] = {}


def template_hash(template: Obj) -> str:
    """pod-template-hash of a template (memoized per template object: they are immutable)."""
    hit = _HASHES.get(id(template))
    if hit is not None and hit[0] is template:
        return hit[1]
    data = json.dumps(template, sort_keys=True).encode()
    h = hname(hashlib.sha1(data).hexdigest(), 10)
    if len(_HASHES) > 20000:
        _HASHES.clear()
    _HASHES[id(template)] = (template, h)
    return h


def owner_ref(obj: Obj) -> Obj:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def node_ip(node: Obj) -> str:
    for a in node.get("status", {}).get("addresses", []):
        if a["type"] == "InternalIP":
            return a["address"]
    return ""
