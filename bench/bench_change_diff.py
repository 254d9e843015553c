"""Benchmark: from a mutating call to its approval being ready (the server-side dry run, the
diff live -> result and the blast radius), on a 5,000-pod sandbox.

Run: ``python bench/bench_change_diff.py [--pods 5000] [--repeat 7]``

In one run, against one in-process sandbox (``pods=N``: the generated cluster of
:mod:`opsconsole.sandbox.generate`, every pod in namespace ``scale``) over real HTTP, it times
with ``time.perf_counter`` (medians of ``--repeat``) what the agent loop does between a
mutating call arriving and the approval window opening: the tool's ``dry_run`` (arguments
checked, kind resolved, the policy, the live object read, the ``dryRun=All`` request, the diff
and the blast radius). The baseline is a plain GET of the same object through the same client
in the same run; the ratio says what the preview costs over the one read it cannot do without.

- ``set_image`` of a deployment (10 replicas): GET + dry-run PATCH + diff of two deployments;
- ``scale_resource`` of that deployment: GET of the object and of its scale + dry-run PATCH;
- ``delete_resource`` of one of its pods: GET + dry-run DELETE + the owner read from the pod;
- ``delete_resource`` of the ``scale`` namespace: the blast radius counts every object in it
  (5,000 pods, paged), so this one is a list of the namespace, not a single object.

Goal: a single-object preview within 4x of the plain GET (it is a GET, a dry-run write the
server answers like the write itself, and two YAML dumps and a diff of the object).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL_RATIO = 4.0


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    from opsconsole.config import Settings
    from opsconsole.k8s import discovery
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.discovery import raw_get
    from opsconsole.k8s.tools import build_k8s_tools
    from opsconsole.sandbox import SandboxServer

    server = SandboxServer(scenario="demo", pods=args.pods, port=0).start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kc = server.write_kubeconfig(Path(tmp) / "kubeconfig")
            cluster = Cluster(kubeconfig=kc, context="opsconsole-sandbox", request_timeout=120)
            tools = {t.name: t for t in build_k8s_tools(cluster, Settings())}
            discovery.resources(cluster)  # discovery cached, as after the first call
            deps = raw_get(cluster, "/apis/apps/v1/namespaces/scale/deployments")["items"]
            dep = max(deps, key=lambda d: d["spec"].get("replicas", 1))
            name = dep["metadata"]["name"]
            container = dep["spec"]["template"]["spec"]["containers"][0]["name"]
            pods = raw_get(
                cluster, "/api/v1/namespaces/scale/pods", [("labelSelector", f"app={name}")]
            )["items"]
            pod = pods[0]["metadata"]["name"]
            total = len(raw_get(cluster, "/api/v1/namespaces/scale/pods")["items"])
            cases = [
                (
                    "set_image deployment",
                    "set_image",
                    {"name": name, "namespace": "scale", "container": container,
                     "image": "registry.example.com/bench/app:9.9.9"},
                    f"/apis/apps/v1/namespaces/scale/deployments/{name}",
                ),
                (
                    "scale_resource deployment",
                    "scale_resource",
                    {"kind": "deploy", "name": name, "namespace": "scale", "replicas": 20},
                    f"/apis/apps/v1/namespaces/scale/deployments/{name}",
                ),
                (
                    "delete_resource pod",
                    "delete_resource",
                    {"kind": "pods", "name": pod, "namespace": "scale"},
                    f"/api/v1/namespaces/scale/pods/{pod}",
                ),
                (
                    "delete_resource namespace",
                    "delete_resource",
                    {"kind": "ns", "name": "scale"},
                    "/api/v1/namespaces/scale",
                ),
            ]  # fmt: skip
            print(f"sandbox: {args.pods} pods requested, {total} in namespace scale; "
                  f"deployment scale/{name} ({dep['spec'].get('replicas')} replicas); "
                  f"medians of {args.repeat}")  # fmt: skip
            print(f"{'case':<28} {'GET ms':>9} {'preview ms':>11} {'ratio':>7}  blast radius")
            ok = True
            for label, tool, targs, path in cases:
                get_s, _ = timed(lambda p=path: raw_get(cluster, p), args.repeat)
                dry = tools[tool].dry_run
                assert dry is not None
                pre_s, result = timed(lambda d=dry, a=targs: d(a), args.repeat)
                assert not result.rejected, result.text
                assert result.diff, label
                ratio = pre_s / get_s if get_s else float("inf")
                single = "namespace" not in label
                if single and ratio > GOAL_RATIO:
                    ok = False
                print(
                    f"{label:<28} {get_s * 1000:>9.2f} {pre_s * 1000:>11.2f} {ratio:>6.1f}x  "
                    f"{result.blast_radius[:70]}"
                )
            print(
                f"goal: a single-object preview within {GOAL_RATIO:g}x of the plain GET: "
                + ("met" if ok else "NOT met")
            )
            cluster.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
