"""Security checks for the Security agent: Pod Security Standards, RBAC, images, env, limits,
exposed services. Pure functions over raw Kubernetes JSON, plus :func:`scan` which reads the
cluster (read-only) and :func:`render_scan` which renders compact text for the model.

Every finding is an :class:`opsconsole.k8s.analyzers.Finding` with a severity, the evidence it
rests on and the fix (``suggestion``). Evidence never contains a secret's value: a plain env var
that looks like a secret is named, its value is not repeated.

Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
each pod spec is classified ``privileged`` (fails baseline), ``baseline`` (passes baseline,
fails restricted) or ``restricted``. Baseline violations are findings of their own (critical /
high / medium); the restricted-only gaps of a workload are one ``info`` finding
(``PSSRestricted``) listing them, so a hardened-but-not-restricted workload is not reported as
insecure. Findings are grouped per workload (Deployment, StatefulSet, DaemonSet, Job, or the
bare pod), not per replica.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsconsole.k8s.analyzers import SEVERITY_ORDER, Finding
from opsconsole.k8s.security_rbac import BUILTIN_ROLES, check_rbac
from opsconsole.redact import is_secret_key

if TYPE_CHECKING:
    from opsconsole.k8s.client import Cluster

__all__ = [
    "BUILTIN_ROLES",
    "PodSpecReport",
    "ScanResult",
    "check_pod_spec",
    "check_pods",
    "check_rbac",
    "check_services",
    "image_problem",
    "render_scan",
    "scan",
    "workload_of",
]

_E: dict[str, Any] = {}
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")

#: capabilities the baseline profile allows to be added
BASELINE_CAPS = frozenset(
    "AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID "
    "SETPCAP SETUID SYS_CHROOT".split()
)
#: volume types the restricted profile allows
RESTRICTED_VOLUMES = frozenset(
    "configMap csi downwardAPI emptyDir ephemeral persistentVolumeClaim projected secret".split()
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})


# --- pod specs ------------------------------------------------------------------------------


@dataclass
class PodSpecReport:
    """What the checks found in one pod spec."""

    level: str = "restricted"  # privileged | baseline | restricted
    findings: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: restricted-only gaps (short texts)
    restricted_gaps: list[str] = field(default_factory=list)

    def add(self, severity: str, reason: str, evidence: str, fix: str) -> None:
        self.findings.append((severity, reason, evidence, fix))


def _containers(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(key) or ():
            if isinstance(c, dict):
                out.append((key, c))
    return out


def image_problem(image: str) -> str | None:
    """``"latest"`` for ``:latest`` or no tag, ``"no-digest"`` for a tag without digest."""
    if not image:
        return "latest"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "latest"
    return "no-digest"


def check_pod_spec(
    spec: dict[str, Any], annotations: dict[str, str] | None = None
) -> PodSpecReport:
    """PSS baseline/restricted, image hygiene, secrets in env and missing limits for one spec."""
    rep = PodSpecReport()
    baseline_failed = False
    gaps: list[str] = []
    psc = spec.get("securityContext") or _E
    annotations = annotations or {}

    def base(sev: str, reason: str, ev: str, fix: str) -> None:
        nonlocal baseline_failed
        baseline_failed = True
        rep.add(sev, reason, ev, fix)

    # baseline: host namespaces, hostPath, hostProcess, sysctls, pod-level seccomp/selinux
    flags = [k for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if flags:
        base(
            "high",
            "HostNamespace",
            ", ".join(f"{k}=true" for k in flags) + " (PSS baseline)",
            "do not share the host's network/PID/IPC namespaces; remove " + ", ".join(flags),
        )
    for v in spec.get("volumes") or ():
        if not isinstance(v, dict):
            continue
        if "hostPath" in v:
            path = (v.get("hostPath") or _E).get("path", "")
            sev = "critical" if path in ("/", "/etc", "/var/run/docker.sock") else "high"
            base(
                sev,
                "HostPathVolume",
                f"volume {v.get('name')}: hostPath {path} (PSS baseline)",
                "use a PVC, configMap, secret or emptyDir instead of hostPath",
            )
        else:
            vtype = next((k for k in v if k != "name"), "")
            if vtype and vtype not in RESTRICTED_VOLUMES:
                gaps.append(f"volume {v.get('name')} of type {vtype}")
    if (psc.get("windowsOptions") or _E).get("hostProcess"):
        base("critical", "HostProcess", "windowsOptions.hostProcess=true", "remove hostProcess")
    for s in psc.get("sysctls") or ():
        name = (s or _E).get("name", "")
        if name and name not in SAFE_SYSCTLS:
            base("medium", "UnsafeSysctl", f"sysctl {name}", "remove the unsafe sysctl")
    pod_seccomp = (psc.get("seccompProfile") or _E).get("type")
    if pod_seccomp == "Unconfined":
        base("medium", "SeccompUnconfined", "pod seccompProfile Unconfined", _SECCOMP_FIX)
    _selinux(psc.get("seLinuxOptions") or _E, "pod", base)
    for key, value in annotations.items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and value == (
            "unconfined"
        ):
            base("medium", "AppArmorUnconfined", f"annotation {key}=unconfined", _APPARMOR_FIX)

    pod_nonroot = psc.get("runAsNonRoot") is True
    pod_uid = psc.get("runAsUser")
    for key, c in _containers(spec):
        cname = c.get("name", "?")
        where = f"container {cname}"
        sc = c.get("securityContext") or _E
        if sc.get("privileged"):
            base(
                "critical",
                "PrivilegedContainer",
                f"{where}: securityContext.privileged=true (PSS baseline)",
                "remove privileged: true; add only the capabilities it needs",
            )
        caps = sc.get("capabilities") or _E
        added = [str(x) for x in caps.get("add") or ()]
        bad = [x for x in added if x.upper().removeprefix("CAP_") not in BASELINE_CAPS]
        if bad:
            base(
                "high",
                "DangerousCapabilities",
                f"{where}: capabilities.add {', '.join(bad)} (PSS baseline)",
                "drop these capabilities; keep drop: [ALL] and add only NET_BIND_SERVICE",
            )
        if (sc.get("windowsOptions") or _E).get("hostProcess"):
            base("critical", "HostProcess", f"{where}: hostProcess=true", "remove hostProcess")
        if sc.get("procMount") not in (None, "Default"):
            base("medium", "ProcMount", f"{where}: procMount {sc.get('procMount')}", _PROC_FIX)
        c_seccomp = (sc.get("seccompProfile") or _E).get("type")
        if c_seccomp == "Unconfined":
            base("medium", "SeccompUnconfined", f"{where}: seccompProfile Unconfined", _SECCOMP_FIX)
        _selinux(sc.get("seLinuxOptions") or _E, where, base)
        for p in c.get("ports") or ():
            hp = (p or _E).get("hostPort")
            if hp:
                base(
                    "medium",
                    "HostPort",
                    f"{where}: hostPort {hp} (PSS baseline)",
                    "remove hostPort; expose the pod through a Service",
                )
        # restricted
        uid = sc.get("runAsUser", pod_uid)
        if uid == 0:
            rep.add(
                "medium",
                "RunAsRoot",
                f"{where}: runAsUser=0",
                "run as a non-root user: runAsNonRoot: true and runAsUser > 0",
            )
        nonroot = sc.get("runAsNonRoot", pod_nonroot) is True
        if not nonroot:
            gaps.append(f"{where}: runAsNonRoot not set")
        if sc.get("allowPrivilegeEscalation") is not False and not sc.get("privileged"):
            gaps.append(f"{where}: allowPrivilegeEscalation not false")
        if (c_seccomp or pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            gaps.append(f"{where}: no seccompProfile RuntimeDefault")
        dropped = {str(x).upper() for x in caps.get("drop") or ()}
        if "ALL" not in dropped:
            gaps.append(f"{where}: capabilities not dropping ALL")
        if any(x.upper() != "NET_BIND_SERVICE" for x in added if x not in bad):
            gaps.append(f"{where}: adds capabilities other than NET_BIND_SERVICE")
        if key == "ephemeralContainers":
            continue
        # hygiene
        image = str(c.get("image") or "")
        prob = image_problem(image)
        if prob == "latest":
            rep.add(
                "medium",
                "LatestImageTag",
                f"{where}: image {image or '(none)'} (mutable :latest tag)",
                "pin the image to a version tag, better a digest (image@sha256:...)",
            )
        elif prob == "no-digest":
            gaps.append(f"{where}: image not pinned by digest")
        res = c.get("resources") or _E
        limits = res.get("limits") or _E
        if key == "containers":
            if not limits and not res.get("requests"):
                rep.add(
                    "medium",
                    "NoResourceLimits",
                    f"{where}: no resources.requests or resources.limits",
                    "set cpu/memory requests and a memory limit",
                )
            elif "memory" not in limits:
                rep.add(
                    "low",
                    "NoResourceLimits",
                    f"{where}: no memory limit",
                    "set resources.limits.memory (and requests) so one pod cannot starve the node",
                )
        for env in c.get("env") or ():
            ename = str((env or _E).get("name", ""))
            if (env or _E).get("value") and is_secret_key(ename):
                rep.add(
                    "high",
                    "SecretInEnv",
                    f"{where}: env var {ename} holds a literal value (value not shown)",
                    "move it to a Secret and reference it with valueFrom.secretKeyRef",
                )
    if baseline_failed:
        rep.level = "privileged"
    elif gaps:
        rep.level = "baseline"
    rep.restricted_gaps = gaps
    return rep


_SECCOMP_FIX = "use seccompProfile type RuntimeDefault"
_APPARMOR_FIX = "use the runtime/default AppArmor profile"
_PROC_FIX = "use the Default procMount"


def _selinux(opts: dict[str, Any], where: str, base: Any) -> None:
    if not opts:
        return
    if opts.get("type", "") not in _SELINUX_TYPES or opts.get("user") or opts.get("role"):
        base("medium", "SELinuxOptions", f"{where}: seLinuxOptions {opts}", "do not set SELinux")


# --- workloads ------------------------------------------------------------------------------


def workload_of(pod: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of the workload that owns a raw pod: deployment, statefulset, daemonset,
    job, or ("pod", its name)."""
    meta = pod.get("metadata") or _E
    labels = meta.get("labels") or _E
    for ref in meta.get("ownerReferences") or ():
        kind = (ref or _E).get("kind", "")
        name = (ref or _E).get("name", "")
        if kind == "ReplicaSet":
            h = labels.get("pod-template-hash")
            if h and name.endswith("-" + h):
                return "deployment", name[: -len(h) - 1]
            return "replicaset", name
        if kind in ("StatefulSet", "DaemonSet", "Job"):
            return kind.lower(), name
        if kind:
            return kind.lower(), name
    return "pod", str(meta.get("name", ""))


def check_pods(pods: Iterable[dict[str, Any]]) -> tuple[list[Finding], dict[str, int]]:
    """Findings per workload for raw pods, and a count of pods per PSS level."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for pod in pods:
        meta = pod.get("metadata") or _E
        kind, name = workload_of(pod)
        groups.setdefault((meta.get("namespace", ""), kind, name), []).append(pod)
    levels = {"privileged": 0, "baseline": 0, "restricted": 0}
    out: list[Finding] = []
    for (ns, kind, name), members in groups.items():
        seen: dict[tuple[str, str], Finding] = {}
        gaps: list[str] = []
        for pod in members:
            meta = pod.get("metadata") or _E
            rep = check_pod_spec(pod.get("spec") or _E, meta.get("annotations") or {})
            levels[rep.level] += 1
            for sev, reason, ev, fix in rep.findings:
                f = seen.get((reason, fix))
                if f is None:
                    f = Finding(sev, kind, ns, name, reason, [], fix)
                    seen[(reason, fix)] = f
                    out.append(f)
                if ev not in f.evidence:
                    f.evidence.append(ev)
                if SEVERITY_ORDER[sev] < SEVERITY_ORDER[f.severity]:
                    f.severity = sev
            for g in rep.restricted_gaps:
                if g not in gaps:
                    gaps.append(g)
        n = len(members)
        if n > 1 or kind != "pod":
            for f in seen.values():
                f.evidence.append(f"{n} pod(s)")
        if gaps and not seen:
            more = f" (+{len(gaps) - 4} more)" if len(gaps) > 4 else ""
            out.append(
                Finding(
                    "info",
                    kind,
                    ns,
                    name,
                    "PSSRestricted",
                    ["meets PSS baseline, not restricted: " + "; ".join(gaps[:4]) + more],
                    "to reach restricted: runAsNonRoot, allowPrivilegeEscalation: false, "
                    "capabilities drop [ALL], seccompProfile RuntimeDefault",
                )
            )
    return out, levels


# --- services --------------------------------------------------------------------------------


def check_services(services: Iterable[dict[str, Any]]) -> list[Finding]:
    out = []
    for svc in services:
        meta = svc.get("metadata") or _E
        spec = svc.get("spec") or _E
        typ = spec.get("type") or "ClusterIP"
        if typ not in ("NodePort", "LoadBalancer"):
            continue
        ports = ", ".join(
            f"{p.get('port')}" + (f"->nodePort {p['nodePort']}" if p.get("nodePort") else "")
            for p in spec.get("ports") or ()
            if isinstance(p, dict)
        )
        ranges = spec.get("loadBalancerSourceRanges") or []
        ev = [f"type {typ}, ports {ports or '-'}"]
        if typ == "LoadBalancer":
            ev.append(
                f"loadBalancerSourceRanges {', '.join(ranges)}"
                if ranges
                else "no loadBalancerSourceRanges: open to any source address"
            )
        sev = "low" if ranges else "medium"
        fix = (
            "if it must be public, restrict loadBalancerSourceRanges and put TLS/auth in front; "
            "otherwise use type ClusterIP behind an Ingress"
            if typ == "LoadBalancer"
            else "use ClusterIP behind an Ingress; NodePort opens the port on every node"
        )
        out.append(
            Finding(
                sev,
                "service",
                meta.get("namespace"),
                meta.get("name", ""),
                "ExposedService",
                ev,
                fix,
            )
        )
    return out


# --- the scan -------------------------------------------------------------------------------


@dataclass
class ScanResult:
    scope: str
    findings: list[Finding]
    pods: int = 0
    workloads: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    skipped_system: int = 0

    @property
    def issues(self) -> list[Finding]:
        """Findings above ``info``."""
        return [f for f in self.findings if f.severity != "info"]


def sort_security(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.ref, f.reason))


def _ns(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or _E).get("namespace", ""))


def _list_rbac(cluster: Cluster, plural: str) -> list[dict[str, Any]]:
    data = cluster.get_json(
        "custom", "list_cluster_custom_object", "rbac.authorization.k8s.io", "v1", plural
    )
    return list((data or _E).get("items") or [])


def scan(
    cluster: Cluster,
    namespace: str | None = None,
    *,
    include_system: bool | None = None,
    rbac: bool = True,
) -> ScanResult:
    """Read pods, services and (cluster-wide) RBAC and check them. Read-only."""
    from opsconsole.errors import Forbidden, NotFound, OpsConsoleError
    from opsconsole.k8s import queries as q

    if include_system is None:
        include_system = namespace in SYSTEM_NAMESPACES
    pods = [p.raw for p in q.list_pods(cluster, namespace, keep_raw=True) if p.raw]
    services = q.list_services(cluster, namespace)
    skipped = 0
    if not include_system:
        before = len(pods)
        pods = [
            p for p in pods if (p.get("metadata") or _E).get("namespace") not in SYSTEM_NAMESPACES
        ]
        skipped = before - len(pods)
        services = [
            s
            for s in services
            if (s.get("metadata") or _E).get("namespace") not in SYSTEM_NAMESPACES
        ]
    findings, levels = check_pods(pods)
    findings += check_services(services)
    notes: list[str] = []
    if rbac:
        try:
            crs = _list_rbac(cluster, "clusterroles")
            crbs = _list_rbac(cluster, "clusterrolebindings")
            rs = _list_rbac(cluster, "roles")
            rbs = _list_rbac(cluster, "rolebindings")
            rb = check_rbac(crs, crbs, rs, rbs)
            if namespace:
                rb = [f for f in rb if f.namespace in (None, namespace)]
            findings += rb
        except NotFound:
            notes.append(
                "RBAC not checked: this cluster does not serve rbac.authorization.k8s.io/v1"
            )
        except Forbidden as exc:
            notes.append(f"RBAC not checked: {exc.message}")
        except OpsConsoleError as exc:
            notes.append(f"RBAC not checked: {exc.message}")
    workloads = len({(p.get("metadata", _E).get("namespace"), workload_of(p)) for p in pods})
    return ScanResult(
        scope=f"namespace {namespace}" if namespace else "all namespaces",
        findings=sort_security(findings),
        pods=len(pods),
        workloads=workloads,
        levels=levels,
        notes=notes,
        skipped_system=skipped,
    )


def render_scan(result: ScanResult, budget_tokens: int = 2000) -> str:
    """Compact text: a summary line, one FINDING line per issue, then the info findings."""
    from opsconsole.k8s.render import finding_line, fit

    issues = result.issues
    infos = [f for f in result.findings if f.severity == "info"]
    sev: dict[str, int] = {}
    for f in issues:
        sev[f.severity] = sev.get(f.severity, 0) + 1
    sev_text = ", ".join(f"{sev[s]} {s}" for s in ("critical", "high", "medium", "low") if s in sev)
    lv = result.levels
    head = [
        f"security scan of {result.scope}: {len(issues)} findings ({sev_text or 'none'}) in "
        f"{result.pods} pods / {result.workloads} workloads; Pod Security Standards: "
        f"{lv.get('privileged', 0)} pods fail baseline, {lv.get('baseline', 0)} meet baseline "
        f"only, {lv.get('restricted', 0)} meet restricted"
    ]
    if result.skipped_system:
        head.append(
            f"(system namespaces skipped: {result.skipped_system} pods; scan namespace "
            "kube-system to include them)"
        )
    head += [f"note: {n}" for n in result.notes]
    if not issues:
        head.append("no security findings above info")
    tail = []
    if infos:
        names = ", ".join(f"{f.kind}={f.ref}" for f in infos[:8])
        more = f" (+{len(infos) - 8} more)" if len(infos) > 8 else ""
        tail.append(f"info: {len(infos)} workloads meet baseline but not restricted: {names}{more}")
    text, _ = fit(
        head, [finding_line(f) for f in issues], budget_tokens, what="findings", tail=tail
    )
    return text
