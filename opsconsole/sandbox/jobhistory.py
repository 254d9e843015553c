"""A scenario's Job has already run when the cluster starts.

Its pods ran one after another from its creation (each started 2 s after it was created, ran the
fault's ``run_seconds``, exited with its ``exit_code``); a failed pod was replaced after the Job
controller's back-off (10 s, 20 s, 40 s ... capped at 6 min) until ``completions`` succeeded or
more than ``backoffLimit`` failed. The pods (terminated, with their logs), the Job's status and
conditions and the events of both are what that history left, so they agree with each other. What
the history has not reached by the start is left to the live controller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .jobs import BACKOFF_BASE, BACKOFF_CAP, exit_code_of
from .logs import Instance, LogProfile
from .meta import node_ip, owner_ref
from .pods import COMPLETES, PodRT, hname, huid, pod_from_template, render_status
from .scheduler import START_DELAY
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster


def play(
    c: Cluster, job: Obj, created: float, now: float, place: Callable[[Obj], Obj | None]
) -> None:
    """Create what ``job`` (stored, created at ``created``) left behind by ``now``; ``place``
    picks a node for a pod spec."""
    md, spec = job["metadata"], job["spec"]
    ns, name = md["namespace"], md["name"]
    wl = ("batch/jobs", ns, name)
    _, _, params = c.behaviours.get(wl, (COMPLETES, "", {}))
    template = spec["template"]
    code = int(params.get("exit_code", exit_code_of(template)))
    run = float(params.get("run_seconds", 2))
    limit, completions = int(spec.get("backoffLimit", 6)), int(spec.get("completions") or 1)
    profiles = c.profiles.get(wl, {})
    failed = succeeded = 0
    t = created + 1
    last_end = t
    while failed <= limit and succeeded < completions:
        end = t + START_DELAY + run
        if end >= now:
            break  # the live controller goes on from here
        node = place(template.get("spec") or {})
        _pod(c, job, wl, failed + succeeded, t, end, code, node, profiles, params)
        last_end = end
        if code:
            failed += 1
            t = end + min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_CAP)
        else:
            succeeded += 1
            t = end
    status: Obj = {"startTime": iso(created + 1), "terminating": 0, "ready": 0}
    status["uncountedTerminatedPods"] = {}
    if failed:
        status["failed"] = failed
    if succeeded:
        status["succeeded"] = succeeded
    at = iso(last_end + 1)

    def condition(ctype: str, reason: str, message: str) -> Obj:
        return {
            "type": ctype,
            "status": "True",
            "lastProbeTime": at,
            "lastTransitionTime": at,
            "reason": reason,
            "message": message,
        }

    if failed > limit:
        msg = "Job has reached the specified backoff limit"
        status["conditions"] = [
            condition("FailureTarget", "BackoffLimitExceeded", msg),
            condition("Failed", "BackoffLimitExceeded", msg),
        ]
        c.event(
            job,
            "Warning",
            "BackoffLimitExceeded",
            msg,
            component="job-controller",
            first=last_end + 1,
            last=last_end + 1,
        )
    elif succeeded >= completions:
        msg = "Reached expected number of succeeded pods"
        status["conditions"] = [
            condition("SuccessCriteriaMet", "CompletionsReached", msg),
            condition("Complete", "CompletionsReached", msg),
        ]
        status["completionTime"] = at
        c.event(
            job,
            "Normal",
            "Completed",
            "Job completed",
            component="job-controller",
            first=last_end + 1,
            last=last_end + 1,
        )
    job["status"] = status


def _pod(
    c: Cluster,
    job: Obj,
    wl: tuple[str, str, str],
    index: int,
    t: float,
    end: float,
    code: int,
    node: Obj | None,
    profiles: dict[str, LogProfile],
    params: dict[str, Any],
) -> None:
    md = job["metadata"]
    ns, jname = md["namespace"], md["name"]
    template = job["spec"]["template"]
    seed = f"{md['uid']}/{index}"
    name = f"{jname}-{hname(seed, 5)}"
    node_name = node["metadata"]["name"] if node else ""
    pod = pod_from_template(
        template,
        name=name,
        namespace=ns,
        uid=huid(f"pod/{ns}/{name}"),
        created=iso(t),
        owner=owner_ref(job),
        node=node_name,
        generate_name=f"{jname}-",
    )
    containers = template["spec"]["containers"]
    rt = PodRT(
        behaviour=COMPLETES,
        fault_container=containers[0]["name"],
        params=dict(params),
        node=node_name,
        started=t + 1,
        owner=wl,
    )
    if node is not None:
        rt.ip = c.allocate_ip(node)
        rt.params["_host_ip"] = node_ip(node)
    for cdef in containers:
        rt.instances[cdef["name"]] = [Instance(start=t + START_DELAY, end=end)]
    rt.exit_code, rt.sub = code, "exited"
    c.make_logs(pod, rt, profiles)
    pod["status"] = render_status(pod, rt)
    c.rts[(ns, name)] = rt
    c.store.put_initial("pods", pod)
    c.controllers.owned.setdefault(md["uid"], set()).add((ns, name))
    c.event(
        job,
        "Normal",
        "SuccessfulCreate",
        f"Created pod: {name}",
        component="job-controller",
        first=t,
        last=t,
    )
    if node is not None:
        c.event(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {ns}/{name} to {node_name}",
            component="default-scheduler",
            first=t,
            last=t,
        )
    for cdef in containers:
        cname = cdef["name"]
        for reason, msg in (
            ("Pulled", f'Container image "{cdef["image"]}" already present on machine'),
            ("Created", f"Created container: {cname}"),
            ("Started", f"Started container {cname}"),
        ):
            c.event(
                pod,
                "Normal",
                reason,
                msg,
                host=node_name,
                field_path=f"spec.containers{{{cname}}}",
                first=t + 1,
                last=t + 1,
            )
