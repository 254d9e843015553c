"""Sandbox benchmark: build a 5,000-pod cluster and serve its pod list over HTTP.

Reports, in one run: build time (goal < 1 s), the first (cold, serializing) and warm HTTP
GET of /api/v1/pods (all namespaces), the same through a Table (kubectl's view), and
json.loads of the same bytes (with and without the GC paused) as the baseline. The sandbox
should not be the bottleneck: a warm GET should cost well under json.loads of its bytes.

    python bench/bench_sandbox.py [--pods 5000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import statistics
import time


def get(port: int, path: str, accept: str = "application/json") -> tuple[float, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    conn.request("GET", path, headers={"Accept": accept})
    resp = conn.getresponse()
    body = resp.read()
    dt = time.perf_counter() - t0
    conn.close()
    assert resp.status == 200, resp.status
    return dt, body


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from opsconsole.sandbox import SandboxServer

    t0 = time.perf_counter()
    srv = SandboxServer(pods=a.pods)
    build = time.perf_counter() - t0
    srv.start()
    try:
        cold, body = get(srv.port, "/api/v1/pods")  # may race the background warm-up
        srv.warmed.wait(30)
        cold2, _ = get(srv.port, "/api/v1/pods?labelSelector=team")  # after warm-up
        warm = [get(srv.port, "/api/v1/pods")[0] for _ in range(a.repeat)]
        # a change invalidates the whole-response cache but not the per-object bytes
        srv.faults.latency = 0
        changed = []
        for i in range(a.repeat):
            with srv.cluster.lock:
                ns, name = sorted(srv.store.objects["pods"])[i]
                srv.store.update(
                    "pods",
                    ns,
                    name,
                    lambda p, i=i: p["metadata"].setdefault("labels", {}).update(b=str(i)),
                )
            changed.append(get(srv.port, "/api/v1/pods")[0])
        table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        table = [get(srv.port, "/api/v1/pods?limit=500", table_accept)[0] for _ in range(a.repeat)]
        loads, loads_nogc = [], []
        for _ in range(a.repeat):
            t = time.perf_counter()
            json.loads(body)
            loads.append(time.perf_counter() - t)
            gc.disable()
            t = time.perf_counter()
            json.loads(body)
            loads_nogc.append(time.perf_counter() - t)
            gc.enable()
    finally:
        srv.stop()
    med = statistics.median
    base = med(loads_nogc)
    print(f"pods: {a.pods}, list size {len(body) / 1e6:.1f} MB")
    print(f"build cluster:                      {build * 1000:8.1f} ms  (goal < 1000 ms)")
    print(f"json.loads, GC paused (baseline):   {base * 1000:8.1f} ms  1.00x")
    print(
        f"json.loads, GC on:                  {med(loads) * 1000:8.1f} ms  {med(loads) / base:.2f}x"
    )
    print(f"GET /api/v1/pods cold (serialize):  {cold * 1000:8.1f} ms  {cold / base:.2f}x")
    print(f"GET ...?labelSelector after warm-up: {cold2 * 1000:8.1f} ms  {cold2 / base:.2f}x")
    print(
        f"GET /api/v1/pods warm (cached):     {med(warm) * 1000:8.1f} ms  {med(warm) / base:.2f}x"
    )
    print(
        f"GET after one pod changed:          {med(changed) * 1000:8.1f} ms  "
        f"{med(changed) / base:.2f}x"
    )
    print(
        f"GET Table page (limit=500):         {med(table) * 1000:8.1f} ms  {med(table) / base:.2f}x"
    )


if __name__ == "__main__":
    main()
