"""kubectl-accurate STATUS and row parsing over hand-made pod JSON."""

from __future__ import annotations

from opsconsole.k8s.parse import parse_node, parse_pod, parse_quantity, pod_status
from tests.k8s.pod_fixtures import node, pod, running, terminated, waiting


def status(p: dict) -> str:
    return pod_status(p)[0]


def test_running_ready():
    p = pod(statuses=[running()], conditions=[{"type": "Ready", "status": "True"}])
    assert pod_status(p) == ("Running", 1, 1, 0)


def test_crashloop_reason_and_restarts():
    p = pod(
        statuses=[waiting(reason="CrashLoopBackOff", restarts=7, last_reason="Error", last_exit=1)]
    )
    assert pod_status(p)[0] == "CrashLoopBackOff"
    assert pod_status(p)[3] == 7


def test_image_pull_states():
    assert status(pod(phase="Pending", statuses=[waiting(reason="ImagePullBackOff")])) == (
        "ImagePullBackOff"
    )
    assert status(pod(phase="Pending", statuses=[waiting(reason="ErrImagePull")])) == (
        "ErrImagePull"
    )


def test_oomkilled_terminated_and_error_and_exit_code():
    assert status(pod(statuses=[terminated(reason="OOMKilled", exit_code=137)])) == "OOMKilled"
    assert status(pod(statuses=[terminated(reason="Error", exit_code=1)])) == "Error"
    t = terminated(reason="", exit_code=3)
    t["state"]["terminated"].pop("reason")
    assert status(pod(statuses=[t])) == "ExitCode:3"


def test_completed_job_pod():
    p = pod(phase="Succeeded", statuses=[terminated()])
    assert status(p) == "Completed"
    assert parse_pod(p).healthy


def test_completed_beside_running_is_running_or_notready():
    two = [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]
    sts = [terminated(name="a"), running(name="b")]
    ready = pod(containers=two, statuses=sts, conditions=[{"type": "Ready", "status": "True"}])
    assert status(ready) == "Running"
    notready = pod(containers=two, statuses=sts, conditions=[{"type": "Ready", "status": "False"}])
    assert status(notready) == "NotReady"


def test_pending_and_container_creating():
    assert status(pod(phase="Pending", node="")) == "Pending"
    assert status(pod(phase="Pending", statuses=[waiting()])) == "ContainerCreating"


def test_terminating_and_nodelost():
    assert status(pod(statuses=[running()], deleting=True)) == "Terminating"
    assert status(pod(statuses=[running()], deleting=True, reason="NodeLost")) == "Unknown"


def test_init_containers():
    inits = [{"name": "migrate", "image": "m"}, {"name": "warm", "image": "w"}]
    p = pod(
        phase="Pending",
        init_containers=inits,
        init_statuses=[terminated(name="migrate"), waiting(name="warm", reason="PodInitializing")],
        statuses=[waiting(reason="PodInitializing")],
    )
    assert status(p) == "Init:1/2"
    p2 = pod(
        phase="Pending",
        init_containers=inits,
        init_statuses=[waiting(name="migrate", reason="CrashLoopBackOff", restarts=3)],
    )
    assert status(p2) == "Init:CrashLoopBackOff"
    p3 = pod(
        phase="Pending",
        init_containers=inits,
        init_statuses=[terminated(name="migrate", reason="Error", exit_code=2)],
    )
    assert status(p3) == "Init:Error"


def test_parse_pod_row_fields():
    p = pod(
        statuses=[waiting(reason="CrashLoopBackOff", restarts=4, last_exit=1, last_reason="Error")]
    )
    row = parse_pod(p)
    assert row.namespace == "shop" and row.name == "api-7d9f8-abcde"
    assert row.owner_kind == "ReplicaSet" and row.owner_name == "api-7d9f8"
    assert row.containers[0].reason == "CrashLoopBackOff"
    assert row.containers[0].last_exit_code == 1
    assert row.containers[0].last_reason == "Error"
    assert row.raw is None and parse_pod(p, keep_raw=True).raw == p


def test_parse_node_pressure_gpu_taints():
    n = parse_node(
        node(
            "gpu-1",
            pressure={"MemoryPressure": "True", "DiskPressure": "False"},
            gpu="4",
            taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}],
        )
    )
    assert n.status == "Ready" and n.pressure == ["MemoryPressure"]
    assert n.gpu_capacity == "4" and n.taints == ["nvidia.com/gpu:NoSchedule"]
    assert n.roles == "worker"
    assert parse_node(node("n2", ready="False")).status == "NotReady"


def test_quantities():
    assert parse_quantity("250m") == 0.25
    assert parse_quantity("512Mi") == 512 * 2**20
    assert parse_quantity("1G") == 1e9
    assert parse_quantity("2") == 2
