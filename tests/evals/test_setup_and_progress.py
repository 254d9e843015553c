"""The set-up steps reach the sandbox through the real API (and its fault injection), and the
progress bar redraws in place on a terminal but prints whole lines otherwise."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from opsconsole.evals.harness import SetupFailed, apply_setup
from opsconsole.evals.report import ProgressBar
from opsconsole.evals.results import ScenarioResult
from opsconsole.evals.scenario import parse_scenario
from opsconsole.runtime import SANDBOX_CONTEXT


@pytest.fixture
def sandbox_cluster(tmp_path: Path) -> Any:
    from opsconsole.k8s.client import Cluster
    from opsconsole.sandbox import SandboxServer

    srv = SandboxServer(scenario="demo", speed=4).start()
    cluster = Cluster(
        kubeconfig=srv.write_kubeconfig(tmp_path / "kc"),
        context=SANDBOX_CONTEXT,
        request_timeout=5,
    )
    yield srv, cluster
    cluster.close()
    srv.stop()


def _steps(setup: list[dict[str, Any]]) -> Any:
    data = {
        "name": "s",
        "question": {"en": "q"},
        "expect": {"answer": {"all": [["x"]]}},
        "sandbox": {"scenario": "demo", "setup": setup},
    }
    return parse_scenario(data, "s.yaml").setup


def test_setup_steps_change_the_cluster_through_the_api(sandbox_cluster: Any) -> None:
    from opsconsole.errors import Forbidden
    from opsconsole.k8s import queries as q

    srv, cluster = sandbox_cluster
    apply_setup(
        srv,
        cluster,
        _steps(
            [
                {"scale": {"namespace": "shop", "name": "cart", "replicas": 0}},
                {
                    "patch": {
                        "kind": "deployment",
                        "namespace": "shop",
                        "name": "catalog",
                        "body": {"metadata": {"labels": {"eval": "patched"}}},
                    }
                },
                {
                    "create": {
                        "namespace": "shop",
                        "manifest": {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "metadata": {"name": "eval-made"},
                            "data": {"k": "v"},
                        },
                    }
                },
                {
                    "delete": {
                        "kind": "configmap",
                        "namespace": "payments",
                        "name": "payment-api-config",
                    }
                },
                {"forbid": {"resource": "pods/log", "namespace": "payments"}},
            ]
        ),
    )
    assert q.get_deployment(cluster, "shop", "cart")["spec"]["replicas"] == 0
    catalog = q.get_deployment(cluster, "shop", "catalog")
    assert catalog["metadata"]["labels"]["eval"] == "patched"
    made = cluster.get_json("core", "read_namespaced_config_map", "eval-made", "shop")
    assert made["data"] == {"k": "v"}
    names = [c["metadata"]["name"] for c in q.list_raw(cluster, "pods", "payments")[0]]
    pod = next(n for n in names if n.startswith("payment-api-"))
    with pytest.raises(Forbidden):
        cluster.call("core", "read_namespaced_pod_log", pod, "payments")


def test_a_failing_setup_step_says_which(sandbox_cluster: Any) -> None:
    srv, cluster = sandbox_cluster
    with pytest.raises(SetupFailed, match=r"set-up step 2 \(scale\): .*not found"):
        apply_setup(
            srv,
            cluster,
            _steps(
                [
                    {"wait": 0.01},
                    {"scale": {"namespace": "shop", "name": "no-such", "replicas": 1}},
                ]
            ),
        )


def _res(name: str, status: str = "pass") -> ScenarioResult:
    return ScenarioResult(scenario=name, lang="en", status=status, duration=1.5)


def test_progress_redraws_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, 2, tty=True)
    bar.start("a", "en")
    bar.step("get_k8s_pods")
    bar.finish(_res("a"))
    bar.start("b", "en")
    bar.finish(_res("b", "fail"))
    text = out.getvalue()
    assert "\n" not in text and text.count("\r") >= 5
    assert "[############------------] 1/2" in text and "get_k8s_pods" in text
    assert text.endswith("\r")  # the bar is wiped before the table


def test_progress_prints_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, 2, tty=False)
    bar.start("a", "en")
    bar.step("get_k8s_pods")
    bar.finish(_res("a"))
    bar.finish(_res("b", "fail"))
    assert out.getvalue().splitlines() == ["[1/2] a (en) PASS 1.5s", "[2/2] b (en) FAIL 1.5s"]
