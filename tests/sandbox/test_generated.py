"""pods=N: a generated cluster, deterministic, with faults, served in pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opsconsole.sandbox import SandboxServer
from tests.sandbox.conftest import apis


def test_generated_counts_and_determinism():
    a, b = SandboxServer(pods=1234), SandboxServer(pods=1234)
    try:
        assert len(a.store.objects["pods"]) == 1234
        assert sorted(a.store.objects["pods"]) == sorted(b.store.objects["pods"])
        statuses = {p["status"]["phase"] for p in a.store.objects["pods"].values()}
        assert statuses == {"Running", "Pending"}
    finally:
        a.stop()
        b.stop()


def test_generated_spread_over_namespaces():
    srv = SandboxServer(pods=300, namespaces=3)
    namespaces = {ns for ns, _ in srv.store.objects["pods"]}
    assert namespaces == {"scale-00", "scale-01", "scale-02"}


def test_generated_large_list_over_http(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(pods=2000)
    core, _, _ = apis(srv, tmp_path)
    resp = core.list_pod_for_all_namespaces(_preload_content=False)
    import json

    data = json.loads(resp.data)
    assert len(data["items"]) == 2000
    page = core.list_namespaced_pod("scale", limit=500)
    assert len(page.items) == 500 and page.metadata.remaining_item_count == 1500
    reasons = set()
    for p in data["items"]:
        for cs in p["status"].get("containerStatuses", []):
            reasons.add((cs["state"].get("waiting") or {}).get("reason"))
    assert {"CrashLoopBackOff", "ImagePullBackOff"} & reasons
