"""The namespace lifecycle, as the API server and the namespace controller run it.

Creating a namespace fills in what the server does (the ``kubernetes`` finalizer, phase Active,
the ``kubernetes.io/metadata.name`` label) and what the service-account controller adds (the
``default`` ServiceAccount). Deleting one marks it Terminating (deletionTimestamp, conditions),
refuses new content in it, then empties it: controllers first (so nothing recreates pods), pods
through their graceful termination, then every other namespaced object (an object with finalizers
stays, Terminating, until they are removed, and so does the namespace); when nothing is left the
namespace itself goes (what ``kubectl delete ns`` and ``kubectl wait --for=delete`` wait for).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from . import resources as R
from .apitypes import ApiError
from .pods import huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

#: namespaces the server refuses to delete
PROTECTED = ("default", "kube-system", "kube-public")
#: deleted first: their controllers would otherwise replace the pods being deleted
CONTROLLERS = (
    "apps/deployments",
    "apps/statefulsets",
    "apps/daemonsets",
    "apps/replicasets",
    "batch/cronjobs",
    "batch/jobs",
)
SWEEP_EVERY = 0.5  # simulated seconds between passes of the namespace controller


def default_service_account(ns: str, created: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": "default",
            "namespace": ns,
            "uid": huid(f"sa/{ns}/default/{created}"),
            "creationTimestamp": created,
        },
    }


def prepare(obj: Obj) -> None:
    """Defaults the server fills in on a namespace it creates."""
    md = obj["metadata"]
    md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
    spec = obj.get("spec") or {}
    spec.setdefault("finalizers", ["kubernetes"])
    obj["spec"] = spec
    obj["status"] = {"phase": "Active"}


class Namespaces:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def created(self, ns: Obj) -> None:
        """After a namespace is stored: its default ServiceAccount, as the SA controller adds."""
        md = ns["metadata"]
        if self.c.store.get("serviceaccounts", md["name"], "default") is None:
            self.c.store.create(
                "serviceaccounts", default_service_account(md["name"], md["creationTimestamp"])
            )

    def terminating(self, name: str) -> bool:
        ns = self.c.store.get("namespaces", "", name)
        return ns is not None and (ns.get("status") or {}).get("phase") == "Terminating"

    def refuse_content(self, res: R.Resource, ns: str, name: str) -> None:
        if self.terminating(ns):
            msg = f"unable to create new content in namespace {ns} because it is being terminated"
            qualified = f"{res.plural}.{res.group}" if res.group else res.plural
            details: Obj = {"name": name, "kind": res.plural}
            if res.group:
                details["group"] = res.group
            details["causes"] = [
                {"reason": "NamespaceTerminating", "message": msg, "field": "metadata.namespace"}
            ]
            raise ApiError(403, "Forbidden", f'{qualified} "{name}" is forbidden: {msg}', details)

    def delete(self, name: str, dry_run: bool) -> Obj:
        """DELETE of a namespace: Terminating now, gone once it is empty."""
        store = self.c.store
        ns = store.get("namespaces", "", name)
        assert ns is not None
        if name in PROTECTED:
            raise ApiError(
                403,
                "Forbidden",
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                {"name": name, "kind": "namespaces"},
            )
        if "deletionTimestamp" in ns["metadata"]:
            return ns
        now = time.time()

        def mark(o: Obj) -> None:
            o["metadata"]["deletionTimestamp"] = iso(now)
            o["status"] = {"phase": "Terminating", "conditions": self._conditions(name, now)}

        new = store.update("namespaces", "", name, mark, dry_run=dry_run)
        assert new is not None
        if not dry_run:
            uid = new["metadata"]["uid"]
            self.c.after(0.0, lambda: self._sweep(name, uid))
        return new

    # --- the namespace controller ---------------------------------------------------------------
    def _contents(self, name: str) -> dict[str, list[str]]:
        """rkey -> names of the namespaced objects in the namespace."""
        store = self.c.store
        out: dict[str, list[str]] = {}
        for res in self.c.registry.all():
            if not res.namespaced or not res.stored:
                continue
            names = [k[1] for k in store.keys(res.key) if k[0] == name]
            if names:
                out[res.key] = names
        return out

    def _sweep(self, name: str, uid: str) -> None:
        store = self.c.store
        ns = store.get("namespaces", "", name)
        if ns is None or ns["metadata"]["uid"] != uid:
            return
        contents = self._contents(name)
        for rkey in CONTROLLERS:
            for obj_name in contents.get(rkey, ()):
                self.c.delete_object(rkey, name, obj_name)
        for pod_name in list(contents.get("pods", ())):
            pod = store.get("pods", name, pod_name)
            if pod is not None and "deletionTimestamp" not in pod["metadata"]:
                self.c.delete_pod(name, pod_name, None)
        for rkey, names in contents.items():
            if rkey == "pods" or rkey in CONTROLLERS:
                continue
            for obj_name in names:
                self.c.delete_object(rkey, name, obj_name)
        self.c.controllers.flush()
        if not self._contents(name):
            store.delete("namespaces", "", name)
            return
        now = time.time()
        conditions = self._conditions(name, now)

        def update(o: Obj) -> None:
            old = {c["type"]: c for c in (o.get("status") or {}).get("conditions") or ()}
            for c in conditions:  # keep the transition time of a condition that did not change
                prev = old.get(c["type"])
                if prev and (prev["status"], prev.get("message")) == (c["status"], c["message"]):
                    c["lastTransitionTime"] = prev["lastTransitionTime"]
            o["status"] = {"phase": "Terminating", "conditions": conditions}

        store.update("namespaces", "", name, update)
        self.c.after(SWEEP_EVERY, lambda: self._sweep(name, uid), min_real=0.05)

    def _conditions(self, name: str, now: float) -> list[Obj]:
        contents = self._contents(name)
        t = iso(now)

        def cond(typ: str, status: str, reason: str, message: str) -> Obj:
            return {
                "type": typ,
                "status": status,
                "lastTransitionTime": t,
                "reason": reason,
                "message": message,
            }

        remaining = cond(
            "NamespaceContentRemaining",
            "False",
            "ContentRemoved",
            "All content successfully removed",
        )
        if contents:
            kinds = ", ".join(  # the controller's wording: "<resource>.<group> has N ..."
                f"{rkey.rpartition('/')[2]}.{rkey.rpartition('/')[0]} has "
                f"{len(names)} resource instances"
                for rkey, names in sorted(contents.items())
            )
            remaining = cond(
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                f"Some resources are remaining: {kinds}",
            )
        return [
            cond(
                "NamespaceDeletionDiscoveryFailure",
                "False",
                "ResourcesDiscovered",
                "All resources successfully discovered",
            ),
            cond(
                "NamespaceDeletionGroupVersionParsingFailure",
                "False",
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed",
            ),
            cond(
                "NamespaceDeletionContentFailure",
                "False",
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization",
            ),
            remaining,
            cond(
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            ),
        ]
