"""Validated settings.

The config file is YAML (``yaml.safe_load``) validated by msgspec Structs that forbid unknown
keys, so a typo gets a clear message naming the file, every unknown key (with the closest known
one) and what was expected. msgspec rather than pydantic: the settings load before the console's
first frame, and pydantic's import and model building cost ~90 ms there (msgspec: ~2 ms).
Environment overrides use the ``OPSCONSOLE_`` prefix with ``__`` between levels, e.g.
``OPSCONSOLE_MODEL__NAME=gpt-4o-mini`` or ``OPSCONSOLE_AGENT__MAX_STEPS=30``.
API keys are read from the environment only (``model.api_key_env`` names the variable) and are
never written to disk. Settings are passed explicitly; there are no module-level globals.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import msgspec

from opsconsole.errors import ConfigError

ENV_PREFIX = "OPSCONSOLE_"

Positive = msgspec.Meta(gt=0)
NonNegative = msgspec.Meta(ge=0)


class _Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """An immutable settings section. ``replace`` validates like loading does."""

    @classmethod
    def from_data(cls: type[_S], data: Any) -> _S:
        """Validate plain data (a mapping from YAML or JSON) into this section."""
        return msgspec.convert(data, cls, strict=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: dicts, lists, strings and numbers (what YAML or JSON would hold)."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out

    def replace(self: _S, **changes: Any) -> _S:
        """A copy with ``changes`` applied and the result validated (a bad value raises
        :class:`msgspec.ValidationError` as loading would)."""
        data = self.to_dict()
        for key, value in changes.items():
            data[key] = msgspec.to_builtins(value)
        return type(self).from_data(data)

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        """Field name -> declared type, in declaration order."""
        return {f.name: f.type for f in msgspec.structs.fields(cls)}


_S = TypeVar("_S", bound=_Section)


def _section(cls: type[_S]) -> _S:
    """The default of a nested section: its own defaults."""
    return msgspec.field(default_factory=cls)


class TimeoutSettings(_Section, frozen=True):
    connect: Annotated[float, Positive] = 10.0  # seconds to open a connection
    read: Annotated[float, Positive] = 120.0  # seconds to wait for the next bytes
    total: Annotated[float, Positive] = 300.0  # deadline for one whole request


class PriceSettings(_Section, frozen=True):
    """One model's prices in USD per million tokens (default: DeepSeek's deepseek-chat list
    price). A prompt token the provider served from its prompt cache costs
    ``cached_input_per_mtok``; any other prompt token (a cache miss, or a provider that does not
    say) costs ``input_per_mtok``."""

    input_per_mtok: Annotated[float, NonNegative] = 0.27  # prompt tokens, cache miss
    cached_input_per_mtok: Annotated[float, NonNegative] = 0.07  # prompt tokens, cache hit
    output_per_mtok: Annotated[float, NonNegative] = 1.10  # completion tokens


class ModelSettings(_Section, frozen=True):
    provider: str = "deepseek"
    base_url: str = "https://api.deepseek.com"
    name: str = "deepseek-chat"
    api_key_env: str = "DEEPSEEK_API_KEY"
    stream: bool = True
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    reasoning_passback: bool = False
    context_window: Annotated[int, msgspec.Meta(gt=1000)] = 64_000
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 3
    timeout: TimeoutSettings = _section(TimeoutSettings)
    price: PriceSettings = _section(PriceSettings)
    #: model name -> its prices, for the models used besides ``name`` (a per-agent override,
    #: ``/model``); a model not in it (``name`` included, unless listed) is priced by ``price``
    prices: dict[str, PriceSettings] = {}

    def price_for(self, model: str | None = None) -> PriceSettings:
        """The prices of ``model`` (default: ``name``) from the price table."""
        name = model or self.name
        return self.prices.get(name, self.price)

    def api_key(self) -> str | None:
        """The key from the environment; never stored in settings or files."""
        key = os.environ.get(self.api_key_env, "").strip()
        openai = self.provider == "openai" or "api.openai.com" in self.base_url
        if not key and openai and self.api_key_env != "OPENAI_API_KEY":
            key = os.environ.get("OPENAI_API_KEY", "").strip()
        return key or None


class AgentOverride(_Section, frozen=True):
    model: str | None = None
    base_url: str | None = None


class AgentSettings(_Section, frozen=True):
    language: Literal["auto", "zh", "en"] = "auto"
    max_steps: Annotated[int, msgspec.Meta(ge=1, le=200)] = 20
    max_repeat_calls: Annotated[int, msgspec.Meta(ge=1)] = 3
    max_invalid_tool_calls: Annotated[int, msgspec.Meta(ge=1)] = 3
    token_budget: Annotated[int, msgspec.Meta(ge=1000)] = 400_000
    spend_cap_usd: Annotated[float, Positive] | None = None
    tool_output_tokens: Annotated[int, msgspec.Meta(ge=200)] = 2000
    max_tool_calls_per_turn: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 16
    write_mode: bool = False
    tool_timeout: Annotated[float, Positive] = 60.0
    scheduler: AgentOverride = _section(AgentOverride)
    ops: AgentOverride = _section(AgentOverride)
    coder: AgentOverride = _section(AgentOverride)
    security: AgentOverride = _section(AgentOverride)


class KubernetesSettings(_Section, frozen=True):
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = "default"
    namespace_allowlist: list[str] = []
    #: the issue's name for the allowlist; joined with ``namespace_allowlist`` (S11)
    allowed_namespaces: list[str] = []
    #: kinds no tool reads (``secrets``, ``cm``, ``certificates.cert-manager.io`` ...: any name
    #: kubectl accepts); Secret values and private keys in data maps are withheld regardless
    #: (S9): the default denies nothing more
    denied_kinds: list[str] = []
    #: kinds no tool changes (apply, patch, delete ...; any name kubectl accepts): Secret
    #: values are written by people, never by a model that cannot see them
    denied_change_kinds: list[str] = msgspec.field(default_factory=lambda: ["secrets"])
    request_timeout: Annotated[float, Positive] = 15.0
    log_tail_lines: Annotated[int, msgspec.Meta(ge=1)] = 500
    log_limit_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 2_000_000


class UISettings(_Section, frozen=True):
    theme: str = "opsconsole-dark"
    keymap: dict[str, str] = {}
    log_max_lines: Annotated[int, msgspec.Meta(ge=1000)] = 200_000
    pod_refresh_seconds: Annotated[float, Positive] = 5.0
    #: the approval window's keys do nothing until it has been on screen this long with no
    #: key pressed (what is typed meanwhile goes to the chat input)
    approval_arm_ms: Annotated[int, msgspec.Meta(ge=100, le=60_000)] = 1000


class SessionSettings(_Section, frozen=True):
    record: bool = True
    dir: str | None = None


#: an MCP server's name in ``mcp.servers``: its tools are offered as ``NAME__TOOL``
MCP_SERVER_NAME = re.compile(r"[a-zA-Z0-9-]{1,32}")


class McpServerSettings(_Section, frozen=True):
    """One MCP server whose tools the agent may use: a ``command`` (with ``args``) run over
    stdio, or a streamable-HTTP ``url``. ``env`` is set for the command, ``pass_env`` names
    variables of ours passed to it, ``headers_env`` maps an HTTP header to the environment
    variable holding its value (values never come from the file). ``trusted``: the server's
    ``readOnlyHint`` is believed (otherwise every tool of it counts as mutating)."""

    command: str | None = None
    args: list[str] = []
    url: str | None = None
    env: dict[str, str] = {}
    pass_env: list[str] = []
    headers_env: dict[str, str] = {}
    trusted: bool = False
    #: seconds for the server to start and list its tools, and for one call
    start_timeout: Annotated[float, Positive] = 30.0
    call_timeout: Annotated[float, Positive] = 60.0

    def __post_init__(self) -> None:
        for name in [*self.pass_env, *self.headers_env.values()]:
            if not _is_env_name(name):  # never echoed: it may be the secret itself
                raise ValueError(
                    "pass_env and headers_env name environment variables (like GITHUB_TOKEN); "
                    "a value given is not a variable name and may be a secret, so it is not "
                    "shown: put the secret in the environment, never in the file"
                )


class McpSettings(_Section, frozen=True):
    #: name -> server (names: letters, digits and '-')
    servers: dict[str, McpServerSettings] = {}

    def __post_init__(self) -> None:
        for name, server in self.servers.items():
            if not MCP_SERVER_NAME.fullmatch(name):
                raise ValueError(f"server name {name!r}: use letters, digits and '-' (at most 32)")
            if (server.command is None) == (server.url is None):
                raise ValueError(
                    f"server {name!r}: give either command (with args) or url, not both or neither"
                )


class Settings(_Section, frozen=True):
    model: ModelSettings = _section(ModelSettings)
    agent: AgentSettings = _section(AgentSettings)
    kubernetes: KubernetesSettings = _section(KubernetesSettings)
    ui: UISettings = _section(UISettings)
    sessions: SessionSettings = _section(SessionSettings)
    mcp: McpSettings = _section(McpSettings)


def _section_type(tp: Any) -> type[_Section] | None:
    return tp if isinstance(tp, type) and issubclass(tp, _Section) else None


def _table_type(tp: Any) -> type[_Section] | None:
    """The section of a ``dict[str, Section]`` table (``model.prices``), else None."""
    if get_origin(tp) is dict:
        args = get_args(tp)
        return _section_type(args[1]) if len(args) == 2 else None
    return None


def _unknown_keys(model: type[_Section], data: Any, prefix: str = "") -> list[str]:
    """Every key in ``data`` that ``model`` does not know, as one message line each, with the
    closest known key when there is one (msgspec stops at the first problem; a user fixing a
    config file wants them all at once)."""
    if not isinstance(data, dict):
        return []
    lines: list[str] = []
    types = model.field_types()
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in types:
            import difflib

            close = difflib.get_close_matches(str(key), list(types), n=1)
            hint = f"; did you mean {prefix}{close[0]}?" if close else ""
            parent = prefix.rstrip(".")
            where = f" under {parent}" if parent else ""
            lines.append(
                f"  {dotted}: unknown key{hint} (known keys{where}: {', '.join(sorted(types))})"
            )
            continue
        sub = _section_type(types[key])
        if sub is not None:
            lines += _unknown_keys(sub, value, dotted + ".")
        table = _table_type(types[key])
        if table is not None and isinstance(value, dict):
            for name, entry in value.items():
                lines += _unknown_keys(table, entry, f"{dotted}.{name}.")
    return lines


_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing (null)",
}
_PROBLEM = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def _value_at(data: Any, dotted: str) -> Any:
    cur = data
    for part in [p for p in dotted.split(".") if p]:
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _describe(exc: msgspec.ValidationError, data: Any, prefix: str = "") -> str:
    """One line for msgspec's message, in the config file's words: the dotted key, what was
    expected and what was given."""
    match = _PROBLEM.match(str(exc))
    what = match.group("what") if match else str(exc)
    path = (match.group("path") or "") if match else ""
    key = ".".join(p for p in [prefix, path.lstrip(".")] if p)
    what = re.sub(r", got `\w+`$", "", what)
    what = re.sub(r"`(\w+)`", lambda m: _TYPE_WORDS.get(m.group(1), m.group(1)), what)
    what = what.replace("Expected", "expected")
    if what.startswith("Invalid enum value"):
        options = _enum_options(key)
        what = f"must be one of {', '.join(options)}" if options else "not an allowed value"
    got = _value_at(data, path)
    got_s = " (got nothing)" if got is None else f" (got {got!r})"
    if isinstance(got, dict | list):
        got_s = ""
    return f"  {key or '(top level)'}: {what}{got_s}"


def _enum_options(dotted: str) -> list[str]:
    model: type[_Section] = Settings
    parts = [p for p in dotted.split(".") if p]
    for part in parts[:-1]:
        sub = _section_type(model.field_types().get(part))
        if sub is None:
            return []
        model = sub
    tp = model.field_types().get(parts[-1]) if parts else None
    return [str(a) for a in get_args(tp)] if get_origin(tp) is Literal else []


def _known_only(model: type[_Section], data: Any) -> Any:
    """``data`` without the keys ``model`` does not know (already reported), so the type check
    that follows can report the remaining problems in the same message."""
    if not isinstance(data, dict):
        return data
    types = model.field_types()
    out = {}
    for key, value in data.items():
        if key in types:
            sub = _section_type(types[key])
            table = _table_type(types[key])
            if sub is not None:
                value = _known_only(sub, value)
            elif table is not None and isinstance(value, dict):
                value = {name: _known_only(table, entry) for name, entry in value.items()}
            out[key] = value
    return out


def _field_problems(tp: Any, data: Any, prefix: str) -> list[str]:
    """Every wrong value in one section (msgspec stops at the first): each field converted on
    its own, nested sections recursively."""
    section = _section_type(tp)
    if section is None or not isinstance(data, dict):
        return []
    lines: list[str] = []
    types = section.field_types()
    for key, value in data.items():
        sub = types.get(key)
        if sub is None:
            continue
        try:
            msgspec.convert({key: value}, section, strict=False)
        except msgspec.ValidationError as exc:
            nested = _field_problems(sub, value, f"{prefix}.{key}")
            table = _table_type(sub)
            if table is not None and isinstance(value, dict):
                nested += _table_problems(table, value, f"{prefix}.{key}")
            lines += nested or [_describe(exc, {key: value}, prefix)]
    return lines


def _table_problems(section: type[_Section], table: dict[Any, Any], prefix: str) -> list[str]:
    """Every wrong entry of a ``dict[str, Section]`` table, each under its own name."""
    lines: list[str] = []
    for name, entry in table.items():
        where = f"{prefix}.{name}"
        if not isinstance(entry, dict):
            lines.append(f"  {where}: expected a mapping (got {entry!r})")
            continue
        try:
            msgspec.convert(entry, section, strict=False)
        except msgspec.ValidationError as exc:
            lines += _field_problems(section, entry, where) or [_describe(exc, entry, where)]
    return lines


def _validate(data: dict[str, Any], source: str) -> Settings:
    problems = _unknown_keys(Settings, data)
    known = _known_only(Settings, data)
    # one section at a time, so a problem in each section is reported together
    sections: dict[str, Any] = {}
    for name, tp in Settings.field_types().items():
        if name in known:
            try:
                sections[name] = msgspec.convert(known[name], tp, strict=False)
            except msgspec.ValidationError as exc:
                problems += _field_problems(tp, known[name], name) or [
                    _describe(exc, known[name], name)
                ]
    model = sections.get("model")
    if model is not None and not _is_env_name(model.api_key_env):
        # never echo it: a value here that is not a variable name is most likely the key itself
        problems.append(
            "model.api_key_env: must name an environment variable (like DEEPSEEK_API_KEY), "
            "and the value given is not a variable name; it looks like it may be an API key "
            "itself, so it is not shown. Put the key in the environment, never in the file"
        )
    if problems:
        raise ConfigError("\n".join([f"invalid configuration in {source}:", *problems]))
    return Settings(**sections)  # each section is validated already


#: an environment variable's name (POSIX: letters, digits, underscore; not starting with a digit)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _is_env_name(value: str) -> bool:
    """A variable name, and not something shaped like a pasted key (``sk_live_…``, or a long
    mix of lower-case letters and digits: names are upper-case words by convention)."""
    if not _ENV_NAME.fullmatch(value):
        return False
    if re.match(r"(?i)(sk|pk|rk)_(live|test)_|gh[pousr]_|github_pat_|xox[abpr]-?", value):
        return False
    long_random = len(value) >= 24 and re.search(r"[a-z]", value) and re.search(r"\d", value)
    return not long_random


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
    out: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not path:
            continue
        if _is_text_setting(path):
            value: Any = raw  # a context "1234" or a namespace "on" stays the string it is
        else:
            import yaml  # only for typed overrides: PyYAML costs ~10 ms to import

            try:
                value = yaml.safe_load(raw) if raw.strip() else raw
            except yaml.YAMLError:
                value = raw
        _set_dotted(out, path, value)
    return out


def _is_text_setting(path: list[str]) -> bool:
    """Whether the setting at ``path`` holds text (``str``, ``str | None``, a ``Literal`` of
    strings, the values of a ``dict[str, str]``): its override is taken literally, not as YAML."""
    import typing

    hint: Any = Settings
    for part in path:
        origin = typing.get_origin(hint)
        if origin is dict:
            hint = typing.get_args(hint)[1]
            continue
        if not (isinstance(hint, type) and issubclass(hint, msgspec.Struct)):
            return False
        hints = typing.get_type_hints(hint)
        if part not in hints:
            return False
        hint = hints[part]
    import types

    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        choices = [a for a in typing.get_args(hint) if a is not type(None)]
        return bool(choices) and all(c is str for c in choices)
    return hint is str


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
    from opsconsole import paths

    environ = dict(os.environ if environ is None else environ)
    file = Path(path) if path else paths.default_config_file()
    data: dict[str, Any] = {}
    if file.exists():
        import yaml  # only for a file: PyYAML costs ~10 ms to import, before the first frame

        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"cannot read config file {file}: it is not UTF-8 text (byte {exc.start} is "
                f"0x{exc.object[exc.start]:02x}); save it as UTF-8 YAML"
            ) from None
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

    base = _validate(data, str(file))
    overrides = _env_overrides(environ)
    if not overrides:
        return base
    return _validate(_merge(base.to_dict(), overrides), f"environment ({ENV_PREFIX}* variables)")
