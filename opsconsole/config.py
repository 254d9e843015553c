"""Validated settings.

The config file is YAML (``yaml.safe_load``) validated by pydantic models that forbid unknown
keys, so a typo gets one clear message naming the file, the key and what was expected.
Environment overrides use the ``OPSCONSOLE_`` prefix with ``__`` between levels, e.g.
``OPSCONSOLE_MODEL__NAME=gpt-4o-mini`` or ``OPSCONSOLE_AGENT__MAX_STEPS=30``.
API keys are read from the environment only (``model.api_key_env`` names the variable) and are
never written to disk. Settings are passed explicitly; there are no module-level globals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsconsole.errors import ConfigError

ENV_PREFIX = "OPSCONSOLE_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TimeoutSettings(_Section):
    connect: float = Field(10.0, gt=0, description="seconds to open a connection")
    read: float = Field(120.0, gt=0, description="seconds to wait for the next bytes")
    total: float = Field(300.0, gt=0, description="deadline for one whole request")


class PriceSettings(_Section):
    input_per_mtok: float = Field(0.27, ge=0, description="USD per million prompt tokens")
    output_per_mtok: float = Field(1.10, ge=0, description="USD per million completion tokens")


class ModelSettings(_Section):
    provider: str = "deepseek"
    base_url: str = "https://api.deepseek.com"
    name: str = "deepseek-chat"
    api_key_env: str = "DEEPSEEK_API_KEY"
    stream: bool = True
    temperature: float | None = Field(None, ge=0, le=2)
    reasoning_passback: bool = False
    context_window: int = Field(64_000, gt=1000)
    max_retries: int = Field(3, ge=0, le=10)
    timeout: TimeoutSettings = TimeoutSettings()
    price: PriceSettings = PriceSettings()

    def api_key(self) -> str | None:
        """The key from the environment; never stored in settings or files."""
        key = os.environ.get(self.api_key_env, "").strip()
        openai = self.provider == "openai" or "api.openai.com" in self.base_url
        if not key and openai and self.api_key_env != "OPENAI_API_KEY":
            key = os.environ.get("OPENAI_API_KEY", "").strip()
        return key or None


class AgentOverride(_Section):
    model: str | None = None
    base_url: str | None = None


class AgentSettings(_Section):
    language: Literal["auto", "zh", "en"] = "auto"
    max_steps: int = Field(20, ge=1, le=200)
    max_repeat_calls: int = Field(3, ge=1)
    max_invalid_tool_calls: int = Field(3, ge=1)
    token_budget: int = Field(400_000, ge=1000)
    spend_cap_usd: float | None = Field(None, gt=0)
    tool_output_tokens: int = Field(2000, ge=200)
    write_mode: bool = False
    tool_timeout: float = Field(60.0, gt=0)
    scheduler: AgentOverride = AgentOverride()
    ops: AgentOverride = AgentOverride()
    coder: AgentOverride = AgentOverride()
    security: AgentOverride = AgentOverride()


class KubernetesSettings(_Section):
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = "default"
    namespace_allowlist: list[str] = []
    request_timeout: float = Field(15.0, gt=0)
    log_tail_lines: int = Field(500, ge=1)
    log_limit_bytes: int = Field(2_000_000, ge=1024)


class UISettings(_Section):
    theme: str = "opsconsole-dark"
    keymap: dict[str, str] = {}
    log_max_lines: int = Field(200_000, ge=1000)
    pod_refresh_seconds: float = Field(5.0, gt=0)


class SessionSettings(_Section):
    record: bool = True
    dir: str | None = None


class Settings(_Section):
    model: ModelSettings = ModelSettings()
    agent: AgentSettings = AgentSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    ui: UISettings = UISettings()
    sessions: SessionSettings = SessionSettings()


def _describe_expected(err: dict[str, Any]) -> str:
    typ = err.get("type", "")
    if typ == "extra_forbidden":
        return "unknown key"
    return str(err.get("msg", "invalid value"))


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = [f"invalid configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") == "extra_forbidden":
            parent = ".".join(str(p) for p in err.get("loc", ())[:-1])
            known = _known_keys(parent)
            hint = f" (known keys{' under ' + parent if parent else ''}: {', '.join(known)})"
            lines.append(f"  {key}: unknown key{hint}")
        else:
            got = err.get("input")
            got_s = f" (got {got!r})" if got is not None and not isinstance(got, dict) else ""
            lines.append(f"  {key}: {_describe_expected(err)}{got_s}")
    return "\n".join(lines)


def _known_keys(dotted: str) -> list[str]:
    model: type[BaseModel] = Settings
    for part in [p for p in dotted.split(".") if p]:
        field = model.model_fields.get(part)
        ann = field.annotation if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return sorted(model.model_fields)


def _set_dotted(data: dict[str, Any], path: list[str], value: Any) -> None:
    cur = data
    for part in path[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[part] = nxt
        cur = nxt
    cur[path[-1]] = value


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    import yaml

    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not path:
            continue
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        _set_dotted(out, path, value)
    return out


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: str | Path | None = None,
    *,
    environ: dict[str, str] | None = None,
    explicit: bool = False,
) -> Settings:
    """Load settings from ``path`` (default: the platform config file) plus env overrides.

    A missing default file is fine (defaults apply); a missing file given with ``--config``
    (``explicit=True``) is an error. Raises :class:`ConfigError` with one line per problem.
    """
    import yaml

    from opsconsole import paths

    environ = dict(os.environ if environ is None else environ)
    file = Path(path) if path else paths.default_config_file()
    data: dict[str, Any] = {}
    if file.exists():
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or "malformed YAML"
            raise ConfigError(f"invalid YAML in {file}{where}: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"invalid configuration in {file}: expected a mapping of sections "
                f"(model, agent, kubernetes, ui, sessions), got {type(loaded).__name__}"
            )
        data = loaded
    elif explicit:
        raise ConfigError(f"config file not found: {file}")

    try:
        base = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(str(file), exc)) from None
    overrides = _env_overrides(environ)
    if not overrides:
        return base
    try:
        return Settings.model_validate(_merge(base.model_dump(), overrides))
    except ValidationError as exc:
        raise ConfigError(_format_errors(f"environment ({ENV_PREFIX}* variables)", exc)) from None
