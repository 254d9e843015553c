"""Every demo pod that has started serves its log (JSON-formatted log lines included)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def test_every_started_container_serves_its_log(sandbox) -> None:
    pods = json.load(urllib.request.urlopen(sandbox.url + "/api/v1/pods", timeout=10))["items"]
    failures = []
    served = 0
    for pod in pods:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        statuses = pod.get("status", {}).get("containerStatuses") or []
        for cs in statuses:
            started = "running" in cs.get("state", {}) or "terminated" in cs.get("state", {})
            started = started or bool(cs.get("lastState"))
            if not started:
                continue
            url = f"{sandbox.url}/api/v1/namespaces/{ns}/pods/{name}/log?container={cs['name']}"
            try:
                urllib.request.urlopen(url + "&tailLines=3", timeout=10).read()
                served += 1
            except urllib.error.HTTPError as exc:
                failures.append(f"{ns}/{name}/{cs['name']}: HTTP {exc.code}")
    assert not failures
    assert served >= 25
