"""The mutating tools that reach any kind: apply, patch, set image, scale, rollout restart,
rollout undo, delete, and exec (a class of its own: a command in a live container).

Every kind is resolved through API discovery (kubectl's names and short names accepted, an
unknown one answered with the closest kinds). Each tool plans its request first
(:class:`~opsconsole.k8s.change.Change`: validated arguments, the live object read, the policy
of :mod:`opsconsole.k8s.policy` applied); its ``dry_run`` sends that plan with ``dryRun=All``
and returns a :class:`~opsconsole.agent.tools.DryRun` with the server's verdict, the diff live
-> result (:mod:`opsconsole.k8s.diff`) and the blast radius. The approved call sends the very
plan it dry-ran (kept by the arguments), with the live ``resourceVersion`` as a precondition
where the API takes one: if the object changed since the diff was shown, the server refuses
(409) and nothing else is changed. A dry run the server refuses (4xx), or arguments refused
before it, come back ``rejected``: the loop asks nobody and the model gets the reason.

``apply_resource`` is ``kubectl apply``: a new object is created (with the last-applied
annotation), an existing one gets a three-way patch computed from the last-applied
configuration, the manifest and the live object (strategic merge for the built-in groups,
JSON merge patch for custom resources).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from opsconsole.agent.tools import DryRun, ToolResult
from opsconsole.errors import NotFound, OpsConsoleError
from opsconsole.k8s import diff as D
from opsconsole.k8s import discovery, render
from opsconsole.k8s.change import JSON_PATCH, MERGE, STRATEGIC, Change, ServerRefused, send
from opsconsole.k8s.discovery import ResourceInfo, raw_get
from opsconsole.k8s.generic import LAST_APPLIED
from opsconsole.k8s.paths import resource_path, split_api_version

if TYPE_CHECKING:
    from opsconsole.k8s.tools import _Toolbox

FIELD_MANAGER = "opsconsole"
MAX_DOCUMENTS = 20
#: errors that say nothing about the request itself: the approval is still asked (the
#: dry run is shown as failed), everything else refuses the call before anyone is asked
_NOT_THE_REQUEST = {"unreachable", "cluster_timeout", "auth", "no_cluster", "cluster_error"}
#: Kubernetes' strategic-merge keys of the lists kubectl merges item by item
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/:@]{0,511}")
_ROLLABLE = ("Deployment", "StatefulSet", "DaemonSet")
_POD_SPEC = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
REVISION = "deployment.kubernetes.io/revision"
_DONE = {
    "create": "created",
    "configure": "configured",
    "patch": "patched",
    "set image": "image set",
    "scale": "scaled",
    "restart": "restarted",
    "undo": "rolled back",
    "delete": "deleted",
}


def _input_error(message: str) -> OpsConsoleError:
    from opsconsole.k8s.tools import ToolInputError

    return ToolInputError(message)


def _dig(obj: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(path):
        out = {key: out}
    return out  # type: ignore[no-any-return]


def strategic_groups(group: str) -> bool:
    """Whether kubectl would send a strategic merge patch (a built-in group) or a JSON merge
    patch (a custom resource)."""
    return group == "" or "." not in group or group.endswith(".k8s.io")


def three_way(last: Any, new: Any, live: Any, *, strategic: bool) -> dict[str, Any]:
    """kubectl apply's patch: set what the manifest says where the live object differs, and
    delete what the last-applied configuration had and the manifest no longer has."""
    last = last if isinstance(last, dict) else {}
    live = live if isinstance(live, dict) else {}
    patch: dict[str, Any] = {}
    for key, value in new.items():
        cur = live.get(key)
        if isinstance(value, dict) and isinstance(cur, dict):
            sub = three_way(last.get(key), value, cur, strategic=strategic)
            if sub:
                patch[key] = sub
        elif (
            strategic
            and _merge_key(key, value)
            and isinstance(value, list)
            and isinstance(cur, list)
        ):
            items = _merge_list(_merge_key(key, value), last.get(key), value, cur)
            if items:
                patch[key] = items
        elif value != cur:
            patch[key] = value
    for key in last:
        if key not in new and key in live:
            patch[key] = None
    return patch


def _merge_key(field: str, items: Any) -> str:
    """The strategic-merge key of list ``field`` ("" for a list replaced whole): a
    container's ``ports`` merge by ``containerPort``, a Service's by ``port``."""
    if field == "ports" and isinstance(items, list):
        first = next((x for x in items if isinstance(x, dict)), {})
        return "containerPort" if "containerPort" in first else "port"
    return MERGE_KEYS.get(field, "")


def _merge_list(mk: str, last: Any, new: list[Any], live: list[Any]) -> list[Any]:
    by_key = {x.get(mk): x for x in live if isinstance(x, dict)}
    last_by = {x.get(mk): x for x in last or () if isinstance(x, dict)}
    out: list[Any] = []
    for item in new:
        if not isinstance(item, dict) or mk not in item:
            return new  # not mergeable: the whole list, as the manifest says
        cur = by_key.get(item[mk])
        if cur is None:
            out.append(item)
            continue
        sub = three_way(last_by.get(item[mk]), item, cur, strategic=True)
        if sub:
            out.append({mk: item[mk], **sub})
    wanted = {x.get(mk) for x in new if isinstance(x, dict)}
    for key in last_by:
        if key not in wanted and key in by_key:
            out.append({mk: key, "$patch": "delete"})
    return out


def parse_manifest(text: Any) -> list[dict[str, Any]]:
    """The documents of a YAML text; a parse error names its line and column."""
    import yaml

    if not isinstance(text, str) or not text.strip():
        raise _input_error("manifest is required: one or more YAML documents")
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise _input_error(
            f"the manifest does not parse: {where}{what}; nothing was sent"
        ) from None
    except yaml.YAMLError as exc:
        raise _input_error(f"the manifest does not parse: {exc}; nothing was sent") from None
    if not docs:
        raise _input_error("the manifest has no documents")
    if len(docs) > MAX_DOCUMENTS:
        raise _input_error(f"at most {MAX_DOCUMENTS} documents per call, not {len(docs)}")
    for i, doc in enumerate(docs, 1):
        if not isinstance(doc, dict):
            raise _input_error(f"document {i} is not a mapping (an object with apiVersion, kind)")
        missing = [f for f in ("apiVersion", "kind") if not doc.get(f)]
        if not (doc.get("metadata") or {}).get("name"):
            missing.append("metadata.name")
        if missing:
            raise _input_error(f"document {i} has no {', '.join(missing)}")
        if doc.get("kind") == "List":
            raise _input_error(f"document {i} is a List: give its items as separate documents")
    return docs


def _parse_patch(value: Any, patch_type: str) -> Any:
    if isinstance(value, str):
        import yaml

        try:
            value = json.loads(value)
        except ValueError:
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                raise _input_error(f"the patch is neither JSON nor YAML: {exc}") from None
    if patch_type == "json":
        ok = isinstance(value, list) and all(
            isinstance(op, dict) and isinstance(op.get("op"), str) and "path" in op for op in value
        )
        if not ok or not value:
            raise _input_error(
                'a JSON patch is a list of operations like [{"op": "replace", "path": '
                '"/spec/replicas", "value": 3}]'
            )
    elif not isinstance(value, dict) or not value:
        raise _input_error(f'a {patch_type} merge patch is an object like {{"spec": {{...}}}}')
    return value


class Changes:
    """The handlers, bound to one toolbox (its cluster, settings, policy and budget)."""

    def __init__(self, box: _Toolbox) -> None:
        self.box = box
        #: the plans dry-run for approval, by tool and arguments: what the approved call sends
        self._planned: dict[str, list[Change]] = {}

    # -- shared ----------------------------------------------------------------------------

    def kind(self, value: Any, verb: str) -> ResourceInfo:
        res = discovery.resolve(self.box.need(), value)
        if not res.can(verb):
            raise _input_error(
                f"{res.ref} does not support {verb} (the server allows: "
                f"{', '.join(res.verbs)}); nothing was sent"
            )
        return res

    def target(
        self, args: dict[str, Any], verb: str, kind: Any = None
    ) -> tuple[ResourceInfo, str | None, str]:
        from opsconsole.k8s.tools import check_name

        res = self.kind(args.get("kind") if kind is None else kind, verb)
        name = check_name(args.get("name"), f"{res.singular or res.plural} name")
        ns: str | None = None
        if res.namespaced:
            if args.get("namespace") in (None, ""):
                raise _input_error(f"namespace is required to change {res.ref}")
            ns = self.box.ns(args)
        elif args.get("namespace") not in (None, ""):
            raise _input_error(f"{res.ref} is cluster-scoped: give no namespace")
        self.box.policy.check(self.box.need(), res, ns, change=True, name=name)
        return res, ns, name

    def path(self, res: ResourceInfo, ns: str | None, name: str | None = None) -> str:
        return resource_path(res.group, res.version, res.plural, namespace=ns, name=name)

    def live(self, res: ResourceInfo, ns: str | None, name: str) -> dict[str, Any]:
        try:
            return raw_get(self.box.need(), self.path(res, ns, name))  # type: ignore[no-any-return]
        except NotFound:
            where = f" in namespace {ns}" if ns else ""
            raise NotFound(f"not found: {res.ref} {name}{where}") from None

    @staticmethod
    def _key(tool: str, args: dict[str, Any]) -> str:
        return tool + json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)

    def _precondition(self, patch: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        rv = _dig(live, ("metadata", "resourceVersion"))
        out = copy.deepcopy(patch)
        if rv:
            out.setdefault("metadata", {})["resourceVersion"] = rv
        return out

    # -- the plans -------------------------------------------------------------------------

    def plan_apply(self, args: dict[str, Any]) -> list[Change]:
        from opsconsole.k8s.tools import check_name

        cluster = self.box.need()
        self.box.policy.check_content(args.get("manifest"))
        docs = parse_manifest(args.get("manifest"))
        arg_ns = args.get("namespace")
        if arg_ns not in (None, ""):
            arg_ns = self.box.ns(args)
        plans: list[Change] = []
        for i, doc in enumerate(docs, 1):
            group, version = split_api_version(doc["apiVersion"], f"document {i}: apiVersion")
            kind = str(doc["kind"])
            res = discovery.resolve(cluster, f"{kind.lower()}.{group}" if group else kind.lower())
            res = replace(res, version=version)
            md = doc.setdefault("metadata", {})
            name = check_name(md.get("name"), f"document {i}: metadata.name")
            ns: str | None = None
            if res.namespaced:
                doc_ns = md.get("namespace")
                if doc_ns and arg_ns and doc_ns != arg_ns:
                    raise _input_error(
                        f"document {i}: the namespace from the provided object {doc_ns!r} does "
                        f"not match the namespace {arg_ns!r}; nothing was sent"
                    )
                ns = check_name(
                    doc_ns or arg_ns or cluster.default_namespace, "namespace", label=True
                )
                md["namespace"] = ns
            else:
                md.pop("namespace", None)
            self.box.policy.check(cluster, res, ns, change=True, name=name)
            applied = copy.deepcopy(doc)
            (applied.get("metadata") or {}).get("annotations", {}).pop(LAST_APPLIED, None)
            body = copy.deepcopy(doc)
            body["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(
                applied, sort_keys=True, separators=(",", ":")
            )
            try:
                live = self.live(res, ns, name)
            except NotFound:
                live = None
            query = (("fieldManager", FIELD_MANAGER), ("fieldValidation", "Strict"))
            if live is None:
                plans.append(
                    Change(
                        "POST", self.path(res, ns), res, ns, name, body, query=query, verb="create"
                    )
                )
                continue
            try:
                last = json.loads(
                    (_dig(live, ("metadata", "annotations")) or {}).get(LAST_APPLIED) or "{}"
                )
            except ValueError:
                last = {}
            strategic = strategic_groups(res.group)
            patch = three_way(last, body, live, strategic=strategic)
            for key in ("apiVersion", "kind"):
                patch.pop(key, None)
            if not patch:
                plans.append(Change("NONE", "", res, ns, name, live=live, verb="unchanged"))
                continue
            plans.append(
                Change(
                    "PATCH",
                    self.path(res, ns, name),
                    res,
                    ns,
                    name,
                    self._precondition(patch, live),
                    STRATEGIC if strategic else MERGE,
                    query,
                    live,
                    "configure",
                )
            )
        return plans

    def plan_patch(self, args: dict[str, Any]) -> list[Change]:
        patch_type = args.get("patch_type") or "strategic"
        if patch_type not in ("strategic", "merge", "json"):
            raise _input_error("patch_type must be strategic, merge or json")
        patch = _parse_patch(args.get("patch"), patch_type)
        self.box.policy.check_content(patch)
        res, ns, name = self.target(args, "patch")
        live = self.live(res, ns, name)
        if patch_type == "json":
            rv = _dig(live, ("metadata", "resourceVersion"))
            body: Any = [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, *patch]
            ctype = JSON_PATCH
        else:
            body = self._precondition(patch, live)
            ctype = STRATEGIC if patch_type == "strategic" else MERGE
        path = self.path(res, ns, name)
        return [Change("PATCH", path, res, ns, name, body, ctype, live=live, verb="patch")]

    def plan_set_image(self, args: dict[str, Any]) -> list[Change]:
        image = args.get("image")
        if not isinstance(image, str) or not _IMAGE.fullmatch(image):
            raise _input_error(
                "image must be an image reference like registry/app:1.2.3 (no spaces)"
            )
        container = args.get("container")
        if not isinstance(container, str) or not container:
            raise _input_error("container is required: the container's name")
        res, ns, name = self.target(args, "patch", args.get("kind") or "deployments")
        where = _POD_SPEC.get(res.kind)
        if where is None or res.group not in ("", "apps", "batch"):
            raise _input_error(
                f"{res.ref} has no pod template; set_image works on deployments, statefulsets, "
                "daemonsets, replicasets, jobs, cronjobs and pods"
            )
        live = self.live(res, ns, name)
        spec = _dig(live, where) or {}
        field = None
        for key in ("containers", "initContainers"):
            if any(c.get("name") == container for c in spec.get(key) or ()):
                field = key
                break
        if field is None:
            names = [c.get("name") for c in spec.get("containers") or ()]
            raise _input_error(
                f"{res.kind.lower()} {name} has no container {container!r}; its containers: "
                f"{', '.join(map(str, names))}"
            )
        patch = _nest(where, {field: [{"name": container, "image": image}]})
        body = self._precondition(patch, live)
        path = self.path(res, ns, name)
        return [Change("PATCH", path, res, ns, name, body, STRATEGIC, live=live, verb="set image")]

    def plan_scale(self, args: dict[str, Any]) -> list[Change]:
        replicas = args.get("replicas")
        if (
            isinstance(replicas, bool)
            or not isinstance(replicas, int)
            or not (0 <= replicas <= 1000)
        ):
            raise _input_error("replicas must be an integer between 0 and 1000")
        res, ns, name = self.target(args, "get")
        self.live(res, ns, name)
        path = self.path(res, ns, name) + "/scale"
        try:
            scale = raw_get(self.box.need(), path)
        except NotFound:
            raise _input_error(
                f"{res.ref} has no scale subresource (deployments, statefulsets, replicasets "
                "have one)"
            ) from None
        body = {"spec": {"replicas": replicas}}
        return [Change("PATCH", path, res, ns, name, body, MERGE, live=scale, verb="scale")]

    def plan_restart(self, args: dict[str, Any]) -> list[Change]:
        res, ns, name = self.target(args, "patch", args.get("kind") or "deployments")
        if res.kind not in _ROLLABLE or res.group != "apps":
            raise _input_error(
                f"{res.ref} cannot be restarted: rollout restart works on deployments, "
                "statefulsets and daemonsets"
            )
        live = self.live(res, ns, name)
        now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        annotations = {"kubectl.kubernetes.io/restartedAt": now}
        patch = {"spec": {"template": {"metadata": {"annotations": annotations}}}}
        body = self._precondition(patch, live)
        path = self.path(res, ns, name)
        return [Change("PATCH", path, res, ns, name, body, STRATEGIC, live=live, verb="restart")]

    def plan_undo(self, args: dict[str, Any]) -> list[Change]:
        to = args.get("to_revision")
        if to is not None and (isinstance(to, bool) or not isinstance(to, int) or to < 1):
            raise _input_error("to_revision must be a revision number (1, 2, ...)")
        res, ns, name = self.target(args, "patch", "deployments.apps")
        live = self.live(res, ns, name)
        uid = _dig(live, ("metadata", "uid"))
        rs_path = resource_path("apps", "v1", "replicasets", namespace=ns)
        owned = []
        for rs in raw_get(self.box.need(), rs_path).get("items") or ():
            owners = _dig(rs, ("metadata", "ownerReferences")) or []
            rev = (_dig(rs, ("metadata", "annotations")) or {}).get(REVISION)
            if any(o.get("uid") == uid for o in owners) and str(rev or "").isdigit():
                owned.append((int(str(rev)), rs))
        owned.sort(key=lambda pair: pair[0])
        current = int((_dig(live, ("metadata", "annotations")) or {}).get(REVISION) or 0)
        revisions = ", ".join(str(r) for r, _ in owned) or "none"
        if to is not None:
            found = [rs for r, rs in owned if r == to]
            if not found:
                raise _input_error(
                    f"deployment {name} has no revision {to}; its revisions: {revisions}"
                )
            if to == current:
                raise _input_error(f"revision {to} is the current revision of deployment {name}")
            target_rs, target_rev = found[0], to
        else:
            older = [(r, rs) for r, rs in owned if r < current] or [
                (r, rs) for r, rs in owned if r != current
            ]
            if not older:
                raise _input_error(
                    f"deployment {name} has no previous revision to go back to "
                    f"(revisions: {revisions})"
                )
            target_rev, target_rs = older[-1]
        template = copy.deepcopy(_dig(target_rs, ("spec", "template")) or {})
        (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
        rv = _dig(live, ("metadata", "resourceVersion"))
        body = [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "replace", "path": "/spec/template", "value": template},
        ]
        return [
            Change(
                "PATCH",
                self.path(res, ns, name),
                res,
                ns,
                name,
                body,
                JSON_PATCH,
                live=live,
                verb="undo",
                extra={"to_revision": target_rev, "from_revision": current},
            )
        ]

    def plan_delete(self, args: dict[str, Any]) -> list[Change]:
        policy = args.get("propagation_policy") or "Background"
        if policy not in ("Background", "Foreground", "Orphan"):
            raise _input_error("propagation_policy must be Background, Foreground or Orphan")
        res, ns, name = self.target(args, "delete")
        live = self.live(res, ns, name)
        body = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": policy,
            "preconditions": {"resourceVersion": _dig(live, ("metadata", "resourceVersion"))},
        }
        path = self.path(res, ns, name)
        return [
            Change(
                "DELETE",
                path,
                res,
                ns,
                name,
                body,
                live=live,
                verb="delete",
                extra={"propagation": policy},
            )
        ]

    # -- what a plan does ------------------------------------------------------------------

    def radius(self, change: Change, result: Any) -> tuple[str, str]:
        """(diff, blast radius) of ``change`` given the dry run's ``result``."""
        after = result if isinstance(result, dict) and result.get("kind") != "Status" else None
        if change.verb == "delete":
            after = None
        if change.verb == "unchanged":
            return "", f"{change.label} is unchanged: nothing to apply"
        text = D.object_diff(change.live, after, change.label)
        if change.verb == "scale":
            before = int(_dig(change.live, ("spec", "replicas")) or 0)
            new = int(_dig(after, ("spec", "replicas")) or 0)
            return text, D.scale_change(before, new)
        if change.verb == "delete":
            live = change.live or {}
            if change.res.kind == "Pod":
                return text, D.delete_pod_radius(live)
            if change.res.kind == "Namespace" and change.res.group == "":
                n = D.namespace_contents(
                    self.box.need(), change.name, discovery.resources(self.box.need())
                )
                return text, f"deletes namespace {change.name} and the {n} objects in it"
            return text, D.delete_workload_radius(live, change.extra.get("propagation", ""))
        if change.verb == "create":
            pods = ""
            if isinstance(after, dict) and after.get("kind") in ("Deployment", "StatefulSet"):
                pods = f"; starts {D._pods_of(after)} pod(s)"
            return text, f"creates {change.label}{pods}"
        radius = D.template_change(change.live, after)
        if change.verb == "undo":
            back = f"back to revision {change.extra['to_revision']}"
            radius = f"{back} (from {change.extra['from_revision']}); {radius}".rstrip("; ")
        if not radius:
            radius = (
                f"changes {change.label} only (no pods replaced)"
                if text
                else f"no field of {change.label} changes"
            )
        return text, radius

    # -- running ---------------------------------------------------------------------------

    def runner(
        self, tool: str, plan: Callable[[dict[str, Any]], list[Change]]
    ) -> tuple[Callable[[dict[str, Any]], ToolResult], Callable[[dict[str, Any]], DryRun]]:
        """(handler, dry_run) of a tool whose requests ``plan`` builds."""

        def handler(args: dict[str, Any]) -> ToolResult:
            cluster = self.box.need()
            changes = self._planned.pop(self._key(tool, args), None) or plan(args)
            done, lines = [], []
            for change in changes:
                if change.method == "NONE":
                    lines.append(f"{change.label} unchanged")
                    done.append({"object": change.label, "result": "unchanged"})
                    continue
                try:
                    send(cluster, change, dry_run=False)
                except OpsConsoleError as exc:
                    if done:
                        lines.append(f"{change.label}: FAILED: {exc.message}")
                        raise type(exc)("; ".join(lines)) from None
                    raise
                word = _DONE.get(change.verb, f"{change.verb}: done")
                if change.verb == "scale":
                    word += f" to {change.body['spec']['replicas']} replicas"
                if change.verb == "undo":
                    word += f" to revision {change.extra['to_revision']}"
                lines.append(f"{change.label} {word}")
                done.append({"object": change.label, "result": word, "verb": change.verb})
            text = render.clip_middle("\n".join(lines), self.box.budget)
            return ToolResult(content=text, data={"changes": done, "message": text})

        def dry_run(args: dict[str, Any]) -> DryRun:
            try:
                self.box.need()
                changes = plan(args)
                diffs, radii, verdicts = [], [], []
                for change in changes:
                    result = (
                        change.live
                        if change.method == "NONE"
                        else send(self.box.need(), change, dry_run=True)
                    )
                    text, radius = self.radius(change, result)
                    if text:
                        diffs.append(text)
                    radii.append(radius if len(changes) == 1 else f"{change.label}: {radius}")
                    verdicts.append(
                        f"dry run (server-side, nothing changed): {change.verb} {change.label} "
                        "accepted"
                    )
            except OpsConsoleError as exc:
                rejected = isinstance(exc, ServerRefused) or exc.code not in _NOT_THE_REQUEST
                line = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
                return DryRun(f"dry run failed: {line}", rejected=rejected)
            self._remember(tool, args, changes)
            from opsconsole.redact import redact

            confirm = ""
            if any(c.verb == "delete" and c.res.kind == "Namespace" for c in changes):
                confirm = next(c.name for c in changes if c.res.kind == "Namespace")
            return DryRun(
                text="\n".join(verdicts),
                diff=redact(render.clip_middle("\n".join(diffs), self.box.budget)),
                blast_radius=redact("; ".join(r for r in radii if r)),
                confirm=confirm,
            )

        return handler, dry_run

    def _remember(self, tool: str, args: dict[str, Any], changes: list[Change]) -> None:
        while len(self._planned) >= 64:
            self._planned.pop(next(iter(self._planned)))
        self._planned[self._key(tool, args)] = changes

    # -- exec ------------------------------------------------------------------------------

    def _exec_target(self, args: dict[str, Any]) -> tuple[str, str, str, list[str]]:
        from opsconsole.k8s.tools import check_name

        self.box.need()
        cmd = args.get("command")
        if (
            not isinstance(cmd, list)
            or not cmd
            or len(cmd) > 50
            or not all(isinstance(c, str) and c and len(c) <= 4096 and "\0" not in c for c in cmd)
        ):
            raise _input_error(
                'command must be a list of 1 to 50 non-empty strings, e.g. ["cat", "/etc/hosts"]'
            )
        res = self.kind("pods", "get")
        if args.get("namespace") in (None, ""):
            raise _input_error("namespace is required")
        ns = self.box.ns(args)
        pod = check_name(args.get("pod_name"), "pod name")
        self.box.policy.check(self.box.need(), res, ns, change=True)
        assert ns is not None
        live = self.live(res, ns, pod)
        names = [c.get("name") for c in _dig(live, ("spec", "containers")) or ()]
        container = args.get("container") or (names[0] if names else "")
        if container not in names:
            raise _input_error(
                f"pod {pod} has no container {container!r}; its containers: "
                f"{', '.join(map(str, names))}"
            )
        return ns, pod, str(container), list(cmd)

    def exec_in_container(self, args: dict[str, Any]) -> ToolResult:
        from opsconsole.k8s.guard import ReadOnlyRefused

        ns, pod, container, cmd = self._exec_target(args)
        cluster = self.box.need()
        if not cluster.write_mode:
            # the exec stream is a websocket, below the guard's pool: refused here instead
            raise ReadOnlyRefused(
                "refused: this session is read-only and exec runs a command in a live "
                "container; nothing was sent"
            )
        from kubernetes.stream import stream

        try:
            out = stream(
                cluster.api("core").connect_get_namespaced_pod_exec,
                pod,
                ns,
                command=cmd,
                container=container,
                stderr=True,
                stdin=False,
                stdout=True,
                tty=False,
                _request_timeout=cluster.timeout,
            )
        except OpsConsoleError:
            raise
        except Exception as exc:  # noqa: BLE001 - the server's answer, cleanly
            raise _exec_error(exc) from None
        text = out if isinstance(out, str) else str(out)
        head = f"exec in pod {ns}/{pod}, container {container}: {' '.join(cmd)}"
        body = render.clip_middle(text, max(200, self.box.budget - 100))
        return ToolResult(
            content=f"{head}\n<untrusted-output>\n{body}\n</untrusted-output>",
            data={
                "namespace": ns,
                "pod": pod,
                "container": container,
                "command": cmd,
                "output": body.splitlines(),
            },
        )

    def exec_dry_run(self, args: dict[str, Any]) -> DryRun:
        try:
            ns, pod, container, cmd = self._exec_target(args)
        except OpsConsoleError as exc:
            return DryRun(f"refused: {exc.message}", rejected=exc.code not in _NOT_THE_REQUEST)
        from opsconsole.redact import redact

        return DryRun(
            text="exec has no server-side dry run: the command runs in the live container "
            "when you approve",
            blast_radius=redact(
                f"runs {' '.join(cmd)!r} in container {container} of pod {ns}/{pod}; "
                "what it changes is not known in advance"
            ),
        )


def _exec_error(exc: BaseException) -> OpsConsoleError:
    """The server's answer to a refused exec (the websocket handshake's status and the
    Status message it carried), as one line."""
    from opsconsole.errors import ClusterError

    reason = str(getattr(exc, "reason", "") or exc)
    parts = [p.strip() for p in reason.split("-+-+-")]
    head = parts[0] if parts else type(exc).__name__
    match = re.search(r"status (\d{3})(.*)", head)
    said = f"{match.group(1)}{match.group(2)}" if match else head[:200]
    message = ""
    if len(parts) >= 3:
        try:
            message = str(json.loads(parts[2]).get("message") or "")
        except (ValueError, AttributeError):
            message = parts[2][:200]
    text = f"exec failed: the API server answered {said}" + (f": {message}" if message else "")
    return ClusterError(text.strip())


def change_specs(ch: Changes) -> list[tuple[str, str, dict[str, Any], Any, Any, Callable]]:
    """(name, description, parameters, handler, dry_run, summarize) of every tool of this
    module, in a fixed order (the tools array is part of the stable prompt prefix, A20)."""
    from opsconsole.agent.tools import ActionSummary
    from opsconsole.k8s.tools_reach import KIND, NAME, NS_ONE, NS_REQ, _obj

    def summary(verb: str, kind: str | None = None) -> Callable[[dict[str, Any]], ActionSummary]:
        def summarize(args: dict[str, Any]) -> ActionSummary:
            detail = ", ".join(
                f"{k}={json.dumps(v, ensure_ascii=False)[:80]}"
                for k, v in args.items()
                if k not in ("kind", "name", "namespace", "manifest", "pod_name")
            )
            return ActionSummary(
                verb=verb,
                kind=str(args.get("kind") or kind or ""),
                name=str(args.get("name") or args.get("pod_name") or ""),
                namespace=args.get("namespace"),
                detail=f"{detail}; context {ch.box.context}".lstrip("; "),
            )

        return summarize

    def apply_summary(args: dict[str, Any]) -> ActionSummary:
        try:
            docs = parse_manifest(args.get("manifest"))
        except OpsConsoleError:
            return ActionSummary("apply", "manifest", "(does not parse)", args.get("namespace"))
        first = docs[0]
        md = first.get("metadata") or {}
        refs = ", ".join(f"{d.get('kind')}/{(d.get('metadata') or {}).get('name')}" for d in docs)
        return ActionSummary(
            verb="apply",
            kind=str(first.get("kind") or ""),
            name=str(md.get("name") or "") + (f" (+{len(docs) - 1} more)" if len(docs) > 1 else ""),
            namespace=md.get("namespace") or args.get("namespace"),
            detail=f"{len(docs)} object(s): {refs}; context {ch.box.context}",
        )

    named = {"kind": KIND, "name": NAME, "namespace": NS_ONE}
    specs: list[tuple[str, str, dict[str, Any], Any, Any, Callable]] = []
    for name, desc, params, plan, summarize in (
        (
            "apply_resource",
            "kubectl apply: create or update the objects of one or more YAML documents "
            "(any kind; an existing object gets a three-way patch from its last-applied "
            "configuration). Mutating: the user approves the diff.",
            _obj(
                {
                    "manifest": {"type": "string", "description": "YAML, documents split by ---"},
                    "namespace": {"type": "string", "description": "for documents without one"},
                },
                ["manifest"],
            ),
            ch.plan_apply,
            apply_summary,
        ),
        (
            "patch_resource",
            "kubectl patch: patch one object of any kind (strategic merge, JSON merge or JSON "
            "patch). Mutating: the user approves the diff.",
            _obj(
                {
                    **named,
                    "patch": {
                        "type": ["object", "array", "string"],
                        "description": "the patch (JSON object; a list of operations for json)",
                    },
                    "patch_type": {"type": "string", "enum": ["strategic", "merge", "json"]},
                },
                ["kind", "name", "patch"],
            ),
            ch.plan_patch,
            summary("patch"),
        ),
        (
            "set_image",
            "kubectl set image: set one container's image in a deployment, statefulset, "
            "daemonset, replicaset, job, cronjob or pod (default kind: deployment). Mutating.",
            _obj(
                {
                    **named,
                    "container": {"type": "string", "description": "container name"},
                    "image": {"type": "string", "description": "e.g. registry/app:1.2.3"},
                },
                ["name", "namespace", "container", "image"],
            ),
            ch.plan_set_image,
            summary("set image", "deployment"),
        ),
        (
            "scale_resource",
            "kubectl scale: set the replicas of any kind with a scale subresource "
            "(deployments, statefulsets, replicasets). Mutating.",
            _obj(
                {**named, "replicas": {"type": "integer", "minimum": 0}},
                ["kind", "name", "namespace", "replicas"],
            ),
            ch.plan_scale,
            summary("scale"),
        ),
        (
            "rollout_restart_resource",
            "kubectl rollout restart: restart the pods of a deployment, statefulset or "
            "daemonset with a rolling update (default kind: deployment). Mutating.",
            _obj(named, ["name", "namespace"]),
            ch.plan_restart,
            summary("restart", "deployment"),
        ),
        (
            "rollout_undo",
            "kubectl rollout undo: roll a deployment back to its previous revision, or to "
            "to_revision. Mutating.",
            _obj(
                {
                    "name": {"type": "string", "description": "deployment name"},
                    "namespace": NS_REQ,
                    "to_revision": {"type": "integer", "minimum": 1},
                },
                ["name", "namespace"],
            ),
            ch.plan_undo,
            summary("undo", "deployment"),
        ),
        (
            "delete_resource",
            "kubectl delete: delete one object of any kind; propagation_policy Background "
            "(default), Foreground or Orphan. Mutating: deleting a namespace needs its name "
            "typed by the user.",
            _obj(
                {
                    **named,
                    "propagation_policy": {
                        "type": "string",
                        "enum": ["Background", "Foreground", "Orphan"],
                    },
                },
                ["kind", "name"],
            ),
            ch.plan_delete,
            summary("delete"),
        ),
    ):
        handler, dry_run = ch.runner(name, plan)
        specs.append((name, desc, params, handler, dry_run, summarize))
    specs.append(
        (
            "exec_in_container",
            "kubectl exec: run a command (no shell unless you call one) in a pod's container "
            "and return its output. Mutating: the command may change the container; the user "
            "approves each call.",
            _obj(
                {
                    "namespace": NS_REQ,
                    "pod_name": {"type": "string", "description": "pod name"},
                    "container": {"type": "string", "description": "default: the first"},
                    "command": {"type": "array", "items": {"type": "string"}},
                },
                ["namespace", "pod_name", "command"],
            ),
            ch.exec_in_container,
            ch.exec_dry_run,
            summary("exec", "pod"),
        )
    )
    return specs
