"""The harness: one scenario, one language, one fresh sandbox, one agent run, one verdict.

For each (scenario, language) :func:`run_scenario`

1. builds a fresh runtime (:func:`~opsconsole.runtime.build_runtime`, as the console and
   ``ask`` do): a sandbox for the scenario's sandbox scenario, its kubeconfig in a temporary
   dir, the cluster, the tools and the model;
2. applies the set-up steps through the Kubernetes API (scale, patch, delete, create) or the
   sandbox's fault injection (forbid);
3. runs the agent: ``agent: ops`` scenarios through the real
   :class:`~opsconsole.agent.loop.AgentLoop` with the Kubernetes tools, like ``opsconsole
   ask``; ``agent: security`` / ``agent: coder`` scenarios through the multi-agent
   :class:`~opsconsole.team.scheduler.Scheduler` (it routes the question itself; offline: the
   offline router and specialists). Write mode is on only for fix tasks
   (``write: true``), where :class:`GrantingApprover` approves every mutating call (and counts
   them);
4. judges the answer, the manifests in it, the tools that ran and the cluster afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.evals.judge import (
    Check,
    judge_answer,
    judge_cluster,
    judge_manifest,
    judge_tools,
    snapshot,
)
from opsconsole.evals.results import ScenarioResult
from opsconsole.evals.scenario import Scenario, SetupStep

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.agent.approval import ApprovalDecision, ApprovalRequest
    from opsconsole.config import Settings
    from opsconsole.k8s.client import Cluster
    from opsconsole.runtime import Runtime

DEFAULT_RUN_TIMEOUT = 300.0

Progress = Callable[[str, dict[str, Any]], None]


class SetupFailed(Exception):
    pass


class GrantingApprover:
    """The harness's policy approver for fix tasks: approves every mutating call (no prompt,
    ``interactive = False``) and keeps the requests for the report."""

    interactive = False

    def __init__(self) -> None:
        self.requests: list[ApprovalRequest] = []

    async def approve(self, request: ApprovalRequest) -> ApprovalDecision:
        from opsconsole.agent.approval import ApprovalDecision

        self.requests.append(request)
        return ApprovalDecision("approve", source="policy", reason="granted by the eval harness")


@dataclass
class ModelSpec:
    """Which model answers: the offline planner (no network) or an OpenAI-compatible API."""

    offline: bool
    label: str
    base_url: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, *, offline: bool) -> ModelSpec:
        if offline:
            return cls(True, "offline planner")
        return cls(False, settings.model.name, settings.model.base_url)


@dataclass
class RunRecord:
    answer: str = ""
    run_status: str = "finished"
    error: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


# --- sandbox and set-up -------------------------------------------------------------------


def _patch(cluster: Cluster, kind: str, ns: str, name: str, body: dict[str, Any]) -> None:
    api, method = {
        "deployment": ("apps", "patch_namespaced_deployment"),
        "statefulset": ("apps", "patch_namespaced_stateful_set"),
        "daemonset": ("apps", "patch_namespaced_daemon_set"),
        "service": ("core", "patch_namespaced_service"),
        "configmap": ("core", "patch_namespaced_config_map"),
        "pod": ("core", "patch_namespaced_pod"),
        "node": ("core", "patch_node"),
    }[kind]
    args: tuple[Any, ...] = (name, body) if kind == "node" else (name, ns, body)
    cluster.get_json(api, method, *args, _content_type="application/merge-patch+json")


def _delete(cluster: Cluster, kind: str, ns: str, name: str) -> None:
    api, method = {
        "deployment": ("apps", "delete_namespaced_deployment"),
        "statefulset": ("apps", "delete_namespaced_stateful_set"),
        "daemonset": ("apps", "delete_namespaced_daemon_set"),
        "service": ("core", "delete_namespaced_service"),
        "configmap": ("core", "delete_namespaced_config_map"),
        "pod": ("core", "delete_namespaced_pod"),
    }[kind]
    cluster.get_json(api, method, name, ns)


def _create(cluster: Cluster, ns: str, manifest: dict[str, Any]) -> None:
    from opsconsole.team.manifests import collection_path

    body = dict(manifest)
    meta = dict(body.get("metadata") or {})
    meta.setdefault("namespace", ns)
    body["metadata"] = meta
    path = collection_path(body, meta["namespace"])
    client = cluster.api_client
    params = client.param_serialize(
        method="POST",
        resource_path=path,
        header_params={"Accept": "application/json", "Content-Type": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    resp = client.call_api(*params, _request_timeout=cluster.timeout)
    resp.read()
    if not 200 <= int(resp.status) < 300:
        raise SetupFailed(f"create {body.get('kind')} {meta.get('name')}: HTTP {resp.status}")


def apply_setup(sandbox: Any, cluster: Cluster, steps: tuple[SetupStep, ...]) -> None:
    """Apply the scenario's set-up through the API (and the sandbox's fault injection). The
    harness's own changes: the cluster is in write mode for them, then back in the mode it had
    (the agent's run gets the scenario's mode)."""
    was = cluster.write_mode
    cluster.write_mode = True
    try:
        _apply_steps(sandbox, cluster, steps)
    finally:
        cluster.write_mode = was


def _apply_steps(sandbox: Any, cluster: Cluster, steps: tuple[SetupStep, ...]) -> None:
    from opsconsole.errors import OpsConsoleError
    from opsconsole.k8s import queries as q

    for i, step in enumerate(steps):
        a = step.args
        try:
            if step.op == "scale":
                q.scale_deployment(cluster, a["namespace"], a["name"], int(a["replicas"]))
            elif step.op == "patch":
                _patch(cluster, a["kind"], a.get("namespace", ""), a["name"], a["body"])
            elif step.op == "delete" and a.get("selector"):
                items, _ = q.list_raw(cluster, "pods", a["namespace"], label_selector=a["selector"])
                if not items:
                    raise SetupFailed(
                        f"set-up step {i + 1} (delete): no pod matches "
                        f"{a['selector']} in {a['namespace']}"
                    )
                names = sorted(p["metadata"]["name"] for p in items)
                _delete(cluster, "pod", a["namespace"], names[0])
            elif step.op == "delete":
                _delete(cluster, a["kind"], a["namespace"], a["name"])
            elif step.op == "create":
                _create(cluster, a.get("namespace") or "default", a["manifest"])
            elif step.op == "forbid":
                sandbox.faults.forbid(
                    a["resource"], namespace=a.get("namespace"), verbs=a.get("verbs")
                )
            elif step.op == "wait":
                time.sleep(float(a["seconds"]))
        except SetupFailed:
            raise
        except OpsConsoleError as exc:
            raise SetupFailed(f"set-up step {i + 1} ({step.op}): {exc.message}") from None
        except Exception as exc:  # noqa: BLE001 - reported as the scenario's error
            raise SetupFailed(f"set-up step {i + 1} ({step.op}): {exc}") from None


# --- the run --------------------------------------------------------------------------------


def run_settings(settings: Settings, scn: Scenario, lang: str) -> Settings:
    """The settings of one run: the scenario's language, mode and namespace; no recording."""
    agent = settings.agent.replace(language=lang, write_mode=scn.write)
    kube = settings.kubernetes.replace(namespace=scn.namespace or "default", namespace_allowlist=[])
    sessions = settings.sessions.replace(record=False)
    return settings.replace(agent=agent, kubernetes=kube, sessions=sessions)


def runner_for(scn: Scenario) -> str:
    """How a scenario runs: "loop" (Ops) or "scheduler" (Security, Coder)."""
    return "loop" if scn.agent == "ops" else "scheduler"


def scenario_runtime(scn: Scenario, settings: Settings, spec: ModelSpec) -> Runtime:
    """A fresh runtime on the scenario's sandbox (blocking: call in a thread)."""
    from opsconsole.runtime import RuntimeOptions, build_runtime

    return build_runtime(
        settings,
        RuntimeOptions(
            demo=True,
            scenario=scn.sandbox,
            speed=scn.speed,
            namespace=scn.namespace or "default",
            offline=spec.offline,
            record=False,
            strict=True,
        ),
    )


async def drive_run(
    loop: Any, question: str, rec: RunRecord, progress: Progress | None, meta: dict[str, Any]
) -> None:
    """Run ``question`` on ``loop`` (one agent or the team), filling ``rec`` from the event
    stream: the answer, how the run ended, steps and every tool call."""
    from opsconsole.agent.events import (
        Answer,
        RunCancelled,
        RunFailed,
        RunFinished,
        ToolCallFinished,
        ToolCallStarted,
    )
    from opsconsole.agent.loop import drive

    # tool call ids are unique per run only (two agents of a team may both say call_1)
    started: dict[tuple[str, str], dict[str, Any]] = {}
    mutating: dict[tuple[str, str], bool] = {}

    steps: dict[str, int] = {}  # run id -> steps (a team run counts every agent's steps)

    def on_event(ev: Any) -> None:
        if ev.run_id:
            last = ev.steps if isinstance(ev, RunFinished) else ev.step
            steps[ev.run_id] = max(steps.get(ev.run_id, 0), last)
            rec.steps = sum(steps.values())
        if isinstance(ev, ToolCallStarted):
            started[(ev.run_id, ev.tool_call_id)] = dict(ev.arguments)
            mutating[(ev.run_id, ev.tool_call_id)] = bool(ev.mutating)
            if progress is not None:
                progress("step", dict(meta, tool=ev.tool, agent=ev.agent))
        elif isinstance(ev, ToolCallFinished):
            rec.tool_calls.append(
                {
                    "agent": ev.agent,
                    "tool": ev.tool,
                    "arguments": started.get((ev.run_id, ev.tool_call_id), {}),
                    "status": ev.status,
                    "mutating": mutating.get((ev.run_id, ev.tool_call_id), False),
                }
            )
        elif isinstance(ev, Answer) and ev.agent == loop.agent:
            rec.answer = ev.text
        elif isinstance(ev, RunFinished) and ev.agent == loop.agent:
            rec.run_status = "finished"
        elif isinstance(ev, RunFailed) and ev.agent == loop.agent:
            rec.run_status = "failed"
            rec.error = ev.error + (f" ({ev.hint})" if ev.hint else "")
        elif isinstance(ev, RunCancelled) and ev.agent == loop.agent:
            rec.run_status = "cancelled"
            rec.error = ev.reason

    await drive(loop, question, on_event)


async def run_scenario(
    scn: Scenario,
    lang: str,
    spec: ModelSpec,
    settings: Settings,
    *,
    timeout: float = DEFAULT_RUN_TIMEOUT,
    progress: Progress | None = None,
) -> ScenarioResult:
    """Run one scenario in one language on a fresh sandbox; never raises for a bad run."""
    question, used = scn.question_for(lang)
    result = ScenarioResult(
        scenario=scn.name,
        lang=used,
        status="error",
        title=scn.title,
        agent=scn.agent,
        question=question,
    )
    t0 = time.monotonic()
    try:
        rt = await asyncio.to_thread(scenario_runtime, scn, run_settings(settings, scn, used), spec)
        with contextlib.closing(rt):
            assert rt.cluster is not None  # strict: no cluster raised
            await asyncio.to_thread(apply_setup, rt.sandbox, rt.cluster, scn.setup)
            before = await asyncio.to_thread(snapshot, rt.cluster, scn.cluster)
            result.checks = await _run_and_judge(
                scn, used, question, rt, before, result, timeout, progress
            )
            result.status = "pass" if all(c.ok for c in result.checks) else "fail"
    except SetupFailed as exc:
        result.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken scenario must not stop the suite
        from opsconsole.errors import OpsConsoleError

        result.error = exc.message if isinstance(exc, OpsConsoleError) else repr(exc)
    result.duration = time.monotonic() - t0
    return result


async def _run_and_judge(
    scn: Scenario,
    lang: str,
    question: str,
    rt: Runtime,
    before: dict[str, Any],
    result: ScenarioResult,
    timeout: float,
    progress: Progress | None,
) -> list[Check]:
    from opsconsole.redact import redact

    approver = GrantingApprover()
    loop = rt.runner(approver, team=runner_for(scn) == "scheduler", language=lang)
    cluster = rt.cluster
    assert cluster is not None
    rec = RunRecord()
    meta = {"scenario": scn.name, "lang": lang}
    t_run = time.monotonic()
    try:
        await asyncio.wait_for(drive_run(loop, question, rec, progress, meta), timeout)
    except TimeoutError:
        rec.run_status = "timeout"
        rec.error = f"no answer within {timeout:.0f}s"
    finally:
        await loop.aclose()  # the Scheduler closes every model of the team
    run_time = time.monotonic() - t_run
    result.answer = redact(rec.answer)
    result.run_status = rec.run_status
    result.error = rec.error
    result.steps = rec.steps
    result.runner = runner_for(scn)
    result.prompt_tokens = int(loop.total_prompt_tokens)
    result.completion_tokens = int(loop.total_completion_tokens)
    cache = loop.total_cache  # every agent's, for a team
    result.cache_hit_tokens = cache.hit
    result.cache_miss_tokens = cache.miss
    result.cache_unknown_tokens = cache.unknown
    result.cost_usd = float(loop.total_cost)
    result.tool_calls = rec.tool_calls
    result.approvals = len(approver.requests)
    checks: list[Check] = [
        Check(
            "run finished",
            rec.run_status == "finished",
            f"{rec.run_status} in {run_time:.1f}s" + (f": {rec.error}" if rec.error else ""),
        )
    ]
    checks += judge_answer(scn.answer, rec.answer)
    checks += judge_tools(scn, rec.tool_calls)
    if scn.manifest is not None:
        checks += await asyncio.to_thread(judge_manifest, scn.manifest, rec.answer, cluster)
    if scn.cluster:
        mutated = any(c.get("mutating") and c.get("status") == "ok" for c in rec.tool_calls)
        settle = None if mutated else 2.0
        checks += await asyncio.to_thread(
            judge_cluster, cluster, scn.cluster, before, settle=settle
        )
    return checks
