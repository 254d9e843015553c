"""The persistent-volume controller: claims bound to matching volumes or to volumes provisioned
from their StorageClass (the default one when a claim names none), resizes of bound claims.

A claim binds to the smallest Available volume of its class whose capacity, access modes, volume
mode and label selector fit; else, when its class exists and provisions, a volume ``pvc-<uid>`` is
made for it (``Provisioning``/``ProvisioningSucceeded`` events); else it stays Pending with the
event a real controller gives (``ProvisioningFailed``: the class is not found; ``FailedBinding``:
no volume and no class). Growing ``spec.resources.requests.storage`` of a bound claim whose class
has ``allowVolumeExpansion`` grows the volume and the claim's ``status.capacity``; any other
class answers the server's 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .apitypes import ApiError
from .metrics import mem_bytes
from .pods import huid
from .selectors import selector_matches
from .store import Obj, iso

if TYPE_CHECKING:
    from .cluster import Cluster

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
COMPONENT = "persistentvolume-controller"


def _request(pvc: Obj) -> str:
    return str(
        ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0")
    )


class Volumes:
    def __init__(self, cluster: Cluster) -> None:
        self.c = cluster

    # --- admission (what the API server does on create/update of a claim) ------------------
    def default_class(self) -> Obj | None:
        for sc in self.c.store.list("storage.k8s.io/storageclasses"):
            if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true":
                return sc
        return None

    def admit(self, pvc: Obj) -> None:
        """A created claim with no ``storageClassName`` gets the default class's, as the
        DefaultStorageClass admission plugin does."""
        spec = pvc.setdefault("spec", {})
        spec.setdefault("volumeMode", "Filesystem")
        if "storageClassName" not in spec:
            sc = self.default_class()
            if sc is not None:
                spec["storageClassName"] = sc["metadata"]["name"]
        pvc["status"] = {"phase": "Pending"}

    def check_update(self, old: Obj, new: Obj) -> None:
        """Only a bound claim of an expandable class may grow; nothing else in its spec moves."""
        o_spec = old.get("spec") or {}
        if mem_bytes(_request(new)) <= mem_bytes(_request(old)):
            return  # (a shrink is refused by the validation first)
        name = old["metadata"]["name"]
        sc = self.c.store.get(
            "storage.k8s.io/storageclasses", "", o_spec.get("storageClassName") or ""
        )
        if (
            (old.get("status") or {}).get("phase") != "Bound"
            or sc is None
            or not sc.get("allowVolumeExpansion")
        ):
            raise ApiError(
                403,
                "Forbidden",
                f'persistentvolumeclaims "{name}" is forbidden: only dynamically provisioned pvc '
                "can be resized and the storageclass that provisions the pvc must support resize",
                {"name": name, "kind": "persistentvolumeclaims"},
            )

    # --- the controller -------------------------------------------------------------------------
    def pending_claims(self) -> None:
        """A volume or a class appeared: every Pending claim gets another look."""
        for pvc in self.c.store.list("persistentvolumeclaims"):
            if (pvc.get("status") or {}).get("phase") != "Bound":
                md = pvc["metadata"]
                self.c.controllers.dirty.add(("PersistentVolumeClaim", md["namespace"], md["name"]))

    def reconcile_claim(self, ns: str, name: str) -> None:
        c = self.c
        pvc = c.store.get("persistentvolumeclaims", ns, name)
        if pvc is None or "deletionTimestamp" in pvc["metadata"]:
            return
        if (pvc.get("status") or {}).get("phase") == "Bound":
            self.resize(pvc)
            return
        spec = pvc.get("spec") or {}
        cls = spec.get("storageClassName") or ""
        if spec.get("volumeName"):  # pre-bound by the claim: that volume or nothing
            pv = c.store.get("persistentvolumes", "", spec["volumeName"])
            ref = ((pv or {}).get("spec") or {}).get("claimRef") or {}
            if pv is not None and ref.get("name", name) == name and ref.get("namespace", ns) == ns:
                self.bind(pvc, pv)
            return
        pv = self.matching_volume(pvc, cls)
        if pv is None:
            sc = c.store.get("storage.k8s.io/storageclasses", "", cls) if cls else None
            if cls and sc is None:
                c.event(
                    pvc,
                    "Warning",
                    "ProvisioningFailed",
                    f'storageclass.storage.k8s.io "{cls}" not found',
                    component=COMPONENT,
                )
                return
            if sc is None or sc.get("provisioner") == "kubernetes.io/no-provisioner":
                why = (
                    "no persistent volumes available for this claim and no storage class is set"
                    if sc is None
                    else "no volume plugin matched name: kubernetes.io/no-provisioner"
                )
                c.event(
                    pvc,
                    "Normal" if sc is None else "Warning",
                    "FailedBinding" if sc is None else "ProvisioningFailed",
                    why,
                    component=COMPONENT,
                )
                return
            pv = self.provision(pvc, sc)
        self.bind(pvc, pv)

    def matching_volume(self, pvc: Obj, cls: str) -> Obj | None:
        spec = pvc.get("spec") or {}
        want = mem_bytes(_request(pvc))
        modes = set(spec.get("accessModes") or [])
        best: tuple[float, str] | None = None
        chosen = None
        for pv in self.c.store.list("persistentvolumes"):
            pspec = pv.get("spec") or {}
            if (pv.get("status") or {}).get("phase", "Available") != "Available" or pspec.get(
                "claimRef"
            ):
                continue
            if (pspec.get("storageClassName") or "") != cls:
                continue
            if pspec.get("volumeMode", "Filesystem") != spec.get("volumeMode", "Filesystem"):
                continue
            if not modes <= set(pspec.get("accessModes") or []):
                continue
            size = mem_bytes((pspec.get("capacity") or {}).get("storage", "0"))
            if size < want or not selector_matches(
                spec.get("selector") or {}, pv["metadata"].get("labels") or {}
            ):
                continue
            key = (size, pv["metadata"]["name"])
            if best is None or key < best:
                best, chosen = key, pv
        return chosen

    def provision(self, pvc: Obj, sc: Obj) -> Obj:
        c = self.c
        md, spec = pvc["metadata"], pvc.get("spec") or {}
        provisioner = sc.get("provisioner", "")
        c.event(
            pvc,
            "Normal",
            "Provisioning",
            "External provisioner is provisioning volume for claim "
            f'"{md["namespace"]}/{md["name"]}"',
            component=provisioner,
        )
        name = f"pvc-{md['uid']}"
        pv: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "uid": huid(f"pv/{name}"),
                "creationTimestamp": iso(c.now()),
                "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
            },
            "spec": {
                "capacity": {"storage": _request(pvc)},
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                "storageClassName": sc["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "hostPath": {
                    "path": f"/var/local-path-provisioner/{name}_{md['namespace']}_{md['name']}",
                    "type": "DirectoryOrCreate",
                },
            },
            "status": {"phase": "Available"},
        }
        pv = c.store.create("persistentvolumes", pv)
        c.event(
            pvc,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {name}",
            component=provisioner,
        )
        return pv

    def bind(self, pvc: Obj, pv: Obj) -> None:
        c = self.c
        md = pvc["metadata"]
        ns, name, pv_name = md["namespace"], md["name"], pv["metadata"]["name"]
        now = iso(c.now())

        def claim(o: Obj) -> None:
            o["spec"]["claimRef"] = {
                "kind": "PersistentVolumeClaim",
                "namespace": ns,
                "name": name,
                "uid": md["uid"],
                "apiVersion": "v1",
                "resourceVersion": md.get("resourceVersion", ""),
            }
            o.setdefault("metadata", {}).setdefault("annotations", {})[
                "pv.kubernetes.io/bound-by-controller"
            ] = "yes"
            o["status"] = {"phase": "Bound", "lastPhaseTransitionTime": now}

        c.store.update("persistentvolumes", "", pv_name, claim)
        pspec = pv["spec"]

        def bound(o: Obj) -> None:
            o["spec"]["volumeName"] = pv_name
            ann = o["metadata"].setdefault("annotations", {})
            ann["pv.kubernetes.io/bind-completed"] = "yes"
            ann["pv.kubernetes.io/bound-by-controller"] = "yes"
            if "pv.kubernetes.io/provisioned-by" in (pv["metadata"].get("annotations") or {}):
                prov = pv["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"]
                ann["volume.beta.kubernetes.io/storage-provisioner"] = prov
                ann["volume.kubernetes.io/storage-provisioner"] = prov
            o["status"] = {
                "phase": "Bound",
                "accessModes": list(pspec.get("accessModes") or []),
                "capacity": dict(pspec.get("capacity") or {}),
            }

        c.store.update("persistentvolumeclaims", ns, name, bound)
        c.scheduler.soon()  # a pod waiting for this claim may fit now

    def resize(self, pvc: Obj) -> None:
        c = self.c
        md = pvc["metadata"]
        want = _request(pvc)
        have = ((pvc.get("status") or {}).get("capacity") or {}).get("storage", "0")
        if mem_bytes(want) <= mem_bytes(have):
            return
        pv_name = pvc["spec"].get("volumeName", "")
        sc = c.store.get(
            "storage.k8s.io/storageclasses", "", pvc["spec"].get("storageClassName") or ""
        )
        component = (sc or {}).get("provisioner", "external-resizer")
        c.event(
            pvc,
            "Normal",
            "Resizing",
            f"External resizer is resizing volume {pv_name}",
            component=component,
        )

        def grow_pv(o: Obj) -> None:
            o["spec"].setdefault("capacity", {})["storage"] = want

        if c.store.get("persistentvolumes", "", pv_name) is not None:
            c.store.update("persistentvolumes", "", pv_name, grow_pv)

        def grow(o: Obj) -> None:
            st = o.setdefault("status", {})
            st.setdefault("capacity", {})["storage"] = want
            st["allocatedResources"] = {"storage": want}
            st.pop("conditions", None)

        c.store.update("persistentvolumeclaims", md["namespace"], md["name"], grow)
        c.event(
            pvc,
            "Normal",
            "FileSystemResizeSuccessful",
            f'MountVolume.NodeExpandVolume succeeded for volume "{pv_name}"',
            component="kubelet",
        )
