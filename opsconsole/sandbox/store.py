"""The object store: objects by resource, one global resourceVersion, watch history, watchers.

Objects stored here are never mutated in place: :meth:`Store.update` hands a deep copy to its
mutator. That lets generated objects share immutable sub-dicts, and lets the serialized JSON of
each object be cached by resourceVersion (a 5,000-pod list is a join of cached bytes).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace or "", name)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


def iso(ts: float) -> str:
    return _iso(int(ts))


@functools.lru_cache(maxsize=4096)
def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Watcher:
    """One open watch: a filter and a queue of (type, object) the HTTP thread drains."""

    def __init__(self, rkey: str, namespace: str | None, match: Callable[[Obj], bool]) -> None:
        self.rkey = rkey
        self.namespace = namespace
        self.match = match
        self.queue: deque[tuple[str, Obj]] = deque()
        self.wake = threading.Event()
        self.closed = False

    def _ok(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace") != self.namespace:
            return False
        return self.match(obj)

    def offer(self, etype: str, old: Obj | None, new: Obj) -> None:
        old_ok = self._ok(old)
        new_ok = etype != DELETED and self._ok(new)
        if etype == ADDED and new_ok:
            self.push(ADDED, new)
        elif etype == MODIFIED:
            if old_ok and new_ok:
                self.push(MODIFIED, new)
            elif new_ok:
                self.push(ADDED, new)
            elif old_ok:
                self.push(DELETED, new)
        elif etype == DELETED and (old_ok or self._ok(new)):
            self.push(DELETED, new)

    def push(self, etype: str, obj: Obj) -> None:
        self.queue.append((etype, obj))
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class TooOld(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class Store:
    def __init__(self, history_limit: int = 10000) -> None:
        self.lock = threading.RLock()
        self.rv = 1000
        self.history_limit = history_limit
        self.history: deque[tuple[int, str, str, Obj | None, Obj]] = deque()
        self.compacted_rv = self.rv  # history covers (compacted_rv, rv]
        self.objects: dict[str, dict[Key, Obj]] = {}
        self._sorted: dict[str, list[Key] | None] = {}
        self._bytes: dict[tuple[str, Key], tuple[str, bytes]] = {}
        self.watchers: dict[str, set[Watcher]] = {}
        self.listeners: list[Callable[[str, str, Obj | None, Obj], None]] = []
        self.on_change: Callable[[], None] | None = None

    # --- reading ----------------------------------------------------------------------
    def get(self, rkey: str, ns: str, name: str) -> Obj | None:
        return self.objects.get(rkey, {}).get((ns, name))

    def keys(self, rkey: str) -> list[Key]:
        keys = self._sorted.get(rkey)
        if keys is None:
            keys = sorted(self.objects.get(rkey, {}))
            self._sorted[rkey] = keys
        return keys

    def list(self, rkey: str, ns: str | None = None) -> list[Obj]:
        objs = self.objects.get(rkey, {})
        if ns is None:
            return [objs[k] for k in self.keys(rkey)]
        return [objs[k] for k in self.keys(rkey) if k[0] == ns]

    def obj_bytes(self, rkey: str, obj: Obj) -> bytes:
        md = obj["metadata"]
        ck = (rkey, (md.get("namespace", ""), md["name"]))
        rv = md.get("resourceVersion", "")
        hit = self._bytes.get(ck)
        if hit is not None and hit[0] == rv:
            return hit[1]
        data = dumps(obj)
        self._bytes[ck] = (rv, data)
        return data

    # --- writing ----------------------------------------------------------------------
    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def put_initial(self, rkey: str, obj: Obj) -> Obj:
        """Store without history (scenario build)."""
        md = obj["metadata"]
        md.setdefault("uid", str(uuid.uuid4()))
        md.setdefault("creationTimestamp", iso(time.time()))
        md["resourceVersion"] = str(self.next_rv())
        self.objects.setdefault(rkey, {})[(md.get("namespace", ""), md["name"])] = obj
        self._sorted[rkey] = None
        self.compacted_rv = self.rv
        return obj

    def create(self, rkey: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        md = obj["metadata"]
        md.setdefault("uid", str(uuid.uuid4()))
        md.setdefault("creationTimestamp", iso(time.time()))
        if dry_run:
            return obj
        with self.lock:
            md["resourceVersion"] = str(self.next_rv())
            self.objects.setdefault(rkey, {})[(md.get("namespace", ""), md["name"])] = obj
            self._sorted[rkey] = None
            self._publish(rkey, ADDED, None, obj)
        return obj

    def update(
        self, rkey: str, ns: str, name: str, mutate: Callable[[Obj], Any], *, dry_run: bool = False
    ) -> Obj | None:
        """Copy, mutate, store (a new resourceVersion) and publish MODIFIED. None if absent."""
        with self.lock:
            old = self.get(rkey, ns, name)
            if old is None:
                return None
            new = copy.deepcopy(old)
            mutate(new)
            if dry_run:
                return new
            if new == old:
                return old
            new["metadata"]["resourceVersion"] = str(self.next_rv())
            self.objects[rkey][(ns, name)] = new
            self._publish(rkey, MODIFIED, old, new)
            return new

    def set_field(self, rkey: str, ns: str, name: str, field: str, value: Any) -> Obj | None:
        """Replace one top-level field (e.g. ``status``) with a shallow copy: cheap, and safe
        because stored objects are never mutated in place."""
        with self.lock:
            old = self.get(rkey, ns, name)
            if old is None:
                return None
            if old.get(field) == value:
                return old
            new = dict(old)
            new[field] = value
            new["metadata"] = dict(old["metadata"], resourceVersion=str(self.next_rv()))
            self.objects[rkey][(ns, name)] = new
            self._publish(rkey, MODIFIED, old, new)
            return new

    def replace(self, rkey: str, new: Obj) -> Obj:
        with self.lock:
            md = new["metadata"]
            key = (md.get("namespace", ""), md["name"])
            old = self.objects[rkey][key]
            md["resourceVersion"] = str(self.next_rv())
            self.objects[rkey][key] = new
            self._publish(rkey, MODIFIED, old, new)
            return new

    def delete(self, rkey: str, ns: str, name: str) -> Obj | None:
        with self.lock:
            old = self.objects.get(rkey, {}).pop((ns, name), None)
            if old is None:
                return None
            self._sorted[rkey] = None
            self._bytes.pop((rkey, (ns, name)), None)
            final = dict(old)
            final["metadata"] = dict(old["metadata"], resourceVersion=str(self.next_rv()))
            self._publish(rkey, DELETED, old, final)
            return final

    def _publish(self, rkey: str, etype: str, old: Obj | None, new: Obj) -> None:
        self.history.append((self.rv, rkey, etype, old, new))
        while len(self.history) > self.history_limit:
            self.compacted_rv = self.history.popleft()[0]
        for w in self.watchers.get(rkey, ()):
            w.offer(etype, old, new)
        for fn in self.listeners:
            fn(rkey, etype, old, new)

    def compact(self) -> None:
        """Forget all watch history: any earlier resourceVersion becomes too old (410)."""
        with self.lock:
            self.history.clear()
            self.compacted_rv = self.rv

    # --- watching ---------------------------------------------------------------------
    def watch(
        self,
        rkey: str,
        namespace: str | None,
        match: Callable[[Obj], bool],
        since: int | None,
        initial: Iterable[Obj] | None = None,
        bookmark: Obj | None = None,
    ) -> Watcher:
        """Register a watcher. ``since``: replay history after it (TooOld if compacted);
        None: send ADDED for every current object first."""
        with self.lock:
            w = Watcher(rkey, namespace, match)
            if since is None:
                for obj in self.list(rkey, namespace) if initial is None else initial:
                    if w._ok(obj):
                        w.queue.append((ADDED, obj))
                if bookmark is not None:
                    bookmark["metadata"]["resourceVersion"] = str(self.rv)
                    w.queue.append(("BOOKMARK", bookmark))
            else:
                if since < self.compacted_rv:
                    raise TooOld(since, self.compacted_rv + 1)
                for rv, hkey, etype, old, new in self.history:
                    if rv > since and hkey == rkey:
                        w.offer(etype, old, new)
            self.watchers.setdefault(rkey, set()).add(w)
            if w.queue:
                w.wake.set()
            return w

    def unwatch(self, w: Watcher) -> None:
        with self.lock:
            self.watchers.get(w.rkey, set()).discard(w)

    def close_watchers(self) -> None:
        with self.lock:
            for ws in self.watchers.values():
                for w in ws:
                    w.close()
