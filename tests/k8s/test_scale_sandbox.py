"""K8: a 5,000-pod namespace is paged, summarised and capped (one generated sandbox)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from opsconsole.agent.tools import ToolRegistry
from opsconsole.agent.transcript import estimate_tokens
from opsconsole.config import Settings
from opsconsole.k8s import queries as q
from opsconsole.k8s.tools import build_k8s_tools
from opsconsole.k8s.watch import watch_pods
from tests.k8s.conftest import cluster_for


def test_5000_pods_paged_and_tool_output_capped(fresh_sandbox: Any, tmp_path: Path):
    srv = fresh_sandbox(pods=5000)
    c = cluster_for(srv, tmp_path, request_timeout=60)
    before = srv.faults.requests
    pods = q.list_pods(c)
    assert len(pods) == 5000 and len({p.key for p in pods}) == 5000
    assert srv.faults.requests - before >= 10  # limit=500 pages with continue tokens
    ns = pods[0].namespace
    unhealthy = [p for p in pods if not p.healthy]

    reg = ToolRegistry(build_k8s_tools(c, Settings()))
    res = reg.get("get_k8s_pods").handler({"namespace": ns})
    assert not res.is_error
    assert estimate_tokens(res.content) <= Settings().agent.tool_output_tokens
    assert res.content.startswith(f"pods in namespace {ns}: 5000 total; {len(unhealthy)} need")
    m = re.search(r"\[truncated: (\d+) more pods omitted", res.content)
    assert m
    shown = [ln for ln in res.content.splitlines()[3:] if ln and not ln.startswith(("#", "["))]
    assert int(m.group(1)) + len(shown) == 5000
    # the pods that matter come first
    assert all(not ln.split("  ")[1].startswith("Running") for ln in shown[:20])
    assert "# unhealthy by workload:" in res.content

    res = reg.get("find_unhealthy_pods").handler({})
    assert not res.is_error and res.content.startswith("health check of all namespaces")
    assert estimate_tokens(res.content) <= Settings().agent.tool_output_tokens
    assert "[truncated:" in res.content and "more findings omitted" in res.content

    # the watch's initial SYNC carries the whole (paged) list
    w = watch_pods(c, ns)
    typ, rows = next(w)
    w.close()
    assert typ == "SYNC" and len(rows) == 5000
