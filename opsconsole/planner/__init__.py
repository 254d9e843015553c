"""The built-in offline planner: a model client that plans tool calls and answers by rules.

Its one job: stand in for a language model when none is configured (``--offline``, no API key),
through the very same agent loop. Only the places that build a model import it (``ask``, the
console's backend, the eval harness, the team's model factory); the agent kernel does not.
"""

from opsconsole.planner.client import NO_USAGE, OfflinePlanner
from opsconsole.planner.context import Call, Final, Step
from opsconsole.planner.plan import plan

__all__ = ["NO_USAGE", "Call", "Final", "OfflinePlanner", "Step", "plan"]
