"""The --from-session heuristic on its own: root-cause part, names, failure terms."""

from __future__ import annotations

from opsconsole.evals.from_session import (
    cause_terms,
    names_in_both,
    object_names,
    root_cause_text,
    workload_name,
)

OFFLINE_ANSWER = """〔离线规划器 / offline planner〕

**Root cause**: `payments/payment-api-fzqmjlq8xg-6zpf2` — the container keeps crashing
(CrashLoopBackOff). Key error: `KeyError: 'PAYMENT_GATEWAY_URL'`

**Evidence** (quoted from tool output):
> FINDING reason=OOMKilled pod=shop/image-resizer-bqljgnb7gv-zz6wc
"""


def test_root_cause_part_stops_at_the_evidence() -> None:
    part = root_cause_text(OFFLINE_ANSWER)
    assert "KeyError" in part and "image-resizer" not in part


def test_names_are_workloads_and_terms_come_from_the_root_cause() -> None:
    part = root_cause_text(OFFLINE_ANSWER)
    assert object_names(part)[0] == "payment-api"
    terms = cause_terms(part)
    assert terms[:2] == ["CrashLoopBackOff", "KeyError"]
    assert "PAYMENT_GATEWAY_URL" in terms and "OOMKilled" not in terms


def test_pod_suffixes_are_stripped_but_plain_names_kept() -> None:
    assert workload_name("web-tbkgvjkm5g-7mtw8") == "web"
    assert workload_name("node-exporter-x7k2p") == "node-exporter"
    assert workload_name("worker-3") == "worker-3"
    assert workload_name("payment-api") == "payment-api"


def test_prose_answers_fall_back_to_names_from_the_question() -> None:
    task = "Why does checkout in shop fail to start?"
    answer = "The checkout image tag v2.3.1-rc does not exist, so the pull fails."
    assert object_names(answer) == []  # nothing in backticks, bold or ns/name
    assert names_in_both(task, answer) == []  # "checkout" has no dash/digit: not object-like
    task = "why is payment-api down"
    answer = "payment-api exits at start because PAYMENT_GATEWAY_URL is unset (CrashLoopBackOff)"
    assert names_in_both(task, answer) == ["payment-api"]
