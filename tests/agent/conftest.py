"""Fixtures for the agent-core tests (the scripted OpenAI-compatible server on loopback)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.agent.agentkit import Calls, close_model_clients  # noqa: E402,F401
from tests.fakes.openai_server import ScriptedOpenAIServer  # noqa: E402


@pytest.fixture
def srv() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def calls() -> Calls:
    return Calls()
