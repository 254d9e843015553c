"""events.k8s.io/v1: the same events as core v1, in the newer shape.

A real API server keeps one Event storage and converts on the way out; the sandbox mirrors every
core event (created, bumped, deleted) into an ``events.k8s.io/events`` copy converted as the
server converts it (``regarding``, ``note``, ``reportingController``, ``deprecatedCount``,
``deprecatedFirstTimestamp`` ...), so lists, gets, watches and Tables of either group agree.
Events created through events.k8s.io are stored there only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .store import DELETED, Obj

if TYPE_CHECKING:
    from .cluster import Cluster

RKEY = "events.k8s.io/events"


def convert(ev: Obj) -> Obj:
    """A core v1 Event as events.k8s.io/v1 serves it."""
    md = {k: v for k, v in ev["metadata"].items() if k != "resourceVersion"}
    out: Obj = {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "metadata": md,
        "eventTime": ev.get("eventTime"),
        "reportingController": ev.get("reportingComponent")
        or (ev.get("source") or {}).get("component", ""),
        "reportingInstance": ev.get("reportingInstance", ""),
        "reason": ev.get("reason", ""),
        "regarding": ev.get("involvedObject") or {},
        "note": ev.get("message", ""),
        "type": ev.get("type", ""),
    }
    for src, dst in (
        ("action", "action"),
        ("related", "related"),
        ("series", "series"),
        ("source", "deprecatedSource"),
        ("firstTimestamp", "deprecatedFirstTimestamp"),
        ("lastTimestamp", "deprecatedLastTimestamp"),
        ("count", "deprecatedCount"),
    ):
        if ev.get(src) is not None:
            out[dst] = ev[src]
    return out


class EventsV1:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        cluster.store.listeners.append(self.on_change)

    def mirror_all(self) -> None:
        """After a scenario build (stored without publishing): every core event's copy."""
        for ev in self.c.store.list("events"):
            self.c.store.put_initial(RKEY, convert(ev))

    def on_change(self, rkey: str, etype: str, old: Obj | None, new: Obj) -> None:
        if rkey != "events":
            return
        store = self.c.store
        md = new["metadata"]
        ns, name = md.get("namespace", ""), md["name"]
        if etype == DELETED:
            store.delete(RKEY, ns, name)
            return
        copy = convert(new)
        if store.get(RKEY, ns, name) is None:
            store.create(RKEY, copy)
            return

        def replace(o: Obj) -> Any:
            rv = o["metadata"].get("resourceVersion")
            o.clear()
            o.update(copy)
            o["metadata"] = dict(copy["metadata"], resourceVersion=rv)

        store.update(RKEY, ns, name, replace)
