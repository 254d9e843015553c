"""Prefix-cache benchmark (issue 19): how much of every request a provider's prompt cache would
serve, against what an append-only transcript allows.

The scripted model server (tests/fakes/openai_server.py with ``prefix_cache="deepseek"``)
computes for every request what DeepSeek's cache would hit: the longest prefix it shares with
any earlier request of the run, in 64-token units (tokens estimated at 4 characters each over a
canonical rendering: tools, then every message; tests/fakes/prefix_cache.py), and reports it in
``usage`` as DeepSeek does. Three runs of the real ``opsconsole ask`` (in process, real
``openai`` client, real Kubernetes tools against a fresh built-in sandbox, sessions recorded):

1. **investigation**: 10 steps (9 scripted tool calls, then the answer);
2. **team** (``--team``): the Scheduler asks Ops, then Security and Coder at once (each agent
   talks to its own scripted server through the per-agent ``base_url`` override), then merges;
3. **compaction**: 30 steps of two log/describe calls each in a 32K window, so that older tool
   outputs must be compacted.

For each run: the hit share (cache hits over all prompt tokens), the share an append-only
transcript allows (for each request, the 64-token units of the messages its conversation
already sent in the previous request: a rewrite of an older message, a changed system prompt
or tools, or a compaction loses the rest), and their ratio (goal: >= 97%). For the
investigation, the billed cost (misses at the full input price, hits at the cache price, at
``model.price``'s defaults) beside the cost if nothing were cached, and the cost the agent loop
itself reported (its UsageReported events in the session file: it must be the billed cost).

Run: ``python bench/bench_prefix_cache.py [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from opsconsole import ask  # noqa: E402
from opsconsole.agent.events import UsageReported  # noqa: E402
from opsconsole.agent.pricing import cost_usd  # noqa: E402
from opsconsole.config import Settings  # noqa: E402
from tests.fakes.openai_server import Reply, ScriptedOpenAIServer, reply, tool_call  # noqa: E402
from tests.fakes.prefix_cache import cacheable, render  # noqa: E402

KEY_ENV = "OPSCONSOLE_BENCH_PREFIX_KEY"
CONTEXT = "opsconsole-sandbox"
GOAL = 0.97
#: scripted completion tokens: a step's thought and tool call, and a final answer
STEP_OUT, ANSWER_OUT = 120, 400


@dataclass
class Stats:
    requests: int = 0
    prompt: int = 0
    hit: int = 0
    possible: int = 0
    completion: int = 0
    rewrites: int = 0

    def add(self, other: Stats) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    @property
    def ratio(self) -> float:
        return self.hit / self.possible if self.possible else 1.0


def analyse(srv: ScriptedOpenAIServer) -> Stats:
    """Hits (the server's accounting) and what an append-only transcript allows, per
    conversation (a conversation = the requests that share the first message)."""
    bodies = [r.body for r in srv.log if r.status == 200]
    records = srv.cache.records
    assert len(bodies) == len(records), "every answered request is accounted"
    previous: dict[str, list[Any]] = {}
    out = Stats()
    for body, rec in zip(bodies, records, strict=True):
        key = json.dumps(body["messages"][0], sort_keys=True)
        before = previous.get(key)
        out.requests += 1
        out.prompt += rec.prompt_tokens
        out.hit += rec.hit_tokens
        if before is not None:
            out.possible += cacheable(render(body, len(before)))
            if body["messages"][: len(before)] != before:
                out.rewrites += 1
        previous[key] = body["messages"]
    return out


def settings_for(
    servers: dict[str, ScriptedOpenAIServer], sessions: Path, **agent: Any
) -> Settings:
    main = servers.get("scheduler") or servers["ops"]
    model = agent.pop("model", {})
    agent_cfg: dict[str, Any] = {"language": "en", **agent}
    if len(servers) > 1:
        for name, srv in servers.items():
            agent_cfg[name] = {"base_url": srv.base_url}
    return Settings.from_data(
        {
            "model": {
                "base_url": main.base_url,
                "name": "deepseek-chat",  # priced by model.price (DeepSeek's list price)
                "api_key_env": KEY_ENV,
                "max_retries": 0,
                "timeout": {"connect": 5, "read": 30, "total": 60},
                **model,
            },
            "agent": agent_cfg,
            "sessions": {"record": True, "dir": str(sessions)},
        }
    )


def run_ask(task: str, settings: Settings, kubeconfig: str, *, team: bool = False) -> str:
    args = argparse.Namespace(
        task=task, demo=False, json=False, namespace=None, context=CONTEXT, offline=False,
        kubeconfig=kubeconfig, resume=None, multi_agent=team,
    )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = ask.run(args, settings)
    if code != 0:
        raise SystemExit(f"ask failed ({code}):\n{err.getvalue()}\n{out.getvalue()[-3000:]}")
    return out.getvalue()


def reported_cost(sessions: Path) -> float:
    """The cost the loop reported: every agent's last UsageReported of the newest session."""
    from opsconsole.sessions.reader import read_session

    newest = max(sessions.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    last: dict[str, float] = {}
    for ev in read_session(newest).events:
        if isinstance(ev, UsageReported):
            last[ev.agent] = ev.cost_usd
    return sum(last.values())


def step(text: str, name: str, args: dict[str, Any], *more: tuple[str, dict[str, Any]]) -> Reply:
    calls = [tool_call(name, args)] + [tool_call(n, a) for n, a in more]
    return reply(text, tool_calls=calls, usage=(0, STEP_OUT))


def answer(text: str) -> Reply:
    return reply(text, usage=(0, ANSWER_OUT))


def pods_of(kubeconfig: str) -> list[tuple[str, str]]:
    from opsconsole.k8s.client import Cluster
    from opsconsole.k8s.tools import build_k8s_tools

    settings = Settings()
    cluster = Cluster.from_settings(settings, kubeconfig=kubeconfig, context=CONTEXT)
    try:
        tool = next(t for t in build_k8s_tools(cluster, settings) if t.name == "get_k8s_pods")
        text = tool.handler({"namespace": "all"}).content  # type: ignore[union-attr]
    finally:
        cluster.close()
    return re.findall(r"^([a-z0-9-]+)/([a-z0-9-]+)  ", text, re.M)


def pod(pods: list[tuple[str, str]], prefix: str) -> dict[str, str]:
    ns, name = next(p for p in pods if p[1].startswith(prefix))
    return {"namespace": ns, "pod_name": name}


def investigation(pods: list[tuple[str, str]]) -> list[Reply]:
    api = pod(pods, "payment-api")
    return [
        step("Finding the unhealthy pods first.", "find_unhealthy_pods", {}),
        step("Looking at payments.", "get_k8s_pods", {"namespace": "payments"}),
        step("Describing a payment-api pod.", "describe_pod", api),
        step("Reading its log.", "get_pod_logs", {**api, "lines": 200}),
        step("Its events.", "get_events", {"namespace": "payments", "warnings_only": True}),
        step("The deployments of payments.", "get_deployments", {"namespace": "payments"}),
        step("Now checkout in shop.", "describe_pod", pod(pods, "checkout")),
        step("The events of shop.", "get_events", {"namespace": "shop"}),
        step("Resource usage everywhere.", "get_resource_usage", {"namespace": "all"}),
        answer(
            "Root cause: payment-api exits at start with KeyError: 'PAYMENT_GATEWAY_URL' (the "
            "ConfigMap key is missing); checkout cannot pull its image tag."
        ),
    ]


def team_scripts(pods: list[tuple[str, str]]) -> dict[str, list[Reply]]:
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: shop\ndata:\n"
    cm += "  mode: production\n"
    return {
        "scheduler": [
            step("Ops first.", "ask_ops", {"task": "What is broken in namespace shop?"}),
            step(
                "Now security and a manifest, at once.",
                "ask_security",
                {"task": "Scan namespace shop for security problems."},
                ("ask_coder", {"task": "Write a ConfigMap web in shop with mode=production."}),
            ),
            answer("Ops: checkout and image-resizer fail; Security: see findings; Coder: done."),
        ],
        "ops": [
            step("Unhealthy pods of shop.", "find_unhealthy_pods", {"namespace": "shop"}),
            step("Describing checkout.", "describe_pod", pod(pods, "checkout")),
            step("The image-resizer log.", "get_pod_logs", pod(pods, "image-resizer")),
            answer("checkout: ImagePullBackOff; image-resizer: OOMKilled."),
        ],
        "security": [
            step("Scanning shop.", "security_scan", {"namespace": "shop"}),
            step("And the static checks.", "find_security_issues", {"namespace": "shop"}),
            step("orders-worker in detail.", "describe_pod", pod(pods, "orders-worker")),
            answer("orders-worker holds DB_PASSWORD as a literal env var."),
        ],
        "coder": [
            step(
                "Generating it.",
                "generate_manifest",
                {"kinds": ["ConfigMap"], "name": "web", "namespace": "shop"},
            ),
            step("Validating.", "validate_manifest", {"yaml": cm}),
            answer(f"```yaml\n{cm}```\nvalidated by a server-side dry run."),
        ],
    }


def compaction(pods: list[tuple[str, str]], steps: int = 40) -> list[Reply]:
    out = []
    for i in range(steps):
        (ns, a), (_, b) = pods[i % len(pods)], pods[(i + 7) % len(pods)]
        out.append(
            step(
                f"Step {i + 1}: the log of {a} and a description of {b}.",
                "get_pod_logs",
                {"namespace": ns, "pod_name": a, "lines": 500},
                ("describe_pod", {"namespace": pods[(i + 7) % len(pods)][0], "pod_name": b}),
            )
        )
    out.append(answer("Every pod's log and description read; see the findings above."))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    opts = ap.parse_args()
    os.environ[KEY_ENV] = "bench-key"
    from opsconsole.sandbox import SandboxServer

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-prefix-") as tmp, contextlib.ExitStack() as st:
        sandbox = SandboxServer(scenario="demo").start()
        st.callback(sandbox.stop)
        kubeconfig = str(sandbox.write_kubeconfig(os.path.join(tmp, "kubeconfig")))
        pods = pods_of(kubeconfig)

        runs: dict[str, Stats] = {}
        # 1. the 10-step investigation
        srv = st.enter_context(ScriptedOpenAIServer(prefix_cache="deepseek"))
        script = investigation(pods)
        srv.push(*script)
        sessions = Path(tmp, "s1")
        settings = settings_for({"ops": srv}, sessions)
        run_ask("why is payment-api in payments crashlooping?", settings, kubeconfig)
        runs["investigation"] = analyse(srv)
        runs["investigation"].completion = sum(r.usage[1] for r in script if r.usage)
        loop_cost = reported_cost(sessions)
        price = settings.model.price_for()
        # 2. the team
        scripts = team_scripts(pods)
        team = {n: st.enter_context(ScriptedOpenAIServer(prefix_cache="deepseek")) for n in scripts}
        for name, items in scripts.items():
            team[name].push(*items)
        settings = settings_for(team, Path(tmp, "s2"))
        run_ask("Check shop: what is broken, any security problems, and a ConfigMap for web.",
                settings, kubeconfig, team=True)  # fmt: skip
        total = Stats()
        for name in scripts:
            total.add(analyse(team[name]))
        runs["team"] = total
        # 3. a run that compacts
        srv3 = st.enter_context(ScriptedOpenAIServer(prefix_cache="deepseek"))
        srv3.push(*compaction(pods))
        settings = settings_for(
            {"ops": srv3},
            Path(tmp, "s3"),
            max_steps=50,
            token_budget=10_000_000,
            model={"context_window": 24_000},
        )
        printed = run_ask("read every log", settings, kubeconfig)
        runs["compaction"] = analyse(srv3)
        compactions = printed.count("compacted")

    inv = runs["investigation"]
    billed = cost_usd(
        price, cache_hit=inv.hit, cache_miss=inv.prompt - inv.hit, completion=inv.completion
    )
    uncached = cost_usd(price, cache_miss=inv.prompt, completion=inv.completion)
    for name, s in runs.items():
        results[name] = {
            **asdict(s),
            "hit_share": round(s.hit / s.prompt, 4),
            "possible_share": round(s.possible / s.prompt, 4),
            "of_possible": round(s.ratio, 4),
            "goal_met": s.ratio >= GOAL,
        }
    results["compaction"]["compaction_notices"] = compactions
    results["investigation"].update(
        billed_usd=round(billed, 6), uncached_usd=round(uncached, 6),
        loop_reported_usd=round(loop_cost, 6),
        price={"input_per_mtok": price.input_per_mtok,
               "cached_input_per_mtok": price.cached_input_per_mtok,
               "output_per_mtok": price.output_per_mtok},
    )  # fmt: skip
    if opts.json:
        print(json.dumps(results))
    else:
        print(f"{'run':<14}{'requests':>9}{'prompt tok':>12}{'hits':>9}{'hit share':>11}"
              f"{'possible':>10}{'of possible':>13}{'rewrites':>10}")  # fmt: skip
        for name, r in results.items():
            print(
                f"{name:<14}{r['requests']:>9}{r['prompt']:>12,}{r['hit']:>9,}"
                f"{r['hit_share'] * 100:>10.1f}%{r['possible_share'] * 100:>9.1f}%"
                f"{r['of_possible'] * 100:>12.1f}%{r['rewrites']:>10}"
                + ("" if r["goal_met"] else "  < goal")
            )
        r = results["investigation"]
        print(
            f"\n10-step investigation at deepseek-chat's price (miss ${price.input_per_mtok}, "
            f"hit ${price.cached_input_per_mtok}, output ${price.output_per_mtok} per Mtok): "
            f"billed ${r['billed_usd']:.6f}, if nothing were cached ${r['uncached_usd']:.6f} "
            f"({r['billed_usd'] / r['uncached_usd'] * 100:.0f}%); the loop reported "
            f"${r['loop_reported_usd']:.6f}"
        )
        print(f"compaction run: {results['compaction']['compaction_notices']} compaction notice(s)")
    return 0 if all(r["goal_met"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
