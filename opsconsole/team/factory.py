"""Every model client is built here: the single agent's (:func:`single_model`) and the team's,
one per agent, honouring the per-agent overrides in config (``agent.scheduler``, ``agent.ops``,
``agent.security``, ``agent.coder``: ``model`` and ``base_url``; e.g. a cheaper model for the
scheduler). The runtime (:mod:`opsconsole.runtime`) is the only caller outside the team."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsconsole.agent.model import ModelClient

if TYPE_CHECKING:  # pragma: no cover
    from opsconsole.config import Settings

SCHEDULER = "scheduler"
ModelFactory = Callable[[str], ModelClient]


def single_model(settings: Settings, *, offline: bool) -> ModelClient:
    """The model of the single agent: the offline planner, or the configured model."""
    if offline:
        from opsconsole.planner import OfflinePlanner

        return OfflinePlanner(language=settings.agent.language)
    from opsconsole.agent.model import OpenAIModelClient

    return OpenAIModelClient(settings.model)


def offline_model(name: str, language: str = "auto") -> ModelClient:
    """The offline client of one team member: the router for the scheduler, the offline
    specialists for the others (Ops wraps the offline planner). One of the few places that
    import :mod:`opsconsole.planner` (it builds models); the rest of the agent package does
    not."""
    from opsconsole.planner import OfflinePlanner, namespace_in
    from opsconsole.team import offline as off

    if name == "ops":
        return off.OfflineOps(
            language, planner=OfflinePlanner(language=language), namespace_of=namespace_in
        )
    cls = {
        SCHEDULER: off.OfflineRouter,
        "security": off.OfflineSecurity,
        "coder": off.OfflineCoder,
    }[name]
    return cls(language, namespace_of=namespace_in)


def default_model_factory(
    settings: Settings, *, offline: bool = False, api_key: str | None = None
) -> ModelFactory:
    """``name -> ModelClient`` honouring ``settings.agent.<name>.model`` / ``base_url``.

    Offline (or no API key): the offline router for the scheduler and the offline specialists.
    Clients with the same model and base URL are shared.
    """
    cache: dict[tuple[str, str], ModelClient] = {}
    key = api_key or settings.model.api_key()
    use_offline = offline or not key

    def factory(name: str) -> ModelClient:
        lang = settings.agent.language
        if use_offline:
            return offline_model(name, lang)
        from opsconsole.agent.model import OpenAIModelClient

        override = getattr(settings.agent, name, None)
        model_settings = settings.model
        updates: dict[str, Any] = {}
        if override is not None and override.model:
            updates["name"] = override.model
        if override is not None and override.base_url:
            updates["base_url"] = override.base_url
        if updates:
            model_settings = model_settings.replace(**updates)
        ck = (model_settings.name, model_settings.base_url)
        client = cache.get(ck)
        if client is None:
            client = OpenAIModelClient(model_settings, api_key=key)
            cache[ck] = client
        return client

    return factory
