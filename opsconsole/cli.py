"""Command line: ``opsconsole`` (the console), ``ask``, ``sandbox``, ``sessions``, ``replay``,
``export``, ``eval``, ``config``, ``mcp``.

Only argparse and the config loader are imported here; each sub-command imports what it needs
when it runs, and the UI is imported only when the console starts, so ``opsconsole ask`` never
loads Textual and the console's first frame is not slowed by the agent's clients.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opsconsole import __version__
from opsconsole.errors import OpsConsoleError, UsageError

# Options shared by the console and the agent commands. Their defaults are applied after
# parsing (argparse.SUPPRESS below) so that `opsconsole --demo ask ...` and
# `opsconsole ask --demo ...` mean the same thing.
_COMMON_DEFAULTS: dict[str, Any] = {
    "config": None,
    "demo": False,
    "offline": False,
    "model": None,
    "base_url": None,
    "context": None,
    "namespace": None,
    "kubeconfig": None,
    "write": False,
    "theme": None,
    "multi_agent": False,
    "resume": None,
    "pods": None,
}


def _pod_count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of pods: {text!r}") from None
    if not 1 <= n <= 100_000:
        raise argparse.ArgumentTypeError(f"--pods must be between 1 and 100000, not {n}")
    return n


def _common_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    g = p.add_argument_group("common options")
    g.add_argument(
        "--config", metavar="FILE", help="config file (default: the platform config dir)"
    )
    g.add_argument(
        "--demo",
        action="store_true",
        help="use the built-in sandbox cluster (and the offline planner if no API key is set)",
    )
    g.add_argument(
        "--offline", action="store_true", help="use the built-in offline planner, no model API"
    )
    g.add_argument("--model", metavar="NAME", help="model name, e.g. deepseek-chat, gpt-4o")
    g.add_argument("--base-url", metavar="URL", help="OpenAI-compatible API base URL")
    g.add_argument("--context", metavar="NAME", help="kubeconfig context to pin")
    g.add_argument("-n", "--namespace", metavar="NS", help="default namespace")
    g.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG)")
    g.add_argument(
        "--pods",
        metavar="N",
        type=_pod_count,
        help="with --demo: a generated cluster of N pods instead of the demo scenario",
    )
    g.add_argument(
        "--write",
        action="store_true",
        help="write mode: offer mutating tools (each call still needs your approval)",
    )
    g.add_argument("--theme", metavar="NAME", help="console theme")
    g.add_argument(
        "--resume",
        metavar="SESSION",
        help="continue a recorded session (file, id or `last`) with a live model; "
        "tool calls it left unanswered are marked interrupted, never re-run",
    )
    g.add_argument(
        "--team",
        dest="multi_agent",
        action="store_true",
        help="multi-agent: a Scheduler routes to Ops, Security and Coder agents "
        "(a question starting with @ops/@security/@coder does this by itself in ask)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common_parser()
    parser = argparse.ArgumentParser(
        prog="opsconsole",
        description="A terminal operations console where an LLM agent works a Kubernetes "
        "cluster beside you. Without a sub-command it starts the console.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"opsconsole {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", parents=[common], help="run one task headless and print every step")
    ask.add_argument("task", help='what the agent should do, e.g. "why is checkout failing?"')
    ask.add_argument("--json", action="store_true", help="print one JSON event per line")
    ask.add_argument(
        "--dry-run",
        action="store_true",
        help="with --write: print the diff and blast radius of each change the agent would "
        "make (server-side dry runs); nothing is executed",
    )

    sb = sub.add_parser("sandbox", help="run the built-in sandbox cluster in the foreground")
    sb.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sb.add_argument("--port", type=int, default=0, help="port (default: a free port)")
    sb.add_argument("--scenario", default="demo", help="scenario name (default: demo)")
    sb.add_argument("--pods", type=int, default=None, help="generate a cluster with N pods")
    sb.add_argument(
        "--kubeconfig", default=None, help="where to write the kubeconfig for the sandbox"
    )
    sb.add_argument("--speed", type=float, default=1.0, help="simulation speed factor")

    sessions = sub.add_parser("sessions", parents=[common], help="list recorded sessions")
    sessions.add_argument("--limit", type=int, default=50, help="show at most N sessions")

    replay = sub.add_parser("replay", parents=[common], help="replay a recorded session")
    replay.add_argument("file", help="session file (.jsonl) or id")
    replay.add_argument("--print", action="store_true", help="print the steps, no console")
    replay.add_argument("--speed", default="1", help="1, 4 or instant")
    replay.add_argument(
        "--partial", action="store_true", help="open a damaged file up to the damage, read-only"
    )

    export = sub.add_parser("export", parents=[common], help="export a session as Markdown")
    export.add_argument("file", help="session file (.jsonl) or id")
    export.add_argument("-o", "--output", required=True, help="output Markdown file")
    export.add_argument(
        "--partial", action="store_true", help="export a damaged file up to the damage"
    )

    ev = sub.add_parser(
        "eval", parents=[common], help="score a model (or the offline planner) on sandbox scenarios"
    )
    ev.add_argument(
        "--scenario",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="scenario name, tag or shell pattern (repeatable; default: all)",
    )
    ev.add_argument(
        "--lang",
        choices=["en", "zh", "both"],
        default=None,
        help="language of the questions (default: en)",
    )
    ev.add_argument("--json", action="store_true", help="one JSON line per scenario, then totals")
    ev.add_argument(
        "--from-session",
        metavar="FILE",
        help="turn a recorded session into a scenario file (printed) and exit",
    )
    ev.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="results file (default: <state dir>/evals/<UTC time>.json)",
    )
    ev.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ev.add_argument("--show", metavar="FILE", help="print the table of an earlier results file")
    ev.add_argument("--jobs", type=int, default=1, help="scenarios run at once (default 1)")
    ev.add_argument("--timeout", type=float, default=None, help="seconds per run (default 300)")
    ev.add_argument(
        "--tasks", metavar="DIR", help="run the task folders of DIR (task.yaml + scripts)"
    )
    ev.add_argument(
        "--task", nargs="+", action="extend", metavar="NAME", help="with --tasks: only these"
    )
    ev.add_argument("--runs", type=int, default=1, help="with --tasks: runs per task (pass@N)")
    ev.add_argument(
        "--cluster",
        metavar="CONTEXT",
        help="with --tasks: run on this kubeconfig context instead of a fresh sandbox",
    )
    ev.add_argument("--yes", action="store_true", help="with --cluster: do not ask first")

    mcp = sub.add_parser(
        "mcp",
        parents=[common],
        help="serve opsconsole's Kubernetes tools to other agents (MCP over stdio or HTTP)",
    )
    mcp.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="streamable HTTP on a loopback address (a bearer token is printed); default: stdio",
    )

    cfg = sub.add_parser("config", parents=[common], help="show or check the configuration")
    cfg.add_argument("action", nargs="?", choices=["check", "path", "show"], default="check")
    return parser


def _apply_common_defaults(args: argparse.Namespace) -> argparse.Namespace:
    for name, default in _COMMON_DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    return args


def load_settings_for(args: argparse.Namespace):  # -> Settings (lazy import keeps cli light)
    """Load the config file, then apply command-line overrides."""
    from opsconsole.config import load_settings

    settings = load_settings(args.config, explicit=args.config is not None)
    model: dict[str, Any] = {}
    if args.model:
        model["name"] = args.model
    if args.base_url:
        model["base_url"] = args.base_url
    kube: dict[str, Any] = {}
    if args.context:
        kube["context"] = args.context
    if args.namespace:
        kube["namespace"] = args.namespace
    if args.kubeconfig:
        kube["kubeconfig"] = args.kubeconfig
    updates: dict[str, Any] = {}
    if model:
        updates["model"] = settings.model.replace(**model)
    if kube:
        updates["kubernetes"] = settings.kubernetes.replace(**kube)
    if args.write:
        updates["agent"] = settings.agent.replace(write_mode=True)
    if args.theme:
        updates["ui"] = settings.ui.replace(theme=args.theme)
    return settings.replace(**updates) if updates else settings


def _run_console(args: argparse.Namespace) -> int:
    # No cyclic GC on the way to the first frame: the imports (Textual, our UI) allocate
    # hundreds of thousands of long-lived objects, and the collector's passes over them cost
    # ~40 ms of a ~300 ms start. The app re-enables it (and freezes what startup built, so
    # later passes skip it) once the first frame is painted: OpsConsoleApp.on_ready.
    _require_terminal("opsconsole")
    gc.disable()
    try:
        settings = load_settings_for(args)
        from opsconsole.ui.run import run

        return run(args, settings)
    finally:
        gc.enable()


def _require_terminal(what: str) -> None:
    """The console draws on a terminal and reads keys from one; on a pipe it would spin."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        side = "output" if not sys.stdout.isatty() else "input"
        raise UsageError(
            f"{what}: the console needs a terminal, and its {side} is not one (a pipe or a file)",
            hint='for a headless run use: opsconsole ask "QUESTION" (--json for one event per '
            "line); opsconsole replay FILE --print prints a recorded session",
        )


def _run_ask(args: argparse.Namespace) -> int:
    if not args.task.strip():
        raise UsageError("ask: the task is empty; say what the agent should do")
    settings = load_settings_for(args)
    from opsconsole.ask import run

    return run(args, settings)


def _run_sandbox(args: argparse.Namespace) -> int:
    from opsconsole.sandbox.main import run

    return run(args)


def _run_sessions(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    from opsconsole.sessions.cli import run_sessions

    return run_sessions(args, settings)


def _run_replay(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    if args.print:
        from opsconsole.sessions.cli import run_replay_print

        return run_replay_print(args, settings)
    _require_terminal("opsconsole replay")
    from opsconsole.ui.run import run_replay

    return run_replay(args, settings)


def _run_export(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    from opsconsole.sessions.cli import run_export

    return run_export(args, settings)


def _run_eval(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    from opsconsole.evals.cli import run_eval

    return run_eval(args, settings)


def _run_mcp(args: argparse.Namespace) -> int:
    settings = load_settings_for(args)
    from opsconsole.mcplink.serve import run

    return run(args, settings)


def _run_config(args: argparse.Namespace) -> int:
    from opsconsole import paths

    path = Path(args.config) if args.config else paths.default_config_file()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "show":
        import yaml

        settings = load_settings_for(args)
        print(yaml.safe_dump(settings.to_dict(), sort_keys=False, allow_unicode=True), end="")
        return 0
    where = str(path) if path.exists() else f"{path} (not present: defaults apply)"
    from opsconsole.errors import ConfigError

    try:
        settings = load_settings_for(args)
    except ConfigError as exc:
        # every problem in one run: the file's, then the theme's and keymap's as written
        ui = _raw_ui_section(path)
        more = _ui_problems(str(ui.get("theme") or ""), ui.get("keymap"))
        if not more:
            raise
        lines = "\n".join(f"  {p}" for p in more)
        raise ConfigError(f"{exc.message}\n{lines}", hint=exc.hint) from None
    problems = _ui_problems(settings.ui.theme, dict(settings.ui.keymap))
    if problems:
        lines = "\n".join(f"  {p}" for p in problems)
        print(f"opsconsole: error: invalid configuration in {where}:\n{lines}", file=sys.stderr)
        return 2
    print(f"configuration OK: {where}")
    key = settings.model.api_key()
    print(
        f"model: {settings.model.name} at {settings.model.base_url} "
        f"(API key {'set' if key else 'not set'} in ${settings.model.api_key_env})"
    )
    return 0


def _ui_problems(theme: str, keymap: Any) -> list[str]:
    """A ``ui.theme`` or ``ui.keymap`` entry that names nothing (closest match suggested)."""
    from opsconsole.ui.commands import keymap_problems
    from opsconsole.ui.theming import theme_problem

    problems = [p for p in [theme_problem(theme) if theme else None] if p]
    if isinstance(keymap, dict):
        problems += keymap_problems({str(k): str(v) for k, v in keymap.items()})
    return problems


def _raw_ui_section(path: Path) -> dict[str, Any]:
    """The ``ui`` mapping as written in the file (best effort, for ``config check``)."""
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return {}
    ui = data.get("ui") if isinstance(data, dict) else None
    return ui if isinstance(ui, dict) else {}


_COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: _run_console,
    "ask": _run_ask,
    "sandbox": _run_sandbox,
    "sessions": _run_sessions,
    "replay": _run_replay,
    "export": _run_export,
    "eval": _run_eval,
    "config": _run_config,
    "mcp": _run_mcp,
}


def _crash_report(exc: BaseException) -> Path | None:
    """Write the traceback of an unexpected error to the state dir (redacted); return it."""
    try:
        import traceback

        from opsconsole import paths

        directory = paths.ensure_private_dir(paths.state_dir() / "crash")
        text = "".join(traceback.format_exception(exc))
        try:
            from opsconsole.redact import redact

            text = redact(text)
        except Exception:  # noqa: BLE001 - the report must be written even if redaction fails
            pass
        path = directory / f"crash-{os.getpid()}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = _apply_common_defaults(parser.parse_args(argv))
    handler = _COMMANDS[args.command]
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:
        return _closed_pipe()
    except OpsConsoleError as exc:
        _error(f"opsconsole: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _error("opsconsole: interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - last resort: no traceback on the user's screen
        report = _crash_report(exc)
        where = f" (details: {report})" if report else ""
        _error(f"opsconsole: unexpected error: {type(exc).__name__}: {exc}{where}")
        return 1


#: exit code after the reader of our output went away (`| head`): 128 + SIGPIPE, as the
#: shell reports a command killed by SIGPIPE; nothing is printed and no crash file written
EXIT_CLOSED_PIPE = 141


def _closed_pipe() -> int:
    try:  # the interpreter flushes stdout at exit: point it at /dev/null so that stays quiet
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return EXIT_CLOSED_PIPE


def _error(text: str) -> None:
    """An error line on stderr: values of key and token variables masked (a 401 body may echo
    the key), control characters made visible."""
    from opsconsole.termsafe import printable

    for name, value in os.environ.items():
        if len(value) >= 8 and name.upper().endswith(("_API_KEY", "_TOKEN", "_SECRET", "_KEY")):
            text = text.replace(value, "[REDACTED]")
    try:
        print(printable(text), file=sys.stderr)
    except (BrokenPipeError, OSError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
