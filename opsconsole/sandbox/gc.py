"""The garbage collector: ``ownerReferences`` and the three propagation policies of a DELETE.

- **Background** (the default): the owner goes at once, then its dependents (and theirs).
- **Foreground**: the owner stays, with ``deletionTimestamp`` and the ``foregroundDeletion``
  finalizer, while its dependents are deleted (in the foreground too); it goes once no dependent
  with ``blockOwnerDeletion: true`` is left (a pod takes its grace period).
- **Orphan**: the dependents lose their reference to the owner and stay; the owner goes.

Dependents are found by the owner's uid among the stored objects of every kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
CHECK_EVERY = 0.5  # simulated seconds between looks at a foreground deletion's dependents


class GarbageCollector:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    def dependents(self, uid: str) -> list[tuple[str, Obj]]:
        store = self.c.store
        out: list[tuple[str, Obj]] = []
        for res in self.c.registry.all():
            if not res.stored:
                continue
            for obj in store.objects.get(res.key, {}).values():
                if any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or ()):
                    out.append((res.key, obj))
        return out

    def delete(self, rkey: str, ns: str, name: str, policy: str | None) -> Obj | None:
        """DELETE with ``propagationPolicy``; the object if it stays (foreground, finalizers)."""
        obj = self.c.store.get(rkey, ns, name)
        if obj is None:
            return None
        if policy == "Orphan":
            self._orphan(obj)
            self.c.delete_object(rkey, ns, name, cascade=False)
        elif policy == "Foreground":
            self._foreground(rkey, obj)
        else:
            self.c.delete_object(rkey, ns, name)
            self.collect(obj["metadata"]["uid"])
        self.c.controllers.flush()
        return self.c.store.get(rkey, ns, name)

    def collect(self, uid: str) -> None:
        """The owner ``uid`` is gone: delete its dependents (background)."""
        for rkey, dep in self.dependents(uid):
            md = dep["metadata"]
            if rkey == "pods":
                if "deletionTimestamp" not in md:
                    self.c.delete_pod(md.get("namespace", ""), md["name"], None)
                continue
            self.c.delete_object(rkey, md.get("namespace", ""), md["name"])
            self.collect(md["uid"])

    def _orphan(self, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for rkey, dep in self.dependents(uid):
            md = dep["metadata"]

            def strip(o: Obj, uid: str = uid) -> None:
                refs = [
                    r for r in o["metadata"].get("ownerReferences") or () if r.get("uid") != uid
                ]
                if refs:
                    o["metadata"]["ownerReferences"] = refs
                else:
                    o["metadata"].pop("ownerReferences", None)

            self.c.store.update(rkey, md.get("namespace", ""), md["name"], strip)
        self.c.controllers.owned.pop(uid, None)

    def _foreground(self, rkey: str, owner: Obj) -> None:
        md = owner["metadata"]
        ns, name, uid = md.get("namespace", ""), md["name"], md["uid"]
        if FOREGROUND not in (md.get("finalizers") or ()):
            now = iso(self.c.now())

            def mark(o: Obj) -> None:
                o["metadata"]["finalizers"] = [*(o["metadata"].get("finalizers") or ()), FOREGROUND]
                o["metadata"].setdefault("deletionTimestamp", now)
                o["metadata"].setdefault("deletionGracePeriodSeconds", 0)

            self.c.store.update(rkey, ns, name, mark)
        for drkey, dep in self.dependents(uid):
            dmd = dep["metadata"]
            if drkey == "pods":
                if "deletionTimestamp" not in dmd:
                    self.c.delete_pod(dmd.get("namespace", ""), dmd["name"], None)
            elif "deletionTimestamp" not in dmd:
                self._foreground(drkey, dep)
        self._finish_when_free(rkey, ns, name, uid)

    def _finish_when_free(self, rkey: str, ns: str, name: str, uid: str) -> None:
        obj = self.c.store.get(rkey, ns, name)
        if obj is None or obj["metadata"]["uid"] != uid:
            return
        blocking = [
            d
            for _, d in self.dependents(uid)
            if any(
                r.get("uid") == uid and r.get("blockOwnerDeletion")
                for r in d["metadata"].get("ownerReferences") or ()
            )
        ]
        if blocking:
            self.c.after(
                CHECK_EVERY, lambda: self._finish_when_free(rkey, ns, name, uid), min_real=0.05
            )
            return
        finalizers = [f for f in obj["metadata"].get("finalizers") or () if f != FOREGROUND]

        def release(o: Obj) -> None:
            if finalizers:
                o["metadata"]["finalizers"] = finalizers
            else:
                o["metadata"].pop("finalizers", None)

        self.c.store.update(rkey, ns, name, release)
        if not finalizers:
            self.c.store.delete(rkey, ns, name)
            self.collect(uid)  # dependents that did not block
        self.c.controllers.flush()
