"""The log pane's snapshot in the session file is redacted as one text (issue 11 item 6, S8).

The console follows ``app/legacy-auth-0`` of the sandbox's ``leaky`` scenario, whose start-up
log dumps a fake RSA private key (8 base64 body lines), a DSN password, a ``secret: |`` block
and ``--admin-password`` with its value on the next line. A question makes the bridge snapshot
the pane into the session; none of those values may be anywhere in the file, and the snapshot
keeps one line per pane line so replay can refill the pane.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsconsole.sessions.reader import read_session
from opsconsole.ui.factory import build_app
from tests.fakes.openai_server import reply
from tests.sessions.test_redacted_copies import CONTEXT, KEY_BODY, POD, _leaks

from .conftest import chat_text, make_settings, wait_for

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z ")


async def test_log_pane_snapshot_has_no_key_line_and_no_password(
    tmp_path: Path, model_server, fresh_sandbox: Callable[..., Any]
) -> None:
    server = fresh_sandbox("leaky", speed=0.05)
    kubeconfig = str(server.write_kubeconfig(tmp_path / "kubeconfig"))
    model_server.push(reply("It printed its signing key; rotate it."))
    settings = make_settings(tmp_path, base_url=model_server.base_url)
    app = build_app(settings, kubeconfig=kubeconfig, context=CONTEXT, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.backend is not None and app.feeds.pods_ready, 30, "pods")
        app.feeds.show_pod("app", POD)
        logs = app.main.logs

        def pane() -> list[str]:
            return list(logs.store.slice(0, len(logs.store)))

        await wait_for(pilot, lambda: any("listening on :8443" in x for x in pane()), 30, "log")
        shown = pane()
        assert [b for b in KEY_BODY if any(b in x for x in shown)] == KEY_BODY  # pane shows it
        app.main.chat.input.value = "what does this log tell me?"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "rotate it" in chat_text(app), 30, "answer")
        after = pane()
    (path,) = (tmp_path / "sessions").glob("*.jsonl")
    raw = path.read_text(encoding="utf-8")
    assert _leaks(raw) == []
    (snap,) = [s for s in read_session(path).snapshots if s.get("kind") == "logs"]
    assert snap["pod"] == POD
    lines = snap["lines"]
    text = [STAMP.sub("", line, count=1) for line in lines]  # the pane shows kubelet's stamps
    begin = text.index("-----BEGIN RSA PRIVATE KEY-----")
    assert text[begin + 1 : begin + 10] == ["[REDACTED]"] * 8 + ["-----END RSA PRIVATE KEY-----"]
    assert text[begin + 12 : begin + 15] == ["session:", "  secret: |", "    [REDACTED]"]
    assert text[begin + 16 : begin + 18] == ["  --admin-password", "  [REDACTED]"]
    # one line per pane line (the pane had fewer than 200: the snapshot starts at its top),
    # each the same unless it held a secret
    assert len(shown) <= len(lines) <= len(after)
    changed = [i for i, line in enumerate(lines) if line != after[i]]
    assert changed == [i for i in range(len(lines)) if _leaks(after[i])]
