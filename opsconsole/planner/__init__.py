"""The built-in offline planner: a model client that plans tool calls and answers by rules.

Its one job: stand in for a language model when none is configured (``--offline``, no API key),
through the very same agent loop. Only the places that build a model import it (``ask``, the
console's backend, the eval harness, the team's model factory); the agent kernel does not.
"""

from opsconsole.planner.client import NO_USAGE, OfflinePlanner
from opsconsole.planner.context import Call, Final, Step
from opsconsole.planner.intents import extract_namespace
from opsconsole.planner.plan import plan


def namespace_in(text: str) -> str | None:
    """The namespace a request names, as the planner reads it (for the offline team)."""
    return extract_namespace(text)


__all__ = ["NO_USAGE", "Call", "Final", "OfflinePlanner", "Step", "namespace_in", "plan"]
