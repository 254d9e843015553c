"""A real Prometheus and Alertmanager beside the sandbox, when their binaries are installed
(Debian: ``apt-get install prometheus prometheus-alertmanager``; ``promtool`` comes with
Prometheus).

``MonitoringStack(sandbox).start()`` returns at once; a thread then writes the scenario's last
hours as OpenMetrics (:mod:`.history`), backfills them with ``promtool tsdb
create-blocks-from openmetrics`` into a fresh data directory, starts Alertmanager and Prometheus
on free loopback ports (their own processes, whatever the system's services do) with a
generated ``prometheus.yml`` scraping the sandbox's exporters every ``scrape_interval`` and the
alerting rules of ``monitoring_rules.yaml``, and sets :attr:`ready` once both answer.
:meth:`stop` ends both processes and removes the directory. The sandbox then lists the Services
``monitoring/prometheus-k8s`` and ``monitoring/alertmanager-main`` and proxies
``/api/v1/namespaces/monitoring/services/<name>:<port>/proxy/...`` to them.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from .history import Target, openmetrics_history

if TYPE_CHECKING:
    from .server import SandboxServer

PROMETHEUS = "prometheus"
PROMTOOL = "promtool"
#: Debian names Alertmanager's binary ``prometheus-alertmanager``; upstream, ``alertmanager``
ALERTMANAGER = ("prometheus-alertmanager", "alertmanager")
INSTALL_HINT = "apt-get install prometheus prometheus-alertmanager"
RULES = Path(__file__).with_name("monitoring_rules.yaml")
#: the Services the sandbox lists for them (kube-prometheus's names and ports)
PROMETHEUS_SERVICE = ("monitoring", "prometheus-k8s", 9090)
ALERTMANAGER_SERVICE = ("monitoring", "alertmanager-main", 9093)


def missing_binaries() -> list[str]:
    """The binaries the stack needs that are not on PATH."""
    missing = [b for b in (PROMETHEUS, PROMTOOL) if shutil.which(b) is None]
    if not any(shutil.which(b) for b in ALERTMANAGER):
        missing.append(ALERTMANAGER[0])
    return missing


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class MonitoringStack:
    """Prometheus and Alertmanager processes for one sandbox (see the module docstring)."""

    def __init__(
        self,
        sandbox: SandboxServer,
        *,
        history_hours: float = 3.0,
        scrape_interval: str = "2s",
        evaluation_interval: str = "2s",
        host: str = "127.0.0.1",
        webhook_url: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        #: where Alertmanager sends its notifications (a webhook receiver, e.g.
        #: ``opsconsole serve-alerts``); None: nowhere
        self.webhook_url = webhook_url
        self.history_hours = history_hours
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.host = host
        self.prometheus_port = _free_port(host)
        self.alertmanager_port = _free_port(host)
        self.ready = threading.Event()
        #: why the stack did not come up (set before :attr:`ready`)
        self.error: str | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._dir: Path | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def prometheus_url(self) -> str:
        return f"http://{self.host}:{self.prometheus_port}"

    @property
    def alertmanager_url(self) -> str:
        return f"http://{self.host}:{self.alertmanager_port}"

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> MonitoringStack:
        missing = missing_binaries()
        if missing:
            raise FileNotFoundError(f"{', '.join(missing)} not installed ({INSTALL_HINT})")
        self._dir = Path(tempfile.mkdtemp(prefix="opsconsole-monitoring-"))
        self._thread = threading.Thread(target=self._bring_up, name="sandbox-monitoring")
        self._thread.daemon = True
        self._thread.start()
        return self

    def wait_ready(self, timeout: float) -> bool:
        """True once both answer; False on timeout or when they could not start."""
        return self.ready.wait(timeout) and self.error is None

    def stop(self) -> None:
        """End both processes (their pids only) and remove the data directory; idempotent."""
        self._stopping.set()
        self._end_processes()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self._end_processes()  # one the thread started meanwhile
        self.sandbox.api.proxies.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _end_processes(self) -> None:
        with self._lock:
            procs, self._procs = self._procs, []
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    # -- bringing it up -------------------------------------------------------------------

    def _bring_up(self) -> None:
        try:
            assert self._dir is not None
            self._write_config(self._dir)
            self._backfill(self._dir)
            if self._stopping.is_set():
                return
            am = next(b for b in ALERTMANAGER if shutil.which(b))
            self._spawn(
                [
                    am,
                    f"--config.file={self._dir / 'alertmanager.yml'}",
                    f"--storage.path={self._dir / 'alertmanager'}",
                    f"--web.listen-address={self.host}:{self.alertmanager_port}",
                    "--cluster.listen-address=",
                ],
                "alertmanager.log",
            )
            self._spawn(
                [
                    PROMETHEUS,
                    f"--config.file={self._dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self._dir / 'data'}",
                    f"--web.listen-address={self.host}:{self.prometheus_port}",
                    "--storage.tsdb.retention.time=1d",
                ],
                "prometheus.log",
            )
            for url in (self.alertmanager_url + "/-/ready", self.prometheus_url + "/-/ready"):
                self._wait_answer(url)
            self.sandbox.api.proxies.update(
                {
                    PROMETHEUS_SERVICE[:2]: self.prometheus_url,
                    ALERTMANAGER_SERVICE[:2]: self.alertmanager_url,
                }
            )
            self.sandbox.add_services(
                [
                    (*PROMETHEUS_SERVICE, {"app.kubernetes.io/name": "prometheus"}),
                    (*ALERTMANAGER_SERVICE, {"app.kubernetes.io/name": "alertmanager"}),
                ]
            )
        except Exception as exc:  # noqa: BLE001 - reported through .error, never a traceback
            self.error = str(exc) or type(exc).__name__
        finally:
            self.ready.set()

    def targets(self) -> list[Target]:
        instance = f"{self.sandbox.host}:{self.sandbox.port}"
        out = [
            Target("kube-state-metrics", instance, "kube-state"),
            Target("kubelet", instance, "cadvisor"),
        ]
        for ns, svc in self.sandbox.api.exporters.app_targets():
            out.append(
                Target("apps", instance, f"apps/{ns}/{svc}", (("namespace", ns), ("service", svc)))
            )
        return out

    def _write_config(self, d: Path) -> None:
        scrape = []
        by_job: dict[str, list[Target]] = {}
        for t in self.targets():
            by_job.setdefault(t.job, []).append(t)
        for job, targets in by_job.items():
            scrape.append(
                {
                    "job_name": job,
                    "static_configs": [
                        {
                            "targets": [t.instance],
                            "labels": {"__metrics_path__": t.path, **dict(t.labels)},
                        }
                        for t in targets
                    ],
                }
            )
        prometheus = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
            },
            "alerting": {
                "alertmanagers": [
                    {"static_configs": [{"targets": [f"{self.host}:{self.alertmanager_port}"]}]}
                ]
            },
            "rule_files": [str(RULES)],
            "scrape_configs": scrape,
        }
        alertmanager = {
            "route": {
                "receiver": "sandbox",
                "group_by": ["alertname", "namespace"],
                "group_wait": "1s",
                "group_interval": "5s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {"name": "sandbox", "webhook_configs": [{"url": self.webhook_url}]}
                if self.webhook_url
                else {"name": "sandbox"}
            ],
        }
        (d / "prometheus.yml").write_text(yaml.safe_dump(prometheus, sort_keys=False))
        (d / "alertmanager.yml").write_text(yaml.safe_dump(alertmanager, sort_keys=False))

    def _backfill(self, d: Path) -> None:
        """The last ``history_hours`` as TSDB blocks in the data directory."""
        if self.history_hours <= 0:
            return
        end = time.time()
        text = openmetrics_history(
            self.sandbox.api.exporters,
            self.targets(),
            end - self.history_hours * 3600,
            end,
            cancelled=self._stopping.is_set,
        )
        source = d / "history.om"
        source.write_bytes(text)
        if self._stopping.is_set():
            return
        argv = [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(source), str(d / "data")]
        proc = self._spawn(argv, "promtool.log")
        code = proc.wait(timeout=600)
        with self._lock:
            if proc in self._procs:
                self._procs.remove(proc)
        source.unlink()
        if code != 0 and not self._stopping.is_set():
            lines = (d / "promtool.log").read_text(errors="replace").strip().splitlines()
            raise RuntimeError(f"promtool could not backfill: {lines[-1] if lines else code}")

    def _spawn(self, argv: list[str], log: str) -> subprocess.Popen[bytes]:
        assert self._dir is not None
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("stopped")
            with open(self._dir / log, "wb") as fh:
                proc = subprocess.Popen(
                    argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
                )
            self._procs.append(proc)
        return proc

    def _wait_answer(self, url: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._stopping.is_set():
            for p in self._procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{Path(str(p.args[0])).name} exited ({p.returncode})")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")
            self._stopping.wait(0.2)
