"""Benchmark: listing 5,000 pods from the sandbox, and the size of get_k8s_pods for them.

Run: ``python bench/bench_k8s_list.py [--pods 5000] [--repeat 5]``

In one run, against one in-process sandbox over real HTTP, it measures (medians):

- ``models``: ``CoreV1Api.list_pod_for_all_namespaces()`` with the client's models (the default);
- ``floor``: the same call with ``_preload_content=False`` + ``json.loads`` with the GC paused;
- ``ours``: :func:`opsconsole.k8s.queries.list_pods` into PodRows (paged, 500 per page), and
  the same unpaged (one request);
- the ``get_k8s_pods`` output for the largest namespace: characters and tokens (chars/4).

Goals (docs/performance.md): ours <= 1.5x the floor; tool output <= 2,000 tokens.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn, repeat: int) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--models-repeat", type=int, default=2)
    args = ap.parse_args()

    from opsconsole.agent.transcript import estimate_tokens
    from opsconsole.config import Settings
    from opsconsole.k8s import queries as q
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.tools import build_k8s_tools
    from opsconsole.sandbox import SandboxServer

    server = SandboxServer(scenario="demo", pods=args.pods, port=0)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kc = Path(tmp) / "kubeconfig"
            server.write_kubeconfig(str(kc))
            cluster = Cluster(kubeconfig=kc, context="opsconsole-sandbox", request_timeout=120)
            core = cluster.api("core")
            timeout = cluster.timeout

            def floor():
                resp = core.list_pod_for_all_namespaces(
                    _preload_content=False, _request_timeout=timeout
                )
                data = resp.data
                gc.disable()
                try:
                    return len(json.loads(data)["items"])
                finally:
                    gc.enable()

            def models():
                return len(core.list_pod_for_all_namespaces(_request_timeout=timeout).items)

            def ours_paged():
                return len(q.list_pods(cluster))

            def ours_single():
                return len(q.list_pods(cluster, page_size=100_000))

            floor()  # warm up: imports, connection pool, the server's caches
            ours_paged()
            # interleaved rounds, so drift and the server's own work hit every variant alike
            samples: dict[str, list[float]] = {"floor": [], "paged": [], "single": []}
            counts_seen = set()
            for _ in range(args.repeat):
                for key, fn in (("floor", floor), ("paged", ours_paged), ("single", ours_single)):
                    t, got = timed(fn, 1)
                    samples[key].append(t)
                    counts_seen.add(got)
            t_floor = statistics.median(samples["floor"])
            t_paged = statistics.median(samples["paged"])
            t_single = statistics.median(samples["single"])
            mins = {k: min(v) for k, v in samples.items()}
            n = n_paged = n_single = counts_seen.pop()
            assert not counts_seen
            t_models, n_models = timed(models, args.models_repeat)
            assert n == n_paged == n_single == n_models, (n, n_paged, n_single, n_models)

            counts = Counter(p.namespace for p in q.list_pods(cluster))
            big_ns, big_n = counts.most_common(1)[0]
            settings = Settings()
            tool = next(t for t in build_k8s_tools(cluster, settings) if t.name == "get_k8s_pods")
            t0 = time.perf_counter()
            res = tool.handler({"namespace": big_ns})
            t_tool = time.perf_counter() - t0
            assert not res.is_error, res.content
            chars = len(res.content)
            tokens = estimate_tokens(res.content)
    finally:
        server.stop()

    print(f"pods listed: {n} (largest namespace {big_ns}: {big_n} pods)")
    print(f"{'what':44} {'median s':>9} {'x floor':>8} {'min s':>7} {'x floor':>8}")
    rows = [
        ("floor: raw + json.loads, GC paused", t_floor, mins["floor"]),
        ("ours: list_pods -> PodRow (500/page)", t_paged, mins["paged"]),
        ("ours: list_pods -> PodRow (one request)", t_single, mins["single"]),
        ("official client models", t_models, t_models),
    ]
    for name, t, m in rows:
        print(f"{name:44} {t:9.3f} {t / t_floor:8.2f} {m:7.3f} {m / mins['floor']:8.2f}")
    goal = "OK" if t_paged <= 1.5 * t_floor else "MISSED"
    print(f"goal ours(paged) <= 1.5x floor (medians): {goal} ({t_paged / t_floor:.2f}x)")
    print(
        f"get_k8s_pods({big_ns}) output: {chars} chars, {tokens} tokens (chars/4, non-ASCII 1 each)"
        f", {t_tool:.3f} s; goal <= 2000 tokens: {'OK' if tokens <= 2000 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
