"""kubectl's typed commands (the ones that build the object themselves and send it as protobuf),
with where the created object is read back. Shared by the live test and the fixture capture."""

from __future__ import annotations

from dataclasses import dataclass

NS = "wire"


@dataclass(frozen=True)
class Typed:
    label: str
    args: tuple[str, ...]  # after "kubectl"; "--" separates a command for the container
    path: str  # the created object's API path

    @property
    def dry_run_args(self) -> tuple[str, ...]:
        """The same command printing its object instead of sending it."""
        args = list(self.args)
        cut = args.index("--") if "--" in args else len(args)
        return (*args[:cut], "--dry-run=client", "-o", "json", *args[cut:])


def n(*args: str) -> tuple[str, ...]:
    """In the test namespace (the flag goes before a container command's "--")."""
    cut = args.index("--") if "--" in args else len(args)
    return (*args[:cut], "-n", NS, *args[cut:])


TYPED: tuple[Typed, ...] = (
    Typed("namespace", ("create", "namespace", NS), f"/api/v1/namespaces/{NS}"),
    Typed(
        "deployment",
        n("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"),
        f"/apis/apps/v1/namespaces/{NS}/deployments/web",
    ),
    Typed(
        "deployment-zero",
        n("create", "deployment", "idle", "--image=nginx", "--replicas=0"),
        f"/apis/apps/v1/namespaces/{NS}/deployments/idle",
    ),
    Typed(
        "configmap",
        n("create", "configmap", "cfg", "--from-literal=a=b", "--from-literal=mode=fast"),
        f"/api/v1/namespaces/{NS}/configmaps/cfg",
    ),
    Typed(
        "secret-generic",
        n("create", "secret", "generic", "creds", "--from-literal=user=admin"),
        f"/api/v1/namespaces/{NS}/secrets/creds",
    ),
    Typed(
        "secret-docker-registry",
        n(
            "create",
            "secret",
            "docker-registry",
            "pull",
            "--docker-server=registry.example.com",
            "--docker-username=robot",
            "--docker-password=not-a-secret",
        ),
        f"/api/v1/namespaces/{NS}/secrets/pull",
    ),
    Typed(
        "serviceaccount",
        n("create", "serviceaccount", "bot"),
        f"/api/v1/namespaces/{NS}/serviceaccounts/bot",
    ),
    Typed(
        "role",
        n("create", "role", "reader", "--verb=get,list,watch", "--resource=pods,deployments.apps"),
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/roles/reader",
    ),
    Typed(
        "rolebinding",
        n("create", "rolebinding", "bot-reads", "--role=reader", f"--serviceaccount={NS}:bot"),
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings/bot-reads",
    ),
    Typed(
        "clusterrole",
        ("create", "clusterrole", "wire-nodes", "--verb=get,list", "--resource=nodes"),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/wire-nodes",
    ),
    Typed(
        "clusterrolebinding",
        (
            "create",
            "clusterrolebinding",
            "wire-nodes",
            "--clusterrole=wire-nodes",
            "--user=alice",
            "--group=ops",
        ),
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wire-nodes",
    ),
    Typed(
        "service-clusterip",
        n("create", "service", "clusterip", "web", "--tcp=80:8080"),
        f"/api/v1/namespaces/{NS}/services/web",
    ),
    Typed(
        "service-nodeport",
        n("create", "service", "nodeport", "web-np", "--tcp=80:8080", "--node-port=30080"),
        f"/api/v1/namespaces/{NS}/services/web-np",
    ),
    Typed(
        "service-loadbalancer",
        n("create", "service", "loadbalancer", "web-lb", "--tcp=443"),
        f"/api/v1/namespaces/{NS}/services/web-lb",
    ),
    Typed(
        "service-externalname",
        n("create", "service", "externalname", "ext", "--external-name=example.com"),
        f"/api/v1/namespaces/{NS}/services/ext",
    ),
    Typed(
        "job",
        n("create", "job", "once", "--image=busybox", "--", "echo", "hi"),
        f"/apis/batch/v1/namespaces/{NS}/jobs/once",
    ),
    Typed(
        "cronjob",
        n("create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"),
        f"/apis/batch/v1/namespaces/{NS}/cronjobs/tick",
    ),
    Typed(
        "quota",
        n("create", "quota", "caps", "--hard=pods=10,cpu=2,memory=1Gi"),
        f"/api/v1/namespaces/{NS}/resourcequotas/caps",
    ),
    Typed(
        "priorityclass",
        ("create", "priorityclass", "wire-high", "--value=1000", "--description=high"),
        "/apis/scheduling.k8s.io/v1/priorityclasses/wire-high",
    ),
    Typed(
        "priorityclass-zero",
        ("create", "priorityclass", "wire-zero", "--value=0"),
        "/apis/scheduling.k8s.io/v1/priorityclasses/wire-zero",
    ),
    Typed(
        "poddisruptionbudget",
        n("create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"),
        f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets/web",
    ),
    Typed(
        "poddisruptionbudget-percent",
        n("create", "poddisruptionbudget", "web-pct", "--selector=app=web", "--max-unavailable=0%"),
        f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets/web-pct",
    ),
    Typed(
        "ingress",
        n("create", "ingress", "web", "--rule=web.example.com/api*=web:80", "--class=nginx"),
        f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses/web",
    ),
)
