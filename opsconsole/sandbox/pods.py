"""Pod objects: building them from a workload template and rendering their status from the
simulated runtime state (:class:`PodRT`), so status, events and logs cannot disagree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .logs import ContainerLog, Instance
from .store import iso

Obj = dict[str, Any]
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

#: what a run-to-completion pod (a Job's) does: its containers exit after ``run_seconds`` with
#: ``exit_code`` (0 unless the scenario or the container's ``exit N`` command says otherwise)
COMPLETES = "complete"
#: behaviours a pod can have (the scenario's ``fault.type``)
BEHAVIOURS = ("healthy", "crashloop", "oomkilled", "imagepull", "pending", "unready", COMPLETES)


def hname(seed: str, n: int) -> str:
    """Deterministic Kubernetes-style random suffix (pod names, template hashes)."""
    digest = hashlib.sha1(seed.encode()).digest()
    return "".join(ALPHABET[b % len(ALPHABET)] for b in digest[:n])


def hhex(seed: str, n: int = 64) -> str:
    out = ""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}/{i}".encode()).hexdigest()
        i += 1
    return out[:n]


def huid(seed: str) -> str:
    h = hhex(seed, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def go_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s}s"
    h, m = divmod(m, 60)
    return f"{h}h{m}m{s}s"


@dataclass
class PodRT:
    """What the simulation knows about a pod beyond its object."""

    behaviour: str
    fault_container: str
    params: dict[str, Any]
    node: str = ""
    ip: str = ""
    started: float = 0.0
    creating: bool = False
    sub: str = "running"  # crash cycle: waiting | running | terminated
    base_restarts: int = 0
    backoff: float = 10.0
    pull_error: bool = False
    instances: dict[str, list[Instance]] = field(default_factory=dict)
    logs: dict[str, ContainerLog] = field(default_factory=dict)
    owner: tuple[str, str, str] | None = None  # (rkey, ns, name) of the workload
    timer: Any = None
    probe_count: int = 0
    exit_code: int | None = None  # set when a run-to-completion pod's containers have exited

    def restarts(self, container: str) -> int:
        if container != self.fault_container:
            return 0
        return self.base_restarts + max(len(self.instances.get(container, ())) - 1, 0)

    def current(self, container: str) -> Instance | None:
        inst = self.instances.get(container)
        return inst[-1] if inst else None

    def previous(self, container: str) -> Instance | None:
        inst = self.instances.get(container)
        if not inst:
            return None
        if self.sub == "waiting" and container == self.fault_container:
            return inst[-2] if len(inst) > 1 else None
        return inst[-2] if len(inst) > 1 else None

    @property
    def scheduled(self) -> bool:
        return self.behaviour != "pending"


def image_id(image: str) -> str:
    repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.split("/")[-1] else image
    if "/" not in repo:
        repo = "docker.io/library/" + repo
    elif "." not in repo.split("/")[0]:
        repo = "docker.io/" + repo
    return f"{repo}@sha256:{hhex('img/' + image)}"


def _term(inst: Instance, rt: PodRT, cname: str, oom: bool) -> Obj:
    t: Obj = {
        "exitCode": 137 if oom else 1,
        "reason": "OOMKilled" if oom else "Error",
        "startedAt": iso(inst.start),
        "finishedAt": iso(inst.end or inst.start),
        "containerID": "containerd://" + hhex(f"{cname}/{inst.start}"),
    }
    return t


def container_status(pod: Obj, c: Obj, rt: PodRT) -> Obj:
    name = c["name"]
    md = pod["metadata"]
    cur = rt.current(name)
    st: Obj = {
        "name": name,
        "state": {},
        "lastState": {},
        "ready": False,
        "restartCount": rt.restarts(name),
        "image": c["image"],
        "imageID": image_id(c["image"]),
        "started": False,
    }
    if cur is not None:
        st["containerID"] = "containerd://" + hhex(f"{md['uid']}/{name}/{cur.start}")
    faulty = name == rt.fault_container
    b = rt.behaviour if faulty else "healthy"
    if rt.creating:
        st["state"] = {"waiting": {"reason": "ContainerCreating"}}
        st["imageID"] = ""
        st.pop("containerID", None)
        return st
    if rt.exit_code is not None and cur is not None:
        st["state"] = {
            "terminated": {
                "exitCode": rt.exit_code,
                "reason": "Completed" if rt.exit_code == 0 else "Error",
                "startedAt": iso(cur.start),
                "finishedAt": iso(cur.end or cur.start),
                "containerID": st.get("containerID", ""),
            }
        }
        return st
    if b == "imagepull":
        image = c["image"]
        if rt.pull_error:
            msg = rt.params.get("pull_message") or (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
                f'failed to resolve reference "{image}": {image}: not found'
            )
            st["state"] = {"waiting": {"reason": "ErrImagePull", "message": msg}}
        else:
            st["state"] = {
                "waiting": {
                    "reason": "ImagePullBackOff",
                    "message": f'Back-off pulling image "{image}"',
                }
            }
        st["imageID"] = ""
        st.pop("containerID", None)
        return st
    if b in ("crashloop", "oomkilled"):
        oom = b == "oomkilled"
        insts = rt.instances.get(name, [])
        if rt.sub == "waiting":
            st["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off {go_duration(rt.backoff)} restarting failed "
                    f"container={name} pod={md['name']}_{md['namespace']}({md['uid']})",
                }
            }
            if insts:
                st["lastState"] = {"terminated": _term(insts[-1], rt, name, oom)}
        elif rt.sub == "terminated":
            st["state"] = {"terminated": _term(insts[-1], rt, name, oom)}
            if len(insts) > 1:
                st["lastState"] = {"terminated": _term(insts[-2], rt, name, oom)}
        else:
            st["state"] = {"running": {"startedAt": iso(insts[-1].start)}}
            st["started"] = True
            if len(insts) > 1:
                st["lastState"] = {"terminated": _term(insts[-2], rt, name, oom)}
        return st
    st["state"] = {"running": {"startedAt": iso(cur.start if cur else rt.started)}}
    st["started"] = True
    st["ready"] = b != "unready"
    return st


def qos_class(spec: Obj) -> str:
    reqs = lims = 0
    guaranteed = True
    for c in spec.get("containers", []):
        r = (c.get("resources") or {}).get("requests") or {}
        lim = (c.get("resources") or {}).get("limits") or {}
        reqs += len(r)
        lims += len(lim)
        for k in ("cpu", "memory"):
            if k not in lim or r.get(k, lim.get(k)) != lim.get(k):
                guaranteed = False
    if reqs == 0 and lims == 0:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def render_status(pod: Obj, rt: PodRT) -> Obj:
    spec = pod["spec"]
    created = pod["metadata"]["creationTimestamp"]
    start = iso(rt.started)
    qos = qos_class(spec)
    if not rt.scheduled:
        return {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": created,
                    "reason": "Unschedulable",
                    "message": rt.params.get("message", "0/1 nodes are available."),
                }
            ],
            "qosClass": qos,
        }
    statuses = [container_status(pod, c, rt) for c in spec["containers"]]
    unready = [s["name"] for s in statuses if not s["ready"]]
    waiting_to_start = rt.creating or (rt.behaviour == "imagepull" and len(statuses) == 1)
    phase = "Pending" if waiting_to_start else "Running"
    if rt.exit_code is not None:
        phase = "Succeeded" if rt.exit_code == 0 else "Failed"

    def cond(ctype: str, ok: bool, reason: str | None = None, msg: str | None = None) -> Obj:
        c: Obj = {
            "type": ctype,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": start,
        }
        if not ok and reason:
            c["reason"] = reason
            c["message"] = msg
        return c

    not_ready_msg = f"containers with unready status: [{' '.join(unready)}]"
    why = "ContainersNotReady"
    if rt.exit_code is not None:
        why, not_ready_msg = "PodCompleted", ""
    conditions = [
        cond("PodReadyToStartContainers", not rt.creating and rt.exit_code is None),
        cond("Initialized", True),
        cond("Ready", not unready, why, not_ready_msg),
        cond("ContainersReady", not unready, why, not_ready_msg),
        cond("PodScheduled", True),
    ]
    status: Obj = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": rt.params.get("_host_ip", ""),
        "hostIPs": [{"ip": rt.params.get("_host_ip", "")}],
        "startTime": start,
        "containerStatuses": statuses,
        "qosClass": qos,
    }
    if rt.ip:
        status["podIP"] = rt.ip
        status["podIPs"] = [{"ip": rt.ip}]
    return status


def pod_from_template(
    template: Obj,
    *,
    name: str,
    namespace: str,
    uid: str,
    created: str,
    owner: Obj | None,
    node: str,
    extra_labels: dict[str, str] | None = None,
    generate_name: str | None = None,
) -> Obj:
    tmd = template.get("metadata") or {}
    tspec = template.get("spec") or {}
    labels = dict(tmd.get("labels") or {})
    if extra_labels:
        labels.update(extra_labels)
    md: Obj = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "creationTimestamp": created,
        "labels": labels,
    }
    if generate_name:
        md["generateName"] = generate_name
    if tmd.get("annotations"):
        md["annotations"] = dict(tmd["annotations"])
    if owner is not None:
        md["ownerReferences"] = [owner]
    containers = []
    sa_vol = "kube-api-access-" + hname(uid, 5)
    for c in tspec.get("containers", []):
        c2 = dict(c)
        image = c2.get("image", "")
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else "latest"
        c2.setdefault("imagePullPolicy", "Always" if tag == "latest" else "IfNotPresent")
        c2.setdefault("resources", {})
        c2.setdefault("terminationMessagePath", "/dev/termination-log")
        c2.setdefault("terminationMessagePolicy", "File")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if isinstance(c2.get(probe), dict):
                pr = dict(c2[probe])
                for k, v in (
                    ("timeoutSeconds", 1),
                    ("periodSeconds", 10),
                    ("successThreshold", 1),
                    ("failureThreshold", 3),
                ):
                    pr.setdefault(k, v)
                if isinstance(pr.get("httpGet"), dict):
                    pr["httpGet"] = dict(pr["httpGet"])
                    pr["httpGet"].setdefault("scheme", "HTTP")
                c2[probe] = pr
        mounts = list(c2.get("volumeMounts") or [])
        mounts.append(
            {
                "name": sa_vol,
                "readOnly": True,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            }
        )
        c2["volumeMounts"] = mounts
        containers.append(c2)
    spec: Obj = dict(tspec)
    spec["containers"] = containers
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("serviceAccountName", "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = list(spec.get("tolerations") or [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        tolerations.append(
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        )
    spec["tolerations"] = tolerations
    volumes = list(spec.get("volumes") or [])
    volumes.append(
        {
            "name": sa_vol,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
            },
        }
    )
    spec["volumes"] = volumes
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec, "status": {}}
