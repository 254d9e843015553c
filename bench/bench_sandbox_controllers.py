"""Sandbox controllers benchmark: the cost of the controllers at 10,000 pods, and a list of
10,000 objects of one kind through the official client, against the sandbox before the
controllers (a baseline commit, extracted with ``git archive``) in the same run.

Each code version runs in its own subprocess (``PYTHONPATH`` pointing at it) on the same
generated cluster (``pods=10000``). Measured there:

- ``list_raw``: GET of all 10,000 pods through ``CoreV1Api.list_pod_for_all_namespaces``
  with ``_preload_content=False`` (the server and the HTTP path);
- ``list_client``: the same call deserialized into the client's models (what a caller pays);
- ``reconcile_all``: one full pass of every controller over the cluster (every workload marked
  dirty, then flushed: the worst-case tick);
- ``pod_tick``: one pod's status changing and the resulting flush (its ReplicaSet, its
  Deployment, the namespace's Endpoints and EndpointSlices): the common tick.

    python bench/bench_sandbox_controllers.py [--pods 10000] [--repeat 5] [--base 48a2fb9]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, statistics, sys, time, tempfile, os
pods, repeat = int(sys.argv[1]), int(sys.argv[2])
from opsconsole.sandbox import SandboxServer
from kubernetes import client, config

srv = SandboxServer(pods=pods).start()
srv.warmed.wait(60)
kc = os.path.join(tempfile.mkdtemp(), "kc")
srv.write_kubeconfig(kc)
cfg = client.Configuration()
config.load_kube_config(config_file=kc, context="opsconsole-sandbox", client_configuration=cfg)
api = client.CoreV1Api(client.ApiClient(cfg))
out = {}

def timed(fn):
    import gc
    gc.collect()  # what an earlier section left behind is not this one's cost
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

c = srv.cluster
controllers = getattr(c, "controllers", c)
dirty = getattr(controllers, "dirty", None)
if dirty is None:
    dirty = c._dirty

def full():
    with c.lock:
        controllers.reconcile_all()
out["reconcile_all"] = timed(full)
keys = sorted(c.store.objects["pods"])
i = [0]

def tick():
    with c.lock:
        ns, name = keys[i[0] % len(keys)]
        i[0] += 1
        def touch(p):
            p["status"] = dict(p["status"], startTime="2026-01-01T00:00:%02dZ" % (i[0] % 60))
        c.store.update("pods", ns, name, touch)
        controllers.flush()
out["pod_tick"] = timed(tick)
n = len(json.loads(api.list_pod_for_all_namespaces(_preload_content=False).data)["items"])
assert n == pods, n
out["list_raw"] = timed(lambda: api.list_pod_for_all_namespaces(_preload_content=False).data)
out["list_client"] = timed(lambda: api.list_pod_for_all_namespaces())
out["errors"] = len(c.errors)
srv.stop()
print(json.dumps(out))
"""


def run(pythonpath: str, pods: int, repeat: int) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(pods), str(repeat)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    if p.returncode != 0:
        raise SystemExit(f"child failed ({pythonpath}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def extract(commit: str, into: Path) -> None:
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "opsconsole"],
        capture_output=True,
        check=True,
    ).stdout
    tar = into / "base.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as t:
        t.extractall(into, filter="data")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--base", default="48a2fb9", help="the commit before the controllers")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extract(a.base, Path(tmp))
        t0 = time.perf_counter()
        before = run(tmp, a.pods, a.repeat)
        after = run(str(ROOT), a.pods, a.repeat)
        total = time.perf_counter() - t0
    print(f"{a.pods} pods, median of {a.repeat}; before = {a.base}, after = this tree")
    print(f"{'':16}{'before':>12}{'after':>12}{'after/before':>14}")
    for key in ("list_raw", "list_client", "reconcile_all", "pod_tick"):
        b, f = before[key], after[key]
        print(f"{key:16}{b * 1000:>10.1f}ms{f * 1000:>10.1f}ms{f / b:>13.2f}x")
    print(f"simulation errors: before {before['errors']}, after {after['errors']}")
    print(f"(bench wall time {total:.0f}s)")


if __name__ == "__main__":
    main()
