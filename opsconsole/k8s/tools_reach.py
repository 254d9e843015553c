"""The read-only tools that reach any kind (list, get, describe, events, API resources) and the
investigation helpers (change timeline, rollout history, service path, access check).

Each handler runs inside the Kubernetes tools' guard (:meth:`opsconsole.k8s.tools._Toolbox.guard`:
argument check, redaction of content and data, stable error codes), reads through the
Cluster's guarded client (GETs; the access review is a ``dryRun=All`` POST) and applies the
policy: ``kubernetes.allowed_namespaces``/``namespace_allowlist`` (S11) and
``kubernetes.denied_kinds`` (a denied kind is refused before any request; Secret values and
private keys are withheld whatever the policy, S9).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import ToolResult
from opsconsole.k8s import discovery, generic, render
from opsconsole.k8s.discovery import ResourceInfo

if TYPE_CHECKING:
    from opsconsole.k8s.tools import _Toolbox


_S = {"type": "string"}


def _obj(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


KIND = {
    "type": "string",
    "description": "resource type as kubectl accepts it: pods, deploy, svc, cm, pvc, hpa, "
    "netpol, sts, ds, cj, ing, sa, rb, crd, a CRD's plural ...",
}
NS_OPT = {"type": "string", "description": "namespace; omit for all namespaces"}
NS_ONE = {"type": "string", "description": "namespace (omit for cluster-scoped kinds)"}
NS_REQ = {"type": "string", "description": "namespace"}
NAME = {"type": "string", "description": "object name"}


class Reach:
    """The handlers, bound to one toolbox (its cluster, settings and budget)."""

    def __init__(self, box: _Toolbox) -> None:
        self.box = box

    # -- policy ----------------------------------------------------------------------------

    def kind(self, args: dict[str, Any], verb: str = "get") -> ResourceInfo:
        from opsconsole.k8s.tools import ToolInputError

        res = discovery.resolve(self.box.need(), args.get("kind"))
        if not res.can(verb):
            raise ToolInputError(
                f"{res.ref} cannot be read with {verb} (the server allows: "
                f"{', '.join(res.verbs)}); nothing was sent"
            )
        if self.box.policy.is_denied(res):
            self.box.policy.check(self.box.need(), res, None, change=False)
        return res

    def scope(self, res: ResourceInfo, args: dict[str, Any]) -> list[str | None]:
        if not res.namespaced:
            return [None]
        ns = self.box.ns(args, required=False)
        return self.box.need().scope(ns)

    def one_ns(self, res: ResourceInfo, args: dict[str, Any]) -> str | None:
        if not res.namespaced:
            return None
        value = args.get("namespace")
        if value in (None, ""):
            value = self.box.need().default_namespace
        return self.box.ns({"namespace": value})

    def _selector(self, args: dict[str, Any], key: str) -> str | None:
        v = args.get(key)
        if v in (None, ""):
            return None
        if not isinstance(v, str) or len(v) > 1000 or "\n" in v:
            from opsconsole.k8s.tools import ToolInputError

            raise ToolInputError(f"{key} must be a selector string like app=web,tier!=db")
        return v

    # -- any kind --------------------------------------------------------------------------

    def list_resources(self, args: dict[str, Any]) -> ToolResult:
        res = self.kind(args, "list")
        namespaces = self.scope(res, args)
        text, data = generic.list_table(
            self.box.need(),
            res,
            namespaces,
            label_selector=self._selector(args, "label_selector"),
            field_selector=self._selector(args, "field_selector"),
            budget=self.box.budget,
            show_namespace=res.namespaced and args.get("namespace") in (None, "", "all", "*"),
        )
        return ToolResult(content=text, data=data)

    def _named(self, args: dict[str, Any]) -> tuple[ResourceInfo, str | None, str]:
        from opsconsole.k8s.tools import check_name

        res = self.kind(args)
        name = check_name(args.get("name"), f"{res.singular or res.plural} name")
        return res, self.one_ns(res, args), name

    def get_resource(self, args: dict[str, Any]) -> ToolResult:
        res, ns, name = self._named(args)
        text, data = generic.get_object(self.box.need(), res, ns, name, self.box.budget)
        return ToolResult(content=text, data=data)

    def describe_resource(self, args: dict[str, Any]) -> ToolResult:
        res, ns, name = self._named(args)
        cluster = self.box.need()
        if res.kind == "Pod" and res.group == "":
            from opsconsole.k8s import queries as q

            assert ns is not None
            view = q.describe_pod_view(cluster, ns, name)
            return ToolResult(
                content=render.clip_middle(view.text, self.box.budget),
                data={**view.data, "kind": "Pod", "namespace": ns, "name": name},
            )
        text, data = generic.describe_object(cluster, res, ns, name, self.box.budget)
        return ToolResult(content=text, data=data)

    def get_resource_events(self, args: dict[str, Any]) -> ToolResult:
        res, ns, name = self._named(args)
        text, data = generic.object_events(self.box.need(), res, ns, name, self.box.budget)
        return ToolResult(content=text, data=data)

    def list_api_resources(self, args: dict[str, Any]) -> ToolResult:
        items = discovery.resources(self.box.need())
        lines = [
            f"{r.plural:<28} {','.join(r.short_names):<10} {r.api_version:<30} "
            f"{'namespaced' if r.namespaced else 'cluster':<10} {r.kind}"
            for r in items
        ]
        head = [f"API resources served: {len(items)}", "NAME  SHORTNAMES  APIVERSION  SCOPE  KIND"]
        text, _ = render.fit(head, lines, self.box.budget, what="resources")
        return ToolResult(
            content=text,
            data={
                "resources": [
                    {
                        "name": r.plural,
                        "short_names": list(r.short_names),
                        "api_version": r.api_version,
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "denied": self.box.policy.is_denied(r),
                    }
                    for r in items
                ]
            },
        )

    # -- investigation ---------------------------------------------------------------------

    def change_timeline(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.timeline import change_timeline
        from opsconsole.k8s.tools import check_name

        ns = self.box.ns(args)
        dep = args.get("deployment")
        dep = check_name(dep, "deployment name") if dep not in (None, "") else None
        assert ns is not None
        text, data = change_timeline(self.box.need(), ns, dep, self.box.budget)
        return ToolResult(content=text, data=data)

    def rollout_history(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.timeline import rollout_history
        from opsconsole.k8s.tools import ToolInputError, check_name

        ns = self.box.ns(args)
        dep = check_name(args.get("deployment"), "deployment name")
        revs = []
        for key in ("from_revision", "to_revision"):
            v = args.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ToolInputError(f"{key} must be a revision number (1, 2, ...)")
            revs.append(v)
        assert ns is not None
        text, data = rollout_history(self.box.need(), ns, dep, revs[0], revs[1], self.box.budget)
        return ToolResult(content=text, data=data)

    def check_service_path(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.servicepath import service_path
        from opsconsole.k8s.tools import ToolInputError, check_name

        ns = self.box.ns(args)
        svc = check_name(args.get("service"), "service name")
        port = args.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int | str)):
            raise ToolInputError("port must be a port number or name")
        assert ns is not None
        text, data = service_path(self.box.need(), ns, svc, port, self.box.budget)
        return ToolResult(content=text, data=data)

    def check_access(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.access import VERBS, can_i
        from opsconsole.k8s.tools import ToolInputError, check_name

        verb = args.get("verb")
        if verb not in VERBS:
            raise ToolInputError(f"verb must be one of {', '.join(VERBS)}")
        resource = str(args.get("resource") or "")
        sub = None
        if "/" in resource:
            resource, sub = resource.split("/", 1)
        # kind() applies denied_kinds to the resource named; an access question about a
        # denied kind reads nothing, so it is answered
        res = discovery.resolve(self.box.need(), resource)
        ns = None
        if res.namespaced and args.get("namespace") not in (None, "", "all", "*"):
            ns = self.box.ns(args)
        name = args.get("name")
        name = check_name(name, "object name") if name not in (None, "") else None
        subject = args.get("subject")
        if subject is not None and (not isinstance(subject, str) or len(subject) > 300):
            raise ToolInputError("subject must be user:NAME, group:NAME or serviceaccount:NS:NAME")
        text, data = can_i(
            self.box.need(), verb, res, ns, subject=subject or None, name=name, subresource=sub
        )
        return ToolResult(content=text, data=data)


def reach_specs(reach: Reach) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(name, description, parameters, handler) of every tool of this module, in a fixed
    order (the tools array is part of the stable prompt prefix, A20)."""
    named = _obj({"kind": KIND, "name": NAME, "namespace": NS_ONE}, ["kind", "name"])
    return [
        (
            "list_resources",
            "List objects of any kind (kubectl get -o wide) as a compact table: one namespace, "
            "all namespaces (omit namespace), label and field selectors.",
            _obj(
                {
                    "kind": KIND,
                    "namespace": NS_OPT,
                    "label_selector": {"type": "string", "description": "e.g. app=web,tier!=db"},
                    "field_selector": {
                        "type": "string",
                        "description": "e.g. status.phase=Running",
                    },
                },
                ["kind"],
            ),
            reach.list_resources,
        ),
        (
            "get_resource",
            "Get one object of any kind as YAML (no managedFields; Secret values never shown: "
            "keys and sizes only).",
            named,
            reach.get_resource,
        ),
        (
            "describe_resource",
            "Describe one object of any kind like kubectl describe, with its events.",
            named,
            reach.describe_resource,
        ),
        (
            "get_resource_events",
            "Events of one object of any kind, newest first.",
            named,
            reach.get_resource_events,
        ),
        (
            "list_api_resources",
            "Every kind the cluster serves (kubectl api-resources): names, short names, "
            "API version, scope.",
            _obj({}, []),
            reach.list_api_resources,
        ),
        (
            "change_timeline",
            "What changed, newest first, in a namespace or for one deployment: rollout "
            "revisions with their pod-template changes (image, env, resources, probes), "
            "container restarts and Warning events.",
            _obj(
                {"namespace": NS_REQ, "deployment": {"type": "string", "description": "name"}},
                ["namespace"],
            ),
            reach.change_timeline,
        ),
        (
            "rollout_history",
            "A deployment's rollout revisions and the pod-template diff between two of them "
            "(default: the two newest).",
            _obj(
                {
                    "namespace": NS_REQ,
                    "deployment": {"type": "string", "description": "deployment name"},
                    "from_revision": {"type": "integer", "minimum": 1},
                    "to_revision": {"type": "integer", "minimum": 1},
                },
                ["namespace", "deployment"],
            ),
            reach.rollout_history,
        ),
        (
            "check_service_path",
            "Follow a Service's traffic: selector -> pods -> readiness -> endpoints -> "
            "targetPort vs containerPort -> NetworkPolicies; says where traffic stops.",
            _obj(
                {
                    "namespace": NS_REQ,
                    "service": {"type": "string", "description": "service name"},
                    "port": {"type": ["integer", "string"], "description": "one service port"},
                },
                ["namespace", "service"],
            ),
            reach.check_service_path,
        ),
        (
            "check_access",
            "kubectl auth can-i: can a subject (default: this session's user; or user:NAME, "
            "group:NAME, serviceaccount:NS:NAME) do a verb on a resource in a namespace.",
            _obj(
                {
                    "verb": {"type": "string", "description": "get, list, create, delete ..."},
                    "resource": {"type": "string", "description": "e.g. pods, deploy, pods/log"},
                    "namespace": NS_OPT,
                    "name": NAME,
                    "subject": {"type": "string", "description": "omit for yourself"},
                },
                ["verb", "resource"],
            ),
            reach.check_access,
        ),
    ]
