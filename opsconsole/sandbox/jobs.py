"""Job and CronJob controllers.

A Job runs pods from its template until ``completions`` of them have succeeded (at most
``parallelism`` at a time) or more than ``backoffLimit`` have failed, then carries the
``Complete`` or ``Failed`` condition (what ``kubectl wait --for=condition=complete`` reads). Its
pods run to completion (:data:`.pods.COMPLETES`): they succeed unless the scenario gives the Job a
fault ``exit_code`` or the container's command ends in ``exit N``. A CronJob creates a Job at each
time of its schedule (parsed by ``croniter``) and records ``lastScheduleTime``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from croniter import croniter

from .meta import owner_ref
from .pods import hname, huid
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

BACKOFF_BASE, BACKOFF_CAP = 10.0, 360.0  # simulated seconds before a failed pod is replaced
_EXIT = re.compile(r"\bexit\s+(\d+)\s*$")


def exit_code_of(template: Obj) -> int:
    """0, or N when the first container's command/args end in ``exit N``."""
    containers = (template.get("spec") or {}).get("containers") or [{}]
    words = [*(containers[0].get("command") or []), *(containers[0].get("args") or [])]
    m = _EXIT.search(" ".join(str(w) for w in words))
    return int(m.group(1)) if m else 0


def job_defaults(job: Obj) -> None:
    """What the API server fills in on a created Job (selector and labels from its uid)."""
    md, spec = job["metadata"], job.setdefault("spec", {})
    uid, name = md["uid"], md["name"]
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("manualSelector", False)
    spec.setdefault("podReplacementPolicy", "TerminatedOrFailed")
    labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    template = spec.setdefault("template", {})
    tmd = template.setdefault("metadata", {})
    tmd["labels"] = {**(tmd.get("labels") or {}), **labels}
    template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
    md["labels"] = {**labels, **(md.get("labels") or {})}
    job.setdefault("status", {})


def cronjob_defaults(cj: Obj) -> None:
    """What the API server fills in on a created CronJob."""
    spec = cj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    cj.setdefault("status", {})


def _phase(pod: Obj) -> str:
    return (pod.get("status") or {}).get("phase", "")


class Jobs:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        #: job uid -> (failures seen, when a replacement may be created): failed pods are
        #: replaced after 10 s, 20 s, 40 s ... (capped at 6 min), as the real controller does
        self.backoff: dict[str, tuple[int, float]] = {}

    def held_back(self, job: Obj, failed: int) -> bool:
        """True while a failed pod's replacement waits out its back-off (a timer wakes it)."""
        c = self.c
        md = job["metadata"]
        if not failed:
            return False
        seen, until = self.backoff.get(md["uid"], (0, 0.0))
        now = c.now()
        if failed > seen:
            delay = min(BACKOFF_BASE * 2 ** (failed - 1), BACKOFF_CAP)
            until = now + delay / c.speed
            self.backoff[md["uid"]] = (failed, until)
            ns, name = md["namespace"], md["name"]

            def wake(uid: str = md["uid"], failed: int = failed) -> None:
                if self.backoff.get(uid, (0, 0.0))[0] == failed:
                    self.backoff[uid] = (failed, 0.0)  # waited out, whatever the clocks say
                c.controllers.dirty.add(("Job", ns, name))

            c.after(delay, wake)
        return now < until

    def reconcile(self, ns: str, name: str) -> None:
        c = self.c
        job = c.store.get("batch/jobs", ns, name)
        if job is None:
            return
        spec, status = job["spec"], dict(job.get("status") or {})
        if any(
            cond["type"] in ("Complete", "Failed") and cond["status"] == "True"
            for cond in status.get("conditions") or ()
        ):
            self.backoff.pop(job["metadata"]["uid"], None)
            return  # finished: nothing more happens to it
        pods = c.controllers.pods_of(job)
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        failed = sum(1 for p in pods if _phase(p) == "Failed")
        active = [
            p
            for p in pods
            if _phase(p) not in ("Succeeded", "Failed") and "deletionTimestamp" not in p["metadata"]
        ]
        completions = int(spec.get("completions") or 1)
        parallelism = int(spec.get("parallelism", 1))
        now = iso(c.now())
        status.setdefault("startTime", now)
        conditions = list(status.get("conditions") or [])

        def condition(ctype: str, reason: str, message: str) -> None:
            conditions.append(
                {
                    "type": ctype,
                    "status": "True",
                    "lastProbeTime": now,
                    "lastTransitionTime": now,
                    "reason": reason,
                    "message": message,
                }
            )

        if failed > int(spec.get("backoffLimit", 6)):
            for p in active:
                c.delete_pod(ns, p["metadata"]["name"], None)
            active = []
            condition(
                "FailureTarget",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
            condition(
                "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"
            )
            c.event(
                job,
                "Warning",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                component="job-controller",
            )
        elif succeeded >= completions:
            condition(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
            condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods")
            status["completionTime"] = now
            c.event(job, "Normal", "Completed", "Job completed", component="job-controller")
        elif not spec.get("suspend") and not self.held_back(job, failed):
            want = min(parallelism, completions - succeeded) - len(active)
            for _ in range(max(0, want)):
                seed = f"{job['metadata']['uid']}/{next(c.names)}"
                pname = f"{name}-{hname(seed, 5)}"
                pod = c.controllers.spawn_pod(job, "batch/jobs", pname, generate_name=f"{name}-")
                active.append(pod)
                c.event(
                    job,
                    "Normal",
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    component="job-controller",
                )
        status["active"] = len(active)
        status["ready"] = sum(
            1
            for p in active
            for cond in (p.get("status") or {}).get("conditions") or ()
            if cond["type"] == "Ready" and cond["status"] == "True"
        )
        status["terminating"] = 0
        status["uncountedTerminatedPods"] = {}
        if succeeded:
            status["succeeded"] = succeeded
        if failed:
            status["failed"] = failed
        if not status["active"]:
            status.pop("active")
        if conditions:
            status["conditions"] = conditions
        if status != job.get("status"):
            c.store.set_field("batch/jobs", ns, name, "status", status)
            if job["metadata"].get("ownerReferences"):
                for ref in job["metadata"]["ownerReferences"]:
                    if ref["kind"] == "CronJob":
                        c.controllers.dirty.add(("CronJob", ns, ref["name"]))


class CronJobs:
    """Creates each CronJob's Jobs at the times of its schedule (one timer per CronJob)."""

    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster
        self.armed: dict[tuple[str, str], str] = {}  # (ns, name) -> uid of the armed CronJob

    def next_time(self, cj: Obj, after: float) -> float:
        base = datetime.fromtimestamp(after, UTC)
        return float(croniter(cj["spec"]["schedule"], base).get_next(float))

    def reconcile(self, ns: str, name: str) -> None:
        c = self.c
        cj = c.store.get("batch/cronjobs", ns, name)
        if cj is None:
            self.armed.pop((ns, name), None)
            return
        uid = cj["metadata"]["uid"]
        if self.armed.get((ns, name)) != uid:
            self.armed[(ns, name)] = uid
            self.arm(ns, name, uid, c.now())
        self.status(cj)

    def arm(self, ns: str, name: str, uid: str, after: float) -> None:
        cj = self.c.store.get("batch/cronjobs", ns, name)
        if cj is None:
            return
        # the schedule's times in simulated seconds: speed makes a minute pass faster
        at = self.next_time(cj, after)
        self.c.after(at - after, lambda: self.fire(ns, name, uid, at))

    def fire(self, ns: str, name: str, uid: str, at: float) -> None:
        c = self.c
        cj = c.store.get("batch/cronjobs", ns, name)
        if cj is None or cj["metadata"]["uid"] != uid:
            return
        if not cj["spec"].get("suspend"):
            self.create_job(cj, at)
        self.arm(ns, name, uid, at)

    def create_job(self, cj: Obj, at: float) -> Obj:
        c = self.c
        md = cj["metadata"]
        # at speed > 1 the schedule's simulated times run ahead of the wall clock; a real
        # cluster never stamps a time in the future (kubectl would print `<invalid>`)
        stamped = iso(min(at, c.now()))
        ns = md["namespace"]
        jname = f"{md['name']}-{int(at // 60)}"
        tmpl = json.loads(json.dumps(cj["spec"].get("jobTemplate") or {}))
        job: Obj = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                **(tmpl.get("metadata") or {}),
                "name": jname,
                "namespace": ns,
                "uid": huid(f"job/{ns}/{jname}/{md['uid']}"),
                "creationTimestamp": iso(c.now()),
                "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": stamped},
                "ownerReferences": [owner_ref(cj)],
                "generation": 1,
            },
            "spec": tmpl.get("spec") or {},
        }
        if c.store.get("batch/jobs", ns, jname) is None:
            job_defaults(job)
            c.store.create("batch/jobs", job)
            c.event(
                cj,
                "Normal",
                "SuccessfulCreate",
                f"Created job {jname}",
                component="cronjob-controller",
            )
            c.controllers.dirty.add(("Job", ns, jname))

        def stamp(o: Obj) -> None:
            o.setdefault("status", {})["lastScheduleTime"] = stamped

        c.store.update("batch/cronjobs", ns, md["name"], stamp)
        c.controllers.flush()
        return job

    def prune(self, cj: Obj) -> None:
        """Finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit go."""
        c = self.c
        md, spec = cj["metadata"], cj.get("spec") or {}
        ns = md["namespace"]
        done: dict[str, list[Obj]] = {"Complete": [], "Failed": []}
        for job in c.store.list("batch/jobs", ns):
            if not any(r["uid"] == md["uid"] for r in job["metadata"].get("ownerReferences") or ()):
                continue
            for x in (job.get("status") or {}).get("conditions") or ():
                if x["type"] in done and x["status"] == "True":
                    done[x["type"]].append(job)
        limits = {
            "Complete": int(spec.get("successfulJobsHistoryLimit", 3)),
            "Failed": int(spec.get("failedJobsHistoryLimit", 1)),
        }
        for kind, jobs in done.items():
            jobs.sort(key=lambda j: j["metadata"]["creationTimestamp"])
            for job in jobs[: max(0, len(jobs) - limits[kind])]:
                c.store.delete("batch/jobs", ns, job["metadata"]["name"])
                c.controllers.cascade_delete(job)
                c.event(
                    cj,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted job {job['metadata']['name']}",
                    component="cronjob-controller",
                )

    def status(self, cj: Obj) -> None:
        c = self.c
        md = cj["metadata"]
        ns = md["namespace"]
        active, last_ok = [], None
        for job in c.store.list("batch/jobs", ns):
            if not any(r["uid"] == md["uid"] for r in job["metadata"].get("ownerReferences") or ()):
                continue
            conds = {
                x["type"]: x["status"] for x in (job.get("status") or {}).get("conditions") or ()
            }
            if conds.get("Complete") == "True":
                t = job["status"].get("completionTime")
                last_ok = max(last_ok or t, t)
            elif conds.get("Failed") != "True":
                jm = job["metadata"]
                active.append(
                    {
                        "kind": "Job",
                        "namespace": ns,
                        "name": jm["name"],
                        "uid": jm["uid"],
                        "apiVersion": "batch/v1",
                        "resourceVersion": jm.get("resourceVersion", ""),
                    }
                )
        self.prune(cj)
        status = dict(cj.get("status") or {})
        if active:
            status["active"] = active
        else:
            status.pop("active", None)
        if last_ok:
            status["lastSuccessfulTime"] = last_ok
        if status != (cj.get("status") or {}):
            c.store.set_field("batch/cronjobs", ns, md["name"], "status", status)
