"""Benchmark: the any-kind read tools (issue 13) on a 5,000-pod sandbox.

Run: ``python bench/bench_k8s_generic.py [--pods 5000] [--repeat 5]``

In one run, against one in-process sandbox over real HTTP, it measures (medians):

- ``list_resources(kind=pods)`` for all namespaces: output size in tokens (chars/4, as
  :func:`opsconsole.k8s.render.estimate_tokens`) and time, against the floor: the same list
  read whole with ``_preload_content=False`` + ``json.loads`` (one request, GC paused), and
  against the server's Table read whole (every page);
- ``get_resource`` / ``describe_resource`` of the largest object the sandbox holds, and of a
  ConfigMap of ~1 MB created for the run: output size in tokens.

Goals: each output <= 2,000 tokens (``agent.tool_output_tokens``).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
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
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from opsconsole.config import Settings
    from opsconsole.k8s import discovery, generic
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.lists import list_items
    from opsconsole.k8s.render import estimate_tokens
    from opsconsole.k8s.tools import build_k8s_tools
    from opsconsole.sandbox import SandboxServer

    server = SandboxServer(scenario="demo", pods=args.pods, port=0).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kc = server.write_kubeconfig(Path(tmp) / "kubeconfig")
            cluster = Cluster(kubeconfig=kc, context="opsconsole-sandbox", request_timeout=60)
            settings = Settings()
            budget = settings.agent.tool_output_tokens
            tools = {t.name: t for t in build_k8s_tools(cluster, settings)}
            discovery.resources(cluster)  # discovery cached, as after the first call

            def ours() -> Any:
                return tools["list_resources"].handler({"kind": "pods"})

            def floor() -> Any:
                return cluster.get_json("core", "list_pod_for_all_namespaces")

            pods_res = discovery.resolve(cluster, "pods")

            def whole_table() -> Any:
                return generic.list_table(
                    cluster,
                    pods_res,
                    [None],
                    label_selector=None,
                    field_selector=None,
                    budget=10**9,
                )

            t_ours, res = timed(ours, args.repeat)
            t_floor, raw = timed(floor, args.repeat)
            t_table, _ = timed(whole_table, max(1, args.repeat // 2))
            n = len(raw["items"])
            list_tokens = estimate_tokens(res.content)
            print(f"pods listed: {n} (tool says total {res.data['total']})")
            print(
                f"list_resources(pods): {len(res.content)} chars, {list_tokens} tokens "
                f"(goal <= {budget}); truncated marker: {'[truncated:' in res.content}"
            )
            print(f"time list_resources: {t_ours * 1000:.1f} ms")
            print(f"time json.loads floor (whole list, one request): {t_floor * 1000:.1f} ms")
            print(f"time whole Table, every page, rendered: {t_table * 1000:.1f} ms")
            print(f"ratio list_resources / floor: {t_ours / t_floor:.2f}")
            print(f"ratio whole Table / floor: {t_table / t_floor:.2f}")

            # the largest object the sandbox holds (by JSON size) among a few kinds
            biggest: tuple[int, str, str | None, str] = (0, "", None, "")
            for kind, (g, v, p) in {
                "pods": ("", "v1", "pods"),
                "nodes": ("", "v1", "nodes"),
                "deployments": ("apps", "v1", "deployments"),
            }.items():
                for o in list_items(cluster, g, v, p, None):
                    size = len(json.dumps(o))
                    md = o["metadata"]
                    if size > biggest[0]:
                        biggest = (size, kind, md.get("namespace"), md["name"])
            size, kind, ns, name = biggest
            a = {"kind": kind, "name": name, **({"namespace": ns} if ns else {})}
            got = tools["get_resource"].handler(a)
            desc = tools["describe_resource"].handler(a)
            print(
                f"largest object {kind}/{name} ({size} bytes of JSON): get_resource "
                f"{estimate_tokens(got.content)} tokens, describe_resource "
                f"{estimate_tokens(desc.content)} tokens"
            )
            # a ~1 MB ConfigMap
            cluster.write_mode = True
            data = {f"key-{i:04d}": "x" * 1000 for i in range(1000)}
            cluster.call(
                "core",
                "create_namespaced_config_map",
                "default",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "big"},
                    "data": data,
                },
            )
            cluster.write_mode = False
            a = {"kind": "cm", "name": "big", "namespace": "default"}
            t_get, got = timed(lambda: tools["get_resource"].handler(a), args.repeat)
            desc = tools["describe_resource"].handler(a)
            print(
                f"ConfigMap of {len(json.dumps(data))} bytes: get_resource "
                f"{estimate_tokens(got.content)} tokens ({t_get * 1000:.1f} ms), "
                f"describe_resource {estimate_tokens(desc.content)} tokens; "
                f"truncated marker: {'[truncated:' in got.content}"
            )
            cluster.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
