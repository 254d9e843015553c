"""The probe-path fix, planned from canned tool data (the sandbox has no probe that answers
404, so this one rule is checked on the planner alone; the other fixes run on a sandbox in
``test_fixes.py``)."""

from __future__ import annotations

from .scripted import TOOLS, describe, drive, event, findings, pod, pods, result, tool

POD = "quotes-5d8f7c9b6-q2w7e"
DEPLOYMENT = {
    "kind": "Deployment",
    "namespace": "sales",
    "name": "quotes",
    "object": {
        "metadata": {"name": "quotes", "namespace": "sales"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "registry.example.com/sales/quotes:1.2",
                            "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}},
                            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                        }
                    ]
                }
            }
        },
    },
}
NAMED = {"kind": "string", "name": "string", "namespace": "string"}
WRITE_TOOLS = [
    *TOOLS,
    tool("get_resource", NAMED, ["kind", "name"]),
    tool("patch_resource", {**NAMED, "patch": "object", "patch_type": "string"}, ["kind", "name"]),
]
UNHEALTHY = event(
    "Warning",
    "Unhealthy",
    "Pod",
    POD,
    "Readiness probe failed: HTTP probe failed with statuscode: 404",
    "Warning Unhealthy pod/sales/quotes: Readiness probe failed: statuscode: 404",
)
WORLD = {
    "find_unhealthy_pods": findings(),
    "get_k8s_pods": pods("sales", pod(POD, "Running", "0/1", 0, f"{POD}  Running  0/1  0")),
    "describe_pod": describe("sales", POD, [("Status", "Running")], events=[UNHEALTHY]),
    "get_events": result({"items": []}),
    "get_pod_logs": result({"lines": []}),
    "get_resource": result(DEPLOYMENT),
    "patch_resource": result({"message": "deployment/sales/quotes patched"}),
}


async def test_probe_answered_404_gets_the_working_probe_path() -> None:
    run = await drive("why is quotes in sales not ready", WORLD, tools=WRITE_TOOLS)
    patch = [args for name, args in run.calls if name == "patch_resource"]
    assert len(patch) == 1
    probe = patch[0]["patch"]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": 8080}
    assert "`/readyz`" in run.answer and "404" in run.answer
