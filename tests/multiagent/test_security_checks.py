"""The Security agent's checks: Pod Security Standards, RBAC (on JSON fixtures: the sandbox's own
RBAC objects are empty), images, env, limits, services; and the scan of the demo and clean
sandbox clusters through the official kubernetes client."""

from __future__ import annotations

from opsconsole.k8s.security import (
    check_pod_spec,
    check_pods,
    check_rbac,
    check_services,
    render_scan,
    scan,
)


def _reasons(rep):
    return {r for _s, r, _e, _f in rep.findings}


def _pod(name, spec, ns="app", owner=None, labels=None):
    meta = {"name": name, "namespace": ns, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return {"metadata": meta, "spec": spec}


RESTRICTED_SPEC = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "registry.example.com/app@sha256:" + "a" * 64,
            "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "128Mi"}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            },
        }
    ],
}


def test_pss_levels_restricted_baseline_privileged():
    rep = check_pod_spec(RESTRICTED_SPEC)
    assert rep.level == "restricted" and rep.findings == [] and rep.restricted_gaps == []

    baseline = {
        "containers": [
            {"name": "c", "image": "nginx:1.27", "resources": {"limits": {"memory": "1Gi"}}}
        ]
    }
    rep = check_pod_spec(baseline)
    assert rep.level == "baseline" and rep.findings == []
    assert any("runAsNonRoot" in g for g in rep.restricted_gaps)
    assert any("digest" in g for g in rep.restricted_gaps)

    bad = {
        "hostNetwork": True,
        "hostPID": True,
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "containers": [
            {
                "name": "c",
                "image": "busybox",
                "securityContext": {
                    "privileged": True,
                    "runAsUser": 0,
                    "capabilities": {"add": ["SYS_ADMIN"]},
                },
                "ports": [{"containerPort": 80, "hostPort": 80}],
            }
        ],
    }
    rep = check_pod_spec(bad)
    assert rep.level == "privileged"
    assert {
        "HostNamespace",
        "HostPathVolume",
        "PrivilegedContainer",
        "DangerousCapabilities",
        "HostPort",
        "RunAsRoot",
        "LatestImageTag",
        "NoResourceLimits",
    } <= _reasons(rep)
    sev = {r: s for s, r, _e, _f in rep.findings}
    assert sev["PrivilegedContainer"] == "critical" and sev["HostPathVolume"] == "critical"


def test_secret_in_env_names_the_variable_never_the_value():
    spec = {
        "containers": [
            {
                "name": "w",
                "image": "w:1",
                "resources": {"limits": {"memory": "1Gi"}},
                "env": [
                    {"name": "DB_PASSWORD", "value": "hunter2-very-secret"},
                    {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}},
                    {"name": "LOG_LEVEL", "value": "debug"},
                ],
            }
        ]
    }
    rep = check_pod_spec(spec)
    found = [f for f in rep.findings if f[1] == "SecretInEnv"]
    assert len(found) == 1
    sev, _reason, evidence, fix = found[0]
    assert sev == "high" and "DB_PASSWORD" in evidence and "secretKeyRef" in fix
    assert "hunter2" not in repr(rep)


def test_findings_are_grouped_per_workload_not_per_replica():
    spec = {
        "containers": [
            {
                "name": "g",
                "image": "grafana/grafana:latest",
                "resources": {"limits": {"memory": "1Gi"}},
            }
        ]
    }
    pods = [
        _pod(
            f"grafana-5d8f-{i}",
            spec,
            owner=("ReplicaSet", "grafana-5d8f"),
            labels={"pod-template-hash": "5d8f"},
        )
        for i in range(3)
    ]
    findings, levels = check_pods(pods)
    issues = [f for f in findings if f.severity != "info"]
    assert [(f.kind, f.ref, f.reason) for f in issues] == [
        ("deployment", "app/grafana", "LatestImageTag")
    ]
    assert "3 pod(s)" in issues[0].evidence
    assert levels["baseline"] == 3


def test_exposed_services():
    svcs = [
        {
            "metadata": {"namespace": "a", "name": "lb"},
            "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]},
        },
        {
            "metadata": {"namespace": "a", "name": "np"},
            "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]},
        },
        {
            "metadata": {"namespace": "a", "name": "lb2"},
            "spec": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]},
        },
        {"metadata": {"namespace": "a", "name": "internal"}, "spec": {"type": "ClusterIP"}},
    ]
    out = {f.name: f for f in check_services(svcs)}
    assert set(out) == {"lb", "np", "lb2"}
    assert out["lb"].severity == "medium" and out["lb2"].severity == "low"
    assert "30080" in out["np"].evidence[0]


# --- RBAC over JSON fixtures ------------------------------------------------------------------

CLUSTER_ROLES = [
    {
        "metadata": {"name": "cluster-admin"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    },
    {
        "metadata": {"name": "system:controller:foo"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    },
    {
        "metadata": {"name": "ci-deployer"},
        "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["*"]}],
    },
    {
        "metadata": {"name": "secret-reader"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}],
    },
    {
        "metadata": {"name": "unbound-wild"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    },
    {
        "metadata": {"name": "pod-view"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    },
]
CLUSTER_ROLE_BINDINGS = [
    {
        "metadata": {"name": "cluster-admin"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "system:masters"}],
    },
    {
        "metadata": {"name": "dev-is-admin"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "tools"}],
    },
    {
        "metadata": {"name": "ci-deployer"},
        "roleRef": {"kind": "ClusterRole", "name": "ci-deployer"},
        "subjects": [{"kind": "User", "name": "alice"}],
    },
    {
        "metadata": {"name": "system:foo"},
        "roleRef": {"kind": "ClusterRole", "name": "system:controller:foo"},
        "subjects": [{"kind": "ServiceAccount", "name": "foo", "namespace": "kube-system"}],
    },
    {
        "metadata": {"name": "viewers"},
        "roleRef": {"kind": "ClusterRole", "name": "pod-view"},
        "subjects": [{"kind": "Group", "name": "devs"}],
    },
]
ROLES = [
    {
        "metadata": {"name": "exec", "namespace": "shop"},
        "rules": [{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}],
    },
]
ROLE_BINDINGS = [
    {
        "metadata": {"name": "shop-secrets", "namespace": "shop"},
        "roleRef": {"kind": "ClusterRole", "name": "secret-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
    },
    {
        "metadata": {"name": "shop-admin", "namespace": "shop"},
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "name": "bob"}],
    },
    {
        "metadata": {"name": "shop-exec", "namespace": "shop"},
        "roleRef": {"kind": "Role", "name": "exec"},
        "subjects": [{"kind": "User", "name": "carol"}],
    },
]


def test_rbac_risks_on_fixtures():
    findings = check_rbac(CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS, ROLES, ROLE_BINDINGS)
    got = {(f.kind, f.ref, f.reason, f.severity) for f in findings}
    assert ("clusterrolebinding", "dev-is-admin", "ClusterAdminBinding", "critical") in got
    assert ("rolebinding", "shop/shop-admin", "ClusterAdminBinding", "high") in got
    assert ("clusterrole", "ci-deployer", "WildcardRBAC", "high") in got
    assert ("clusterrole", "secret-reader", "SecretAccess", "high") in got
    assert ("role", "shop/exec", "PodExec", "medium") in got
    # system bindings, unbound roles and harmless roles are not findings
    names = {f.name for f in findings}
    assert not names & {"cluster-admin", "system:foo", "unbound-wild", "pod-view", "viewers"}
    admin = next(f for f in findings if f.name == "dev-is-admin")
    assert "ServiceAccount tools/ci" in admin.evidence[0] and admin.suggestion
    reader = next(f for f in findings if f.name == "secret-reader")
    assert any("rolebinding shop/shop-secrets" in e for e in reader.evidence)


# --- the sandbox ------------------------------------------------------------------------------

#: the demo scenario's insecure workloads (opsconsole/sandbox/scenarios/demo.yaml) and what
#: each must be flagged for
DEMO_INSECURE = {
    ("deployment", "default/debug-tools"): {
        "PrivilegedContainer",
        "RunAsRoot",
        "HostPathVolume",
        "LatestImageTag",
        "NoResourceLimits",
    },
    ("deployment", "shop/orders-worker"): {"SecretInEnv", "NoResourceLimits"},
    ("deployment", "monitoring/grafana"): {"LatestImageTag"},
    ("daemonset", "monitoring/node-exporter"): {"HostPathVolume", "HostNamespace"},
}


def test_demo_scan_finds_each_insecure_workload_and_nothing_on_the_clean_ones(demo_cluster):
    result = scan(demo_cluster)
    by_workload: dict[tuple[str, str], set[str]] = {}
    for f in result.issues:
        if f.kind != "service":
            by_workload.setdefault((f.kind, f.ref), set()).add(f.reason)
    assert set(by_workload) == set(DEMO_INSECURE)
    for key, reasons in DEMO_INSECURE.items():
        assert reasons <= by_workload[key], key
    services = {(f.ref, f.reason) for f in result.issues if f.kind == "service"}
    assert services == {("shop/web", "ExposedService")}
    assert all(f.evidence and f.suggestion for f in result.issues)
    text = render_scan(result)
    assert "sandbox-fake-password-123" not in text  # the env var is named, not its value
    assert "DB_PASSWORD" in text
    assert not result.notes and "RBAC not checked" not in text  # the sandbox serves RBAC
    assert result.levels["privileged"] >= 2  # debug-tools and node-exporter fail baseline


def test_demo_system_namespace_only_when_named(demo_cluster):
    assert all(f.namespace != "kube-system" for f in scan(demo_cluster).findings)
    system = scan(demo_cluster, "kube-system")
    assert ("daemonset", "kube-system/kube-proxy", "PrivilegedContainer") in {
        (f.kind, f.ref, f.reason) for f in system.issues
    }


def test_clean_scenario_has_no_findings_above_info(clean_cluster):
    result = scan(clean_cluster)
    assert result.issues == []
    assert result.pods > 0 and result.levels["privileged"] == 0
    assert "no security findings above info" in render_scan(result)
    assert scan(clean_cluster, "kube-system").issues == []
