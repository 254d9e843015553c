"""Container logs computed from a profile and the clock: nothing is stored, nothing ticks.

A profile has ``start`` lines (written when a container instance starts), periodic ``lines``
(one every ``every`` simulated seconds, chosen and filled deterministically) and ``crash`` lines
(written when a crashing instance ends). The lines of an instance up to *now* are a pure
function of its start/end times, so ``follow`` only has to sleep until the next line is due.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_PERIODIC = 50_000  # like kubelet's log rotation: older periodic lines are gone


@dataclass(frozen=True)
class LogProfile:
    start: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    every: float = 5.0
    crash: tuple[str, ...] = ()
    backfill: int = 40

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> LogProfile:
        data = data or {}
        return cls(
            start=tuple(data.get("start") or ()),
            lines=tuple(data.get("lines") or ()),
            every=float(data.get("every", 5.0)),
            crash=tuple(data.get("crash") or ()),
            backfill=int(data.get("backfill", 40)),
        )


@dataclass
class Instance:
    """One run of a container: wall-clock start, end (None while running), how it ended."""

    start: float
    end: float | None = None
    crashed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class _Ctx(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def kube_ts(t: float) -> str:
    dt = datetime.fromtimestamp(t, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((t % 1) * 1e9):09d}Z"


class ContainerLog:
    def __init__(
        self, profile: LogProfile, pod: str, seed: int, speed: float, epoch: float
    ) -> None:
        self.profile = profile
        self.pod = pod
        self.seed = seed & 0xFFFFFFFF
        self.speed = speed
        self.epoch = epoch  # when the sandbox started (backfill is measured from it)

    # --- timing -----------------------------------------------------------------------
    def _iv(self) -> float:
        return max(self.profile.every, 0.001) / self.speed

    def _anchor(self, inst: Instance) -> float:
        iv = self._iv()
        first = inst.start + 0.01 * (len(self.profile.start) + 1)
        horizon = self.epoch if inst.end is None else min(self.epoch, inst.end)
        phase = (self.seed % 997) / 997 * iv  # pods of one workload do not log in lockstep
        return max(first, horizon - self.profile.backfill * iv + phase)

    def _k_range(self, inst: Instance, t_from: float | None, t_to: float) -> range:
        if not self.profile.lines:
            return range(0)
        iv, anchor = self._iv(), self._anchor(inst)
        hi_t = t_to if inst.end is None else min(t_to, inst.end)
        if hi_t < anchor:
            return range(0)
        k_hi = int(math.floor((hi_t - anchor) / iv)) + 1
        k_lo = 0
        if t_from is not None and t_from >= anchor:
            k_lo = int(math.floor((t_from - anchor) / iv)) + 1
        k_lo = max(k_lo, k_hi - MAX_PERIODIC)
        return range(k_lo, max(k_lo, k_hi))

    # --- content ----------------------------------------------------------------------
    def _fill(self, template: str, t: float, k: int) -> str:
        r = ((k + 7) * 2654435761 ^ self.seed) & 0xFFFFFFFF
        ctx = _Ctx(
            ts=_ts(t),
            clf=datetime.fromtimestamp(t, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            n=r % 997 + 1,
            ms=(r >> 8) % 240 + 3,
            bytes=(r >> 4) % 48000 + 200,
            ip=f"10.{(r >> 3) % 4}.{(r >> 11) % 250 + 1}.{(r >> 19) % 250 + 2}",
            id=f"{r:08x}",
            pod=self.pod,
            k=k,
            pct=(r >> 5) % 40 + 55,
        )
        # only ``{name}`` placeholders are filled: JSON log lines keep their own braces
        return _PLACEHOLDER.sub(lambda m: str(ctx[m.group(1)]), template)

    def collect(
        self, inst: Instance, t_from: float | None, t_to: float, *, crash: bool = True
    ) -> list[tuple[float, str]]:
        """Lines with a time in (t_from, t_to] (t_from None: from the beginning)."""
        out: list[tuple[float, str]] = []
        p = self.profile
        for i, tmpl in enumerate(p.start):
            t = inst.start + 0.01 * i
            if (t_from is None or t > t_from) and t <= t_to:
                out.append((t, self._fill(tmpl, t, -1 - i)))
        if p.lines:
            iv, anchor = self._iv(), self._anchor(inst)
            n = len(p.lines)
            for k in self._k_range(inst, t_from, t_to):
                t = anchor + k * iv
                r = ((k + 3) * 40503 ^ self.seed) & 0xFFFF
                out.append((t, self._fill(p.lines[r % n], t, k)))
        if crash:
            out += [
                x
                for x in self.crash_lines(inst)
                if (t_from is None or x[0] > t_from) and x[0] <= t_to
            ]
        return out

    def crash_lines(self, inst: Instance) -> list[tuple[float, str]]:
        """What a crashing instance wrote just before it exited (none while it runs)."""
        if not (inst.crashed and inst.end is not None):
            return []
        n = len(self.profile.crash)
        return [
            (inst.end - 0.001 * (n - i), self._fill(tmpl, inst.end - 0.001 * (n - i), 10_000 + i))
            for i, tmpl in enumerate(self.profile.crash)
        ]

    def next_due(self, inst: Instance, after: float) -> float | None:
        """Wall time of the next line after ``after`` (None: nothing more is coming)."""
        if inst.end is not None:
            return None
        cands: list[float] = []
        for i in range(len(self.profile.start)):
            t = inst.start + 0.01 * i
            if t > after:
                cands.append(t)
                break
        if self.profile.lines:
            iv, anchor = self._iv(), self._anchor(inst)
            k = 0 if after < anchor else int(math.floor((after - anchor) / iv)) + 1
            cands.append(anchor + k * iv)
        return min(cands) if cands else None


def render(
    lines: list[tuple[float, str]],
    *,
    timestamps: bool = False,
    tail: int | None = None,
    since: float | None = None,
) -> list[str]:
    if since is not None:
        lines = [x for x in lines if x[0] >= since]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    if timestamps:
        return [f"{kube_ts(t)} {text}\n" for t, text in lines]
    return [text + "\n" for _, text in lines]
