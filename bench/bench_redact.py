"""Redaction benchmark: ``redact()`` on a 1 MB pod log and on a 5,000-pod list, and
``redact_obj()`` on the 5,000 pods as JSON, against baselines measured in the same run.

Inputs (deterministic):
- ``log``: 1 MB of log lines in the shapes the sandbox's profiles write (JSON lines, access
  logs, ``key=value`` lines, a Python traceback), one secret in every ~400 lines;
- ``table``: ``kubectl get pods -A -o wide`` (the real kubectl) against a 5,000-pod sandbox;
- ``json``: the same pods as the API's JSON text (``kubectl get pods -A -o json``), and parsed,
  for ``redact_obj``.

Baselines (same run, same inputs):
- ``floor``: ``text.lower()`` plus one substring check: the least any redactor must do;
- ``before``: the redactor of another git revision (``--baseline-rev``, default ``main``),
  loaded from ``git show REV:opsconsole/k8s/redact.py`` when that revision has the one-file
  module; skipped otherwise.

Run: python bench/bench_redact.py [--pods 5000] [--repeat 7] [--baseline-rev main]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
    return statistics.median(times)


def load_baseline(rev: str) -> types.ModuleType | None:
    try:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:opsconsole/k8s/redact.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType(f"redact_{rev}")
    exec(compile(src, f"{rev}:opsconsole/k8s/redact.py", "exec"), mod.__dict__)  # noqa: S102
    return mod


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
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--baseline-rev", default="main")
    args = ap.parse_args()

    from opsconsole.k8s import redact as current

    log = make_log(args.log_bytes)
    table, js = pod_inputs(args.pods)
    items = json.loads(js)["items"]
    before = load_baseline(args.baseline_rev)

    def floor(text: str) -> bool:
        return "password" in text.lower()

    current.redact("warm up: password=x")  # first call compiles/loads the rules
    rows: list[tuple[str, float, float, float | None]] = []
    inputs = [("log 1 MB", log), (f"kubectl -o wide, {args.pods} pods", table)]
    inputs.append((f"kubectl -o json, {args.pods} pods", js))
    for name, text in inputs:
        t_floor = timed(lambda text=text: floor(text), args.repeat)
        t_now = timed(lambda text=text: current.redact(text), args.repeat)
        t_before = None
        if before is not None:
            t_before = timed(lambda text=text: before.redact(text), args.repeat)
        rows.append((f"redact({name}, {len(text) / 1e6:.2f} MB)", t_floor, t_now, t_before))
    t_now = timed(lambda: current.redact_obj(items), args.repeat)
    t_before = timed(lambda: before.redact_obj(items), args.repeat) if before else None
    rows.append((f"redact_obj({args.pods} pod dicts)", float("nan"), t_now, t_before))

    rev = args.baseline_rev if before is not None else "(no baseline)"
    print(
        f"{'what':42} {'floor s':>8} {'now s':>8} {'x floor':>8} {rev + ' s':>9} {'now/before':>10}"
    )
    for name, t_floor, t_now, t_before in rows:
        ratio = f"{t_now / t_before:10.2f}" if t_before else f"{'-':>10}"
        before_s = f"{t_before:9.4f}" if t_before is not None else f"{'-':>9}"
        print(f"{name:42} {t_floor:8.4f} {t_now:8.4f} {t_now / t_floor:8.1f} {before_s} {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
