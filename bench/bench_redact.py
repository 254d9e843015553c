"""Redaction benchmark: ``redact()`` on a 1 MB pod log and on a 5,000-pod list,
``redact_obj()`` on the 5,000 pods as JSON, and the log pane's snapshot (2,000 lines), against
baselines measured in the same run.

Inputs (deterministic):
- ``log``: 1 MB of log lines in the shapes the sandbox's profiles write (JSON lines, access
  logs, ``key=value`` lines, a Python traceback), one secret in every ~400 lines;
- ``table``: ``kubectl get pods -A -o wide`` (the real kubectl) against a 5,000-pod sandbox;
- ``json``: the same pods as the API's JSON text (``kubectl get pods -A -o json``), and parsed,
  for ``redact_obj``;
- ``snapshot``: the log's last 2,000 lines, as the recorder's log-pane snapshot gets them
  (``redact_lines`` now, one ``redact`` per line before it existed).

Baselines (same run, same inputs):
- ``floor``: ``text.lower()`` plus one substring check: the least any redactor must do;
- ``before``: the redactor of another git revision (``--baseline-rev``, default ``main``):
  that revision's ``opsconsole/`` is extracted with ``git archive`` into a temporary directory
  and timed in a child process on the same inputs (the one-file ``redact.py`` of older
  revisions and the ``redact/`` package both import as ``opsconsole.redact``). The two
  alternate for ``--rounds`` rounds, this checkout's redactor timed the same way (a child
  process each); each figure is the fastest of its ``--repeat`` runs over all rounds (on a shared,
  loaded machine the fastest run is the one least disturbed).

Run: python bench/bench_redact.py [--pods 5000] [--repeat 5] [--rounds 2] [--baseline-rev main]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

LOG_TEMPLATES = [
    '{{"ts":"{ts}","level":"info","msg":"request","method":"GET","path":"/v1/items/{n}",'
    '"status":200,"ms":{ms}}}',
    '{ip} - - [25/Nov/2026:10:00:{s:02d} +0000] "GET /products/{n} HTTP/1.1" 200 {n} "-" '
    '"Mozilla/5.0"',
    "{ts} INFO processed order ord-{hex} in {ms}ms user=bob region=eu-west-1",
    "{ts} WARN feature store unreachable: GET http://feature-store.ml.svc.cluster.local:6566"
    "/v1/health: dial tcp 10.96.88.17:6566: connect: connection refused",
    "{ts} DEBUG cache key=orders:{n} hit_ratio=0.{ms} tokens={n} auth=ok",
    '  File "/app/payment_api/main.py", line {n}, in <module>',
    "{ts} INFO epoch 7 step {n} loss 0.{ms} lr 3.0e-05 gpu_util {ms}% image sha256:{hex}{hex}",
    "{ts} I1125 10:00:00.000000       1 reflector.go:{n}] watch of *v1.Pod ended "
    'resourceVersion="{n}" uid={hex}-{hex4}-{hex4}',
]
SECRETS = [
    "{ts} ERROR connect failed: postgres://app:Sup3rS3cret@db.shop:5432/orders",
    "{ts} DEBUG headers Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx{hex}.c2ln",
    "{ts} INFO config loaded DB_PASSWORD=hunter2-{hex} api_key={hex}{hex}",
    "{ts} WARN redis-server --requirepass s3cr3t-{hex} --port 6379",
]


def make_log(size: int, seed: int = 7) -> str:
    rnd = random.Random(seed)
    out: list[str] = []
    total = 0
    i = 0
    while total < size:
        i += 1
        tpl = rnd.choice(SECRETS) if i % 400 == 0 else rnd.choice(LOG_TEMPLATES)
        line = tpl.format(
            ts=f"2026-11-25T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            n=rnd.randrange(100000),
            ms=rnd.randrange(1000),
            s=i % 60,
            ip=f"10.244.{i % 5}.{i % 250}",
            hex=f"{rnd.getrandbits(32):08x}",
            hex4=f"{rnd.getrandbits(16):04x}",
        )
        out.append(line)
        total += len(line) + 1
    return "\n".join(out)[:size]


def timed(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)  # the run least disturbed by other load (a shared machine)


def time_inputs(
    redact_mod: Any, inputs: list[tuple[str, str]], items: list[Any], lines: list[str], repeat: int
) -> dict[str, float]:
    """Seconds per row (the fastest of ``repeat`` runs), for the redactor ``redact_mod``."""
    redact_mod.redact("warm up: password=x")  # the first call compiles/loads the rules
    out = {name: timed(lambda t=text: redact_mod.redact(t), repeat) for name, text in inputs}
    out["redact_obj"] = timed(lambda: redact_mod.redact_obj(items), repeat)
    out["snapshot per line"] = timed(lambda: [redact_mod.redact(x) for x in lines], repeat)
    if hasattr(redact_mod, "redact_lines"):
        out["snapshot as one text"] = timed(lambda: redact_mod.redact_lines(lines), repeat)
    return out


def child(data_dir: str, repeat: int) -> int:
    """Time this interpreter's ``opsconsole.redact`` (the baseline tree is first on
    PYTHONPATH) on the inputs in ``data_dir``; print the figures as JSON."""
    import importlib

    try:  # the redactor moved from opsconsole.k8s.redact to opsconsole.redact (core layer)
        mod = importlib.import_module("opsconsole.redact")
    except ImportError:
        mod = importlib.import_module("opsconsole.k8s.redact")

    d = Path(data_dir)
    inputs = json.loads((d / "inputs.json").read_text())
    items = json.loads((d / "items.json").read_text())
    lines = json.loads((d / "lines.json").read_text())
    print(json.dumps(time_inputs(mod, [tuple(i) for i in inputs], items, lines, repeat)))
    return 0


class Tree:
    """An ``opsconsole/`` tree whose redactor :meth:`run` times in a child process on the
    inputs: this checkout's, or revision ``rev``'s extracted with ``git archive``. Both sides
    run the same way (a fresh interpreter, fresh caches)."""

    def __init__(self, data: Path, rev: str | None = None) -> None:
        self.data, self.rev = data, rev
        self.ok = True
        self.root = ROOT
        if rev is not None:
            self.root = data / f"tree-{rev}"
            self.root.mkdir()
            try:
                archive = subprocess.run(
                    ["git", "-C", str(ROOT), "archive", rev, "opsconsole"],
                    capture_output=True,
                    check=True,
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(self.root)], input=archive, check=True)
            except (OSError, subprocess.CalledProcessError):
                self.ok = False

    def run(self, repeat: int) -> dict[str, float] | None:
        if not self.ok:
            return None
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(self.data), "--repeat", str(repeat)],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(self.root)),
            cwd=self.data,
        )
        if done.returncode != 0:
            print(
                f"{self.rev or 'this tree'} failed: {done.stderr.strip()[-500:]}", file=sys.stderr
            )
            return None
        return json.loads(done.stdout.strip().splitlines()[-1])


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per row, the lowest figure of the rounds."""
    return {k: min(r[k] for r in runs if k in r) for k in runs[0]}


def pod_inputs(pods: int) -> tuple[str, str]:
    from opsconsole.sandbox import SandboxServer

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("kubectl not found on PATH")
    server = SandboxServer(scenario="demo", pods=pods, port=0).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kc = os.path.join(tmp, "kubeconfig")
            server.write_kubeconfig(kc)
            server.warmed.wait(120)
            base = [kubectl, "--kubeconfig", kc, "get", "pods", "-A"]
            table = subprocess.run(
                [*base, "-o", "wide"], capture_output=True, text=True, check=True
            ).stdout
            js = subprocess.run(
                [*base, "-o", "json"], capture_output=True, text=True, check=True
            ).stdout
    finally:
        server.stop()
    return table, js


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--log-bytes", type=int, default=1_000_000)
    ap.add_argument("--snapshot-lines", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline-rev", default="main")
    ap.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.repeat)

    sys.path.insert(0, str(ROOT))
    log = make_log(args.log_bytes)
    table, js = pod_inputs(args.pods)
    items = json.loads(js)["items"]
    lines = log.split("\n")[-args.snapshot_lines :]
    inputs = [
        (f"redact(log 1 MB, {len(log) / 1e6:.2f} MB)", log),
        (f"redact(kubectl -o wide, {args.pods} pods, {len(table) / 1e6:.2f} MB)", table),
        (f"redact(kubectl -o json, {args.pods} pods, {len(js) / 1e6:.2f} MB)", js),
    ]

    def floor(text: str) -> bool:
        return "password" in text.lower()

    floors = {name: timed(lambda t=text: floor(t), args.repeat) for name, text in inputs}
    floors["snapshot per line"] = timed(lambda: [floor(x) for x in lines], args.repeat)
    floors["snapshot as one text"] = timed(lambda: floor("\n".join(lines)), args.repeat)
    # the two redactors alternate, round after round, so both see the same machine load
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        (data / "inputs.json").write_text(json.dumps(inputs))
        (data / "items.json").write_text(json.dumps(items))
        (data / "lines.json").write_text(json.dumps(lines))
        this, base = Tree(data), Tree(data, args.baseline_rev)
        now_runs, before_runs = [], []
        for _ in range(args.rounds):
            for tree, runs in ((this, now_runs), (base, before_runs)):
                result = tree.run(args.repeat)
                if result is not None:
                    runs.append(result)
    if not now_runs:
        return 1
    now = best(now_runs)
    before = best(before_runs) if before_runs else None
    rev = args.baseline_rev if before is not None else "(no baseline)"
    labels = {
        "redact_obj": f"redact_obj({args.pods} pod dicts)",
        "snapshot per line": f"snapshot {len(lines)} lines, redact() each",
        "snapshot as one text": f"snapshot {len(lines)} lines, redact_lines()",
    }
    print(
        f"{'what':50} {'floor s':>8} {'now s':>8} {'x floor':>8} {rev + ' s':>9} {'now/before':>10}"
    )
    for key, t_now in now.items():
        t_floor = floors.get(key, float("nan"))
        t_before = (before or {}).get(key)
        ratio = f"{t_now / t_before:10.2f}" if t_before else f"{'-':>10}"
        before_s = f"{t_before:9.4f}" if t_before is not None else f"{'-':>9}"
        print(
            f"{labels.get(key, key):50} {t_floor:8.4f} {t_now:8.4f} {t_now / t_floor:8.1f} "
            f"{before_s} {ratio}"
        )
    if before is not None and "snapshot per line" in before:
        t = now.get("snapshot as one text")
        if t:
            print(
                f"the snapshot as one text now / per line at {args.baseline_rev}: "
                f"{t / before['snapshot per line']:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
