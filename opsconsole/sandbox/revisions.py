"""ControllerRevisions of StatefulSets and DaemonSets: one per pod template, as the controllers
keep them, so that ``kubectl rollout history`` and ``rollout undo`` work on them.

A revision is named ``<owner>-<hash of the template>``, carries the template as a strategic merge
patch (``data.spec.template`` with ``$patch: replace``, what kubectl's undo applies), the owner's
selector labels plus ``controller.kubernetes.io/hash``, and a ``revision`` number one above the
highest so far (a template that comes back gets its old revision renumbered, as after an undo).
Pods name theirs in the ``controller-revision-hash`` label; a pod without one (a scenario's) counts
as the owner's first revision.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from .meta import owner_ref, template_hash
from .pods import huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

RKEY = "apps/controllerrevisions"
LABEL = "controller-revision-hash"


def owned(c: Cluster, owner: Obj) -> list[Obj]:
    uid = owner["metadata"]["uid"]
    return sorted(
        (
            r
            for r in c.store.list(RKEY, owner["metadata"]["namespace"])
            if any(ref.get("uid") == uid for ref in r["metadata"].get("ownerReferences") or ())
        ),
        key=lambda r: int(r.get("revision", 0)),
    )


def current(c: Cluster, owner: Obj) -> tuple[str, str]:
    """(revision name, template hash) of the owner's template, created or renumbered if needed;
    the first revision's name is recorded on the owner's revisions as the one of unlabelled pods."""
    md = owner["metadata"]
    ns, name = md["namespace"], md["name"]
    h = template_hash(owner["spec"]["template"])
    rev_name = f"{name}-{h}"
    revs = owned(c, owner)
    top = int(revs[-1].get("revision", 0)) if revs else 0
    mine = next((r for r in revs if r["metadata"]["name"] == rev_name), None)
    if mine is None:
        template = copy.deepcopy(owner["spec"]["template"])
        template["$patch"] = "replace"
        labels = dict(((owner["spec"].get("selector") or {}).get("matchLabels")) or {})
        labels["controller.kubernetes.io/hash"] = h
        c.store.create(
            RKEY,
            {
                "apiVersion": "apps/v1",
                "kind": "ControllerRevision",
                "metadata": {
                    "name": rev_name,
                    "namespace": ns,
                    "uid": huid(f"{RKEY}/{ns}/{rev_name}/{md['uid']}"),
                    "creationTimestamp": iso(c.now()),
                    "labels": labels,
                    "ownerReferences": [owner_ref(owner)],
                },
                "data": {"spec": {"template": template}},
                "revision": top + 1,
            },
        )
        _prune(c, owner)
    elif int(mine.get("revision", 0)) < top:

        def renumber(o: Obj) -> None:
            o["revision"] = top + 1

        c.store.update(RKEY, ns, rev_name, renumber)
    return rev_name, h


def first(c: Cluster, owner: Obj) -> str:
    revs = owned(c, owner)
    return revs[0]["metadata"]["name"] if revs else ""


def of_pod(c: Cluster, owner: Obj, pod: Obj, value_is_hash: bool) -> str:
    """The revision name a pod of ``owner`` was made from."""
    label = (pod["metadata"].get("labels") or {}).get(LABEL)
    if not label:
        return first(c, owner)
    return f"{owner['metadata']['name']}-{label}" if value_is_hash else label


def _prune(c: Cluster, owner: Obj) -> None:
    limit = int(owner["spec"].get("revisionHistoryLimit", 10))
    revs = owned(c, owner)
    for r in revs[: max(0, len(revs) - limit - 1)]:
        c.store.delete(RKEY, r["metadata"]["namespace"], r["metadata"]["name"])
