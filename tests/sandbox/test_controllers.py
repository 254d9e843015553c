"""The sandbox's controllers through the real kubectl and the official client: Jobs, CronJobs,
StatefulSet claims, the persistent-volume controller, Endpoints and EndpointSlices, Deployment
revisions, HPAs. A fast clock (``speed``) makes simulated minutes pass in seconds; every wait is
for a condition with a generous timeout."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from opsconsole.sandbox import SandboxServer
from tests.sandbox.conftest import api_client, wait_for

WAIT = "--timeout=120s"


class Cluster:
    def __init__(self, srv: SandboxServer, kubectl_bin: str, tmp: Any) -> None:
        from kubernetes import client

        self.srv = srv
        kc = srv.write_kubeconfig(tmp / "kc")
        self.env = dict(os.environ, KUBECONFIG=str(kc), HOME=str(tmp))
        self.bin, self.cache = kubectl_bin, str(tmp / "cache")
        self.api = api_client(kc)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.batch = client.BatchV1Api(self.api)
        self.discovery = client.DiscoveryV1Api(self.api)
        self.hpa = client.AutoscalingV2Api(self.api)

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> Any:
        p = subprocess.run(
            [self.bin, "--cache-dir", self.cache, *args],
            capture_output=True,
            text=True,
            timeout=180,
            env=self.env,
            input=stdin,
        )
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {p.stderr}")
        return p

    def events(self, ns: str, name: str) -> list[tuple[str, str, str]]:
        return [
            (e.type, e.reason, e.message)
            for e in self.core.list_namespaced_event(ns).items
            if e.involved_object.name == name
        ]


@pytest.fixture(scope="module")
def k(kubectl_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    srv = SandboxServer(scenario="clean", speed=60).start()
    cluster = Cluster(srv, kubectl_bin, tmp_path_factory.mktemp("controllers"))
    yield cluster
    cluster.api.close()
    srv.stop()
    assert srv.cluster.errors == []


def _cond(obj: Any, ctype: str) -> Any:
    return next((c for c in obj.status.conditions or () if c.type == ctype), None)


# --- Jobs -------------------------------------------------------------------------------------
def test_a_job_runs_its_completions_and_kubectl_wait_sees_complete(k: Cluster):
    k.kubectl(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: batch/v1
kind: Job
metadata: {name: batch3, namespace: default}
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: work, image: busybox:1.36, command: [sh, -c, "echo done"]}]
""",
    )
    out = k.kubectl("wait", "--for=condition=complete", "job/batch3", WAIT).stdout
    assert out.strip() == "job.batch/batch3 condition met"
    job = k.batch.read_namespaced_job("batch3", "default")
    assert job.status.succeeded == 3 and not job.status.failed and not job.status.active
    assert _cond(job, "Complete").status == "True" and job.status.completion_time
    pods = k.core.list_namespaced_pod("default", label_selector="job-name=batch3").items
    assert len(pods) == 3 and {p.status.phase for p in pods} == {"Succeeded"}
    term = pods[0].status.container_statuses[0].state.terminated
    assert term.exit_code == 0 and term.reason == "Completed"
    reasons = [r for _, r, _ in k.events("default", "batch3")]
    assert reasons.count("SuccessfulCreate") == 3 and "Completed" in reasons
    got = k.kubectl("get", "job", "batch3").stdout
    assert "Complete" in got and "3/3" in got


def test_a_failing_job_stops_at_its_backoff_limit(k: Cluster):
    k.kubectl("create", "job", "flaky", "--image=busybox:1.36", "--", "sh", "-c", "echo no; exit 2")
    k.kubectl("patch", "job", "flaky", "--type=merge", "-p", '{"spec":{"backoffLimit":1}}')
    k.kubectl("wait", "--for=condition=failed", "job/flaky", WAIT)
    job = k.batch.read_namespaced_job("flaky", "default")
    assert job.status.failed == 2 and not job.status.succeeded
    failed = _cond(job, "Failed")
    assert failed.reason == "BackoffLimitExceeded"
    assert failed.message == "Job has reached the specified backoff limit"
    pods = k.core.list_namespaced_pod("default", label_selector="job-name=flaky").items
    assert {p.status.container_statuses[0].state.terminated.exit_code for p in pods} == {2}
    assert (
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ) in k.events("default", "flaky")


def test_kubectl_wait_for_delete_of_a_job_and_its_pods(k: Cluster):
    k.kubectl("create", "job", "gone", "--image=busybox:1.36")
    k.kubectl("wait", "--for=condition=complete", "job/gone", WAIT)
    k.kubectl("delete", "job", "gone", "--wait=false")
    k.kubectl("wait", "--for=delete", "job/gone", WAIT)
    wait_for(
        lambda: not k.core.list_namespaced_pod("default", label_selector="job-name=gone").items,
        timeout=60,
    )


def test_a_cronjob_creates_jobs_on_its_schedule(k: Cluster):
    k.kubectl("create", "cronjob", "tick", "--image=busybox:1.36", "--schedule=* * * * *")
    cj_uid = k.batch.read_namespaced_cron_job("tick", "default").metadata.uid

    def owned_jobs() -> list[Any]:
        return [
            j
            for j in k.batch.list_namespaced_job("default").items
            if any(r.uid == cj_uid for r in j.metadata.owner_references or ())
        ]

    jobs = wait_for(owned_jobs, timeout=120)  # a simulated minute is a second at speed 60
    assert jobs[0].metadata.name.startswith("tick-")
    k.kubectl("wait", "--for=condition=complete", f"job/{jobs[0].metadata.name}", WAIT)
    cj = wait_for(
        lambda: (
            (c := k.batch.read_namespaced_cron_job("tick", "default")).status.last_schedule_time
            and c
        ),
        timeout=60,
    )
    assert cj.status.last_schedule_time is not None
    # at speed 60 the schedule runs ahead of the wall clock, yet nothing is stamped in the
    # future: kubectl prints an age for LAST SCHEDULE, not `<invalid>`
    assert cj.status.last_schedule_time <= datetime.now(UTC)
    last = k.kubectl("get", "cronjob", "tick", "-o", "custom-columns=L:.status.lastScheduleTime")
    assert "<none>" not in last.stdout
    table = k.kubectl("get", "cronjob", "tick").stdout
    assert "<invalid>" not in table, table
    assert any(r == "SuccessfulCreate" for _, r, _ in k.events("default", "tick"))
    # finished Jobs beyond successfulJobsHistoryLimit (3) are cleaned up
    wait_for(lambda: any(r == "SuccessfulDelete" for _, r, _ in k.events("default", "tick")), 180)
    assert len([j for j in owned_jobs() if _cond(j, "Complete")]) <= 3
    k.kubectl("delete", "cronjob", "tick")
    wait_for(lambda: not owned_jobs(), timeout=60)


# --- storage ----------------------------------------------------------------------------------
STORAGE = """
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
allowVolumeExpansion: true
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fixed}
provisioner: rancher.io/local-path
volumeBindingMode: Immediate
"""


@pytest.fixture(scope="module")
def storage(k: Cluster) -> Cluster:
    k.kubectl("apply", "-f", "-", stdin=STORAGE)
    return k


def test_a_statefulset_makes_bound_claims_per_ordinal_and_rollout_status_succeeds(
    storage: Cluster,
):
    k = storage
    k.kubectl(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web, namespace: default}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web-sts}}
  template:
    metadata: {labels: {app: web-sts}}
    spec: {containers: [{name: nginx, image: nginx:1.27}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
""",
    )
    out = k.kubectl("rollout", "status", "sts/web", WAIT).stdout
    assert "roll out complete" in out or "rolling update complete" in out
    sts = k.apps.read_namespaced_stateful_set("web", "default")
    assert sts.spec.update_strategy.type == "RollingUpdate"
    assert sts.spec.update_strategy.rolling_update.partition == 0
    for i in (0, 1):
        pvc = k.core.read_namespaced_persistent_volume_claim(f"data-web-{i}", "default")
        assert pvc.status.phase == "Bound" and pvc.status.capacity == {"storage": "1Gi"}
        assert pvc.spec.storage_class_name == "standard"  # the default class
        assert pvc.metadata.labels["app"] == "web-sts"
        pv = k.core.read_persistent_volume(pvc.spec.volume_name)
        assert pv.status.phase == "Bound" and pv.spec.claim_ref.name == f"data-web-{i}"
        pod = k.core.read_namespaced_pod(f"web-{i}", "default")
        claims = [
            v.persistent_volume_claim.claim_name
            for v in pod.spec.volumes
            if v.persistent_volume_claim
        ]
        assert claims == [f"data-web-{i}"]
    assert ("Normal", "ProvisioningSucceeded") in {
        (t, r) for t, r, _ in k.events("default", "data-web-0")
    }
    got = k.kubectl("get", "pvc", "data-web-0").stdout
    assert "Bound" in got and "standard" in got and "RWO" in got


def test_a_claim_binds_to_the_matching_volume(storage: Cluster):
    k = storage
    k.kubectl(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: v1
kind: PersistentVolume
metadata: {name: small, labels: {tier: x}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: /tmp/small}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {path: /tmp/big}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim, namespace: default}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 2Gi}}
""",
    )
    k.kubectl("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/claim", WAIT)
    pvc = k.core.read_namespaced_persistent_volume_claim("claim", "default")
    assert pvc.spec.volume_name == "big" and pvc.status.capacity == {"storage": "5Gi"}
    assert k.core.read_persistent_volume("small").status.phase == "Available"
    assert "default/claim" in k.kubectl("get", "pv", "big").stdout


def test_a_claim_of_a_missing_class_stays_pending_with_the_event(storage: Cluster):
    k = storage
    k.kubectl(
        "apply",
        "-f",
        "-",
        stdin="""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: nowhere, namespace: default}
spec:
  storageClassName: fast
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
""",
    )
    wait_for(lambda: k.events("default", "nowhere"), timeout=60)
    assert k.core.read_namespaced_persistent_volume_claim("nowhere", "default").status.phase == (
        "Pending"
    )
    assert ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found') in (
        k.events("default", "nowhere")
    )
    described = k.kubectl("describe", "pvc", "nowhere").stdout
    assert "Pending" in described and "ProvisioningFailed" in described


def test_an_expandable_claim_grows_and_a_fixed_one_is_refused(storage: Cluster):
    k = storage
    for name, cls in (("grow", "standard"), ("stuck", "fixed")):
        k.kubectl(
            "apply",
            "-f",
            "-",
            stdin=f"""
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: {name}, namespace: default}}
spec:
  storageClassName: {cls}
  accessModes: [ReadWriteOnce]
  resources: {{requests: {{storage: 1Gi}}}}
""",
        )
        k.kubectl("wait", "--for=jsonpath={.status.phase}=Bound", f"pvc/{name}", WAIT)
    patch = '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}'
    k.kubectl("patch", "pvc", "grow", "-p", patch)
    k.kubectl("wait", "--for=jsonpath={.status.capacity.storage}=3Gi", "pvc/grow", WAIT)
    pvc = k.core.read_namespaced_persistent_volume_claim("grow", "default")
    assert k.core.read_persistent_volume(pvc.spec.volume_name).spec.capacity == {"storage": "3Gi"}
    p = k.kubectl("patch", "pvc", "stuck", "-p", patch, check=False)
    assert p.returncode == 1
    assert (
        'persistentvolumeclaims "stuck" is forbidden: only dynamically provisioned pvc can be '
        "resized and the storageclass that provisions the pvc must support resize"
    ) in p.stderr


# --- Endpoints and EndpointSlices ---------------------------------------------------------------
def _addresses(k: Cluster, svc: str) -> tuple[set[str], set[str]]:
    ep = k.core.read_namespaced_endpoints(svc, "default")
    from_ep = {a.ip for s in ep.subsets or () for a in s.addresses or ()}
    slices = k.discovery.list_namespaced_endpoint_slice(
        "default", label_selector=f"kubernetes.io/service-name={svc}"
    ).items
    from_slices = {
        a for s in slices for e in s.endpoints or () if e.conditions.ready for a in e.addresses
    }
    return from_ep, from_slices


def test_a_service_selector_change_moves_its_endpoints_and_slices(k: Cluster):
    k.kubectl("create", "deployment", "blue", "--image=nginx:1.27", "--replicas=2")
    k.kubectl("create", "deployment", "green", "--image=nginx:1.27", "--replicas=1")
    k.kubectl("rollout", "status", "deploy/blue", WAIT)
    k.kubectl("rollout", "status", "deploy/green", WAIT)
    k.kubectl("create", "service", "clusterip", "front", "--tcp=80:80")
    k.kubectl("patch", "svc", "front", "-p", '{"spec":{"selector":{"app":"blue"}}}')

    def ips(app: str) -> set[str]:
        pods = k.core.list_namespaced_pod("default", label_selector=f"app={app}").items
        return {p.status.pod_ip for p in pods if p.status.pod_ip}

    blue, green = ips("blue"), ips("green")
    assert len(blue) == 2 and len(green) == 1
    wait_for(lambda: _addresses(k, "front") == (blue, blue), timeout=60)
    k.kubectl("patch", "svc", "front", "-p", '{"spec":{"selector":{"app":"green"}}}')
    wait_for(lambda: _addresses(k, "front") == (green, green), timeout=60)
    # a pod's labels changing moves it out of the selector too
    pod = k.core.list_namespaced_pod("default", label_selector="app=green").items[0]
    k.kubectl("label", "pod", pod.metadata.name, "app=other", "--overwrite")
    wait_for(lambda: _addresses(k, "front") == (set(), set()), timeout=60)
    slices = k.kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name=front").stdout
    assert "IPv4" in slices and "front-" in slices
    served = k.kubectl("api-resources", "--api-group=discovery.k8s.io").stdout
    assert "endpointslices" in served


# --- Deployments ------------------------------------------------------------------------------
def test_rollout_history_and_undo(k: Cluster):
    k.kubectl("create", "deployment", "api", "--image=nginx:1.25", "--replicas=2")
    k.kubectl("rollout", "status", "deploy/api", WAIT)
    k.kubectl("set", "image", "deploy/api", "nginx=nginx:1.26")
    k.kubectl("annotate", "deploy/api", "kubernetes.io/change-cause=image 1.26")
    k.kubectl("rollout", "status", "deploy/api", WAIT)
    history = k.kubectl("rollout", "history", "deploy/api").stdout.split("\n")
    assert [line.split(None, 1) for line in history[2:4]] == [["1", "<none>"], ["2", "image 1.26"]]
    two = k.kubectl("rollout", "history", "deploy/api", "--revision=2").stdout
    assert "nginx:1.26" in two
    k.kubectl("rollout", "undo", "deploy/api")
    k.kubectl("rollout", "status", "deploy/api", WAIT)
    dep = k.apps.read_namespaced_deployment("api", "default")
    assert dep.spec.template.spec.containers[0].image == "nginx:1.25"
    assert dep.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    history = k.kubectl("rollout", "history", "deploy/api").stdout
    revisions = [line.split()[0] for line in history.split("\n")[2:] if line.strip()]
    assert revisions == ["2", "3"]  # revision 1's ReplicaSet came back as revision 3
    rss = k.apps.list_namespaced_replica_set("default", label_selector="app=api").items
    assert len(rss) == 2
    pods = k.core.list_namespaced_pod("default", label_selector="app=api").items
    assert {p.spec.containers[0].image for p in pods if not p.metadata.deletion_timestamp} == {
        "nginx:1.25"
    }


# --- HPAs -------------------------------------------------------------------------------------
def test_an_hpa_scales_its_target_within_bounds(k: Cluster):
    for name in ("hot", "cold"):
        k.kubectl("create", "deployment", name, "--image=nginx:1.27", "--replicas=3")
        k.kubectl("set", "resources", f"deploy/{name}", "--requests=cpu=100m")
        k.kubectl("rollout", "status", f"deploy/{name}", WAIT)
    # any usage is above 1% of the request: up, but never past max
    k.kubectl("autoscale", "deploy", "hot", "--min=2", "--max=5", "--cpu=1%")
    # nothing reaches 1000%: down, but never under min
    k.kubectl("autoscale", "deploy", "cold", "--min=2", "--max=5", "--cpu=1000%")
    k.kubectl("wait", "--for=jsonpath={.spec.replicas}=5", "deploy/hot", WAIT)
    k.kubectl("wait", "--for=jsonpath={.spec.replicas}=2", "deploy/cold", WAIT)
    k.kubectl("rollout", "status", "deploy/hot", WAIT)
    hot = wait_for(
        lambda: (
            (
                h := k.hpa.read_namespaced_horizontal_pod_autoscaler("hot", "default")
            ).status.current_replicas
            == 5
            and h
        ),
        timeout=120,
    )
    assert hot.status.desired_replicas == 5
    assert _cond(hot, "AbleToScale").status == "True"
    assert _cond(hot, "ScalingActive").reason == "ValidMetricFound"
    limited = _cond(hot, "ScalingLimited")
    assert limited.status == "True" and limited.reason == "TooManyReplicas"
    assert hot.status.current_metrics[0].resource.current.average_utilization > 1
    cold = k.hpa.read_namespaced_horizontal_pod_autoscaler("cold", "default")
    assert cold.status.desired_replicas == 2
    assert any(
        r == "SuccessfulRescale" and m.startswith("New size: ")
        for _, r, m in k.events("default", "hot")
    )
    assert "deploy/hot" in k.kubectl("get", "hpa", "hot").stdout.replace("Deployment/", "deploy/")


# --- StatefulSet and DaemonSet updates ------------------------------------------------------
def _images(k: Cluster, selector: str) -> list[str]:
    pods = k.core.list_namespaced_pod("default", label_selector=selector).items
    return sorted(p.spec.containers[0].image for p in pods if p.metadata.deletion_timestamp is None)


def test_statefulset_and_daemonset_roll_out_a_new_template_with_history_and_undo(k: Cluster):
    k.kubectl("apply", "-f", "-", stdin=SETS)
    k.kubectl("rollout", "status", "sts/roll", WAIT)
    k.kubectl("rollout", "status", "ds/node-agent", WAIT)
    for kind, name, sel, container in (
        ("sts", "roll", "app=roll", "web"),
        ("ds", "node-agent", "app=node-agent", "agent"),
    ):
        k.kubectl("set", "image", f"{kind}/{name}", f"{container}=nginx:1.28")
        k.kubectl("rollout", "status", f"{kind}/{name}", WAIT)
        wait_for(lambda sel=sel: set(_images(k, sel)) == {"nginx:1.28"}, 120)
        history = k.kubectl("rollout", "history", f"{kind}/{name}").stdout.split()
        assert history[-4:] == ["1", "<none>", "2", "<none>"], history
        revisions = k.kubectl(
            "get", "controllerrevisions", "-l", sel, "-o", "jsonpath={.items[*].revision}"
        ).stdout.split()
        assert sorted(revisions) == ["1", "2"]
        k.kubectl("rollout", "undo", f"{kind}/{name}")
        k.kubectl("rollout", "status", f"{kind}/{name}", WAIT)
        wait_for(lambda sel=sel: set(_images(k, sel)) == {"nginx:1.27"}, 120)
        history = k.kubectl("rollout", "history", f"{kind}/{name}").stdout.split()
        assert history[-4:] == ["2", "<none>", "3", "<none>"], history  # 1 came back as 3
    sts = k.apps.read_namespaced_stateful_set("roll", "default")
    assert sts.status.current_revision == sts.status.update_revision
    assert sts.status.updated_replicas == 3
    pod = k.core.read_namespaced_pod("roll-2", "default")
    assert pod.metadata.labels["controller-revision-hash"] == sts.status.update_revision


SETS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: roll}
spec:
  serviceName: roll
  replicas: 3
  selector: {matchLabels: {app: roll}}
  template:
    metadata: {labels: {app: roll}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec: {containers: [{name: agent, image: "nginx:1.27"}]}
"""
