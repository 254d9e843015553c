"""The sandbox's scheduler through kubectl and the official client: requests against what is left
of each node's allocatable, nodeSelector, node affinity, taints; an unschedulable pod gets its
FailedScheduling event at once with the real message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from opsconsole.sandbox import SandboxServer
from tests.sandbox.conftest import wait_for
from tests.sandbox.test_controllers import Cluster

WAIT = "--timeout=120s"


@pytest.fixture(scope="module")
def k(kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    # speed 1: FailedScheduling must arrive at once, not at the scheduler's next retry
    srv = SandboxServer(scenario="clean", speed=1).start()
    cluster = Cluster(srv, kubectl_bin, tmp_path_factory.mktemp("scheduler"))
    yield cluster
    cluster.api.close()
    srv.stop()


def _failed_scheduling(k: Cluster, ns: str, pod: str) -> list[str]:
    return [m for t, r, m in k.events(ns, pod) if r == "FailedScheduling" and t == "Warning"]


def _pod(k: Cluster, app: str) -> Any:
    return wait_for(
        lambda: k.core.list_namespaced_pod("default", label_selector=f"app={app}").items, 60
    )


def test_a_node_selector_that_matches_nothing(k: Cluster):
    k.kubectl(
        "run",
        "lost",
        "--image=nginx:1.27",
        "--labels=app=lost",
        '--overrides={"spec":{"nodeSelector":{"disktype":"ssd"}}}',
    )
    pod = _pod(k, "lost")[0]
    assert pod.status.phase == "Pending" and not pod.spec.node_name
    expected = (
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
        "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    assert _failed_scheduling(k, "default", "lost") == [expected]  # already there
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert scheduled.status == "False" and scheduled.reason == "Unschedulable"
    assert scheduled.message == expected
    described = k.kubectl("describe", "pod", "lost").stdout
    assert "FailedScheduling" in described and "didn't match Pod's node affinity" in described


def test_requests_fill_nodes_then_the_next_pod_is_insufficient(k: Cluster):
    k.kubectl("create", "deployment", "big", "--image=nginx:1.27", "--replicas=4")
    k.kubectl("set", "resources", "deploy/big", "--requests=cpu=3")
    wait_for(
        lambda: (
            len(
                [
                    p
                    for p in k.core.list_namespaced_pod("default", label_selector="app=big").items
                    if p.spec.containers[0].resources.requests and not p.metadata.deletion_timestamp
                ]
            )
            == 4
        ),
        timeout=120,
    )

    def placed() -> tuple[list[str], list[Any]]:
        pods = [
            p
            for p in k.core.list_namespaced_pod("default", label_selector="app=big").items
            if p.spec.containers[0].resources.requests and not p.metadata.deletion_timestamp
        ]
        return sorted(p.spec.node_name for p in pods if p.spec.node_name), [
            p for p in pods if not p.spec.node_name
        ]

    nodes, pending = placed()
    assert nodes == ["node-1", "node-2", "node-3"]  # one 3-CPU pod per 4-CPU node
    assert len(pending) == 1
    assert _failed_scheduling(k, "default", pending[0].metadata.name) == [
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 No preemption victims found for incoming pod."
    ]
    k.kubectl("delete", "deployment", "big")


def test_required_node_affinity_picks_the_node(k: Cluster):
    k.kubectl(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: default, labels: {app: pinned}}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: kubernetes.io/hostname, operator: In, values: [node-2]}
  containers: [{name: c, image: nginx:1.27}]
""",
    )
    assert k.core.read_namespaced_pod("pinned", "default").spec.node_name == "node-2"


def test_a_taint_without_toleration_is_named(k: Cluster):
    for n in ("node-1", "node-2", "node-3"):
        k.kubectl("taint", "node", n, "dedicated=db:NoSchedule")
    try:
        k.kubectl("run", "plain", "--image=nginx:1.27", "--labels=app=plain")
        assert _failed_scheduling(k, "default", "plain") == [
            "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: db}. "
            "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        ]
        tolerating = (
            '{"spec":{"tolerations":[{"key":"dedicated","operator":"Equal","value":"db",'
            '"effect":"NoSchedule"}]}}'
        )
        k.kubectl("run", "tolerant", "--image=nginx:1.27", f"--overrides={tolerating}")
        assert k.core.read_namespaced_pod("tolerant", "default").spec.node_name
    finally:
        for n in ("node-1", "node-2", "node-3"):
            k.kubectl("taint", "node", n, "dedicated=db:NoSchedule-")


def test_a_waiting_pod_is_placed_when_a_node_comes_to_fit(k: Cluster):
    sel = '{"spec":{"nodeSelector":{"zone":"late"}}}'
    k.kubectl("run", "waiter", "--image=nginx:1.27", "--labels=app=waiter", f"--overrides={sel}")
    assert _failed_scheduling(k, "default", "waiter")
    assert not k.core.read_namespaced_pod("waiter", "default").spec.node_name
    k.kubectl("label", "node", "node-3", "zone=late")
    try:
        k.kubectl("wait", "--for=condition=Ready", "pod/waiter", WAIT)
        pod = k.core.read_namespaced_pod("waiter", "default")
        assert pod.spec.node_name == "node-3" and pod.status.phase == "Running"
        assert ("Normal", "Scheduled", "Successfully assigned default/waiter to node-3") in (
            k.events("default", "waiter")
        )
    finally:
        k.kubectl("label", "node", "node-3", "zone-")


def test_pod_anti_affinity_spreads_by_hostname_and_leaves_the_extra_pending(
    fresh_sandbox: Any, kubectl: Any, tmp_path: Any
) -> None:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    spread = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 4
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname
      containers:
      - {name: app, image: nginx}
"""
    f = tmp_path / "spread.yaml"
    f.write_text(spread)
    run("apply", "-f", str(f))
    nodes = len(srv.store.keys("nodes"))

    def placed() -> list[str]:
        return [
            p["spec"].get("nodeName", "")
            for p in srv.store.list("pods", "default")
            if p["metadata"]["name"].startswith("spread-")
        ]

    wait_for(lambda: len(placed()) == 4, 60)
    on = [n for n in placed() if n]
    assert len(on) == nodes == len(set(on))  # one a node, the extra one waits
    events = run("get", "events", "--field-selector=reason=FailedScheduling", "-o",
                 "jsonpath={.items[*].message}").stdout  # fmt: skip
    assert (
        f"0/{nodes} nodes are available: {nodes} node(s) didn't match pod anti-affinity rules. "
        f"preemption: 0/{nodes} nodes are available: {nodes} No preemption victims found for "
        "incoming pod."
    ) in events


def _with_claim(name: str, claim: str) -> list[str]:
    spec = {
        "spec": {
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
            "containers": [
                {
                    "name": "c",
                    "image": "nginx:1.27",
                    "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                }
            ],
        }
    }
    return [
        "run",
        name,
        "--image=nginx:1.27",
        f"--labels=app={name}",
        f"--overrides={json.dumps(spec)}",
    ]


CLAIM = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec:
  storageClassName: {cls}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""


def test_a_missing_claim_or_an_unbound_one_keeps_the_pod_off_every_node(k: Cluster):
    post = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    k.kubectl(*_with_claim("claims", "data"))
    pod = _pod(k, "claims")[0]
    assert pod.status.phase == "Pending" and not pod.spec.node_name
    assert _failed_scheduling(k, "default", "claims") == [
        f'0/3 nodes are available: persistentvolumeclaim "data" not found. {post}'
    ]
    k.kubectl("apply", "-f", "-", stdin=CLAIM.format(name="stuck", cls="missing"))
    k.kubectl(*_with_claim("unbound", "stuck"))
    _pod(k, "unbound")
    assert _failed_scheduling(k, "default", "unbound") == [
        f"0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. {post}"
    ]
    # the claim appears and binds (the default class provisions it): the waiting pod runs
    k.kubectl("apply", "-f", "-", stdin=CLAIM.format(name="data", cls="standard"))
    k.kubectl("wait", "--for=condition=Ready", "pod/claims", WAIT)
    assert k.core.read_namespaced_pod("unbound", "default").status.phase == "Pending"


LOCAL_PV = """\
apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}, labels: {labels}}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  claimRef: {{namespace: default, name: {name}}}
  hostPath: {{path: /data/{name}}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [{node}]}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}}}
spec:
  storageClassName: ""
  volumeName: {name}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
"""


def test_a_bound_volume_pins_the_pod_to_its_node_and_zone(k: Cluster):
    k.kubectl("apply", "-f", "-", stdin=LOCAL_PV.format(name="local", node="node-2", labels="{}"))
    wait_for(
        lambda: k.kubectl("get", "pvc", "local", "-o", "jsonpath={.status.phase}").stdout == "Bound"
    )
    k.kubectl(*_with_claim("on-local", "local"))
    k.kubectl("wait", "--for=condition=Ready", "pod/on-local", WAIT)
    assert k.core.read_namespaced_pod("on-local", "default").spec.node_name == "node-2"
    k.kubectl(
        *_with_claim("elsewhere", "local")[:-1],
        '--overrides={"spec":{"nodeSelector":{"kubernetes.io/hostname":"node-1"},'
        '"volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"local"}}]}}',
    )
    _pod(k, "elsewhere")
    assert _failed_scheduling(k, "default", "elsewhere") == [
        "0/3 nodes are available: 1 node(s) had volume node affinity conflict, "
        "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    ]
    # a volume labelled with a zone no node is in
    zoned = LOCAL_PV.format(
        name="zoned", node="node-3", labels="{topology.kubernetes.io/zone: eu-west-1z}"
    )
    k.kubectl("apply", "-f", "-", stdin=zoned)
    wait_for(
        lambda: k.kubectl("get", "pvc", "zoned", "-o", "jsonpath={.status.phase}").stdout == "Bound"
    )
    k.kubectl(*_with_claim("nozone", "zoned"))
    _pod(k, "nozone")
    assert _failed_scheduling(k, "default", "nozone") == [
        "0/3 nodes are available: 1 node(s) had no available volume zone, "
        "2 node(s) had volume node affinity conflict. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    ]


def _deploy(run: Any, tmp_path: Any, name: str, replicas: int, pod_spec: str) -> None:
    f = tmp_path / f"{name}.yaml"
    f.write_text(
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n"
        f"  replicas: {replicas}\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n"
        f"    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{pod_spec}"
        "      containers:\n      - {name: app, image: nginx}\n"
    )
    run("apply", "-f", str(f))


def _placed(srv: Any, prefix: str) -> list[str]:
    return [
        p["spec"].get("nodeName", "")
        for p in srv.store.list("pods", "default")
        if p["metadata"]["name"].startswith(prefix + "-")
    ]


def test_topology_spread_keeps_the_skew_and_names_the_constraint(
    fresh_sandbox: Any, kubectl: Any, tmp_path: Any
) -> None:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    nodes = sorted(n["metadata"]["name"] for n in srv.store.list("nodes"))
    # two zones: a holds two nodes, b one; spreading six pods by zone puts three on b's node,
    # where the fewest-pods rule alone would put two
    zone = "topology.kubernetes.io/zone"
    run("label", "node", nodes[2], f"{zone}=eu-west-1a", "--overwrite")
    run("label", "node", nodes[0], f"{zone}=eu-west-1a", "--overwrite")
    constraint = (
        "      topologySpreadConstraints:\n"
        f"      - {{maxSkew: 1, topologyKey: {zone},"
        " whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: even}}}\n"
    )
    _deploy(run, tmp_path, "even", 6, constraint)
    wait_for(lambda: len(_placed(srv, "even")) == 6 and all(_placed(srv, "even")), 60)
    assert _placed(srv, "even").count(nodes[1]) == 3
    # a key no node carries: every node fails with the missing-label reason
    _deploy(run, tmp_path, "racked", 1, constraint.replace(zone, "example.com/rack"))
    wait_for(lambda: _placed(srv, "racked") == [""], 60)
    events = run("get", "events", "--field-selector=reason=FailedScheduling", "-o",
                 "jsonpath={.items[*].message}").stdout  # fmt: skip
    assert (
        f"0/{len(nodes)} nodes are available: {len(nodes)} node(s) didn't match pod topology "
        "spread constraints (missing required label)."
    ) in events


def test_preferred_node_affinity_and_pod_anti_affinity_choose_the_node(
    fresh_sandbox: Any, kubectl: Any, tmp_path: Any
) -> None:
    srv = fresh_sandbox("clean")
    run = kubectl(srv)
    nodes = sorted(n["metadata"]["name"] for n in srv.store.list("nodes"))
    run("label", "node", nodes[-1], "disktype=ssd")
    prefer_ssd = (
        "      affinity:\n        nodeAffinity:\n"
        "          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "          - weight: 50\n            preference:\n"
        "              matchExpressions: [{key: disktype, operator: In, values: [ssd]}]\n"
    )
    _deploy(run, tmp_path, "fast", 3, prefer_ssd)
    wait_for(lambda: len(_placed(srv, "fast")) == 3 and all(_placed(srv, "fast")), 60)
    assert set(_placed(srv, "fast")) == {nodes[-1]}  # preferred, not the least loaded
    # preferred anti-affinity to the fast pods keeps the next group off that node
    away = (
        "      affinity:\n        podAntiAffinity:\n"
        "          preferredDuringSchedulingIgnoredDuringExecution:\n"
        "          - weight: 100\n            podAffinityTerm:\n"
        "              topologyKey: kubernetes.io/hostname\n"
        "              labelSelector: {matchLabels: {app: fast}}\n"
    )
    _deploy(run, tmp_path, "shy", 4, away)
    wait_for(lambda: len(_placed(srv, "shy")) == 4 and all(_placed(srv, "shy")), 60)
    assert nodes[-1] not in _placed(srv, "shy")
