"""The protobuf codec on the bodies kubectl really sends (captured by
tools/capture_kubectl_bodies.py), and on the wire format's corners."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from opsconsole.sandbox.wire.protobuf import (
    MAGIC,
    UNKNOWN,
    ProtobufError,
    go_duration,
    parse_go_duration,
    schema,
    wants_only_protobuf,
)

CAPTURED = json.loads((Path(__file__).parent / "data" / "kubectl_protobuf_bodies.json").read_text())


def _no_nulls(o: Any) -> Any:
    """Go's JSON writes a zero Time as null; compare without the nulls, as a server stores it."""
    if isinstance(o, dict):
        return {k: _no_nulls(v) for k, v in o.items() if v is not None}
    if isinstance(o, list):
        return [_no_nulls(v) for v in o]
    return o


@pytest.mark.parametrize("req", CAPTURED["requests"], ids=lambda r: r["label"])
def test_kubectl_body_decodes_to_kubectls_own_json(req: dict):
    assert req["content_type"] == "application/vnd.kubernetes.protobuf"
    body = base64.b64decode(req["body"])
    assert body.startswith(MAGIC)
    obj = schema().decode_object(body)
    if req["kubectl_json"] is not None:
        assert _no_nulls(obj) == _no_nulls(req["kubectl_json"])
    assert obj["kind"] and obj["apiVersion"]


def _captured(label: str) -> dict:
    req = next(r for r in CAPTURED["requests"] if r["label"] == label)
    return schema().decode_object(base64.b64decode(req["body"]))


def test_the_decoded_values_are_the_flags():
    dep = _captured("deployment")
    spec = dep["spec"]
    assert spec["replicas"] == 2
    c = spec["template"]["spec"]["containers"][0]
    assert c == {
        "name": "nginx",
        "image": "nginx:1.27",
        "ports": [{"containerPort": 80}],
        "resources": {},
    }
    assert dep["metadata"]["creationTimestamp"] is None  # a zero Time, as Go's JSON writes it
    # a pointer set to zero survives; a plain zero (minReadySeconds) does not appear
    zero = _captured("deployment-zero")
    assert zero["spec"]["replicas"] == 0 and "minReadySeconds" not in zero["spec"]
    assert _captured("priorityclass-zero")["value"] == 0  # required: never omitted
    secret = _captured("secret-generic")
    assert base64.b64decode(secret["data"]["user"]) == b"admin"  # bytes -> base64
    pdb = _captured("poddisruptionbudget")["spec"]
    assert pdb["minAvailable"] == 1  # IntOrString, the int arm
    assert _captured("poddisruptionbudget-percent")["spec"]["maxUnavailable"] == "0%"
    svc = _captured("service-clusterip")["spec"]["ports"][0]
    assert svc["targetPort"] == 8080 and svc["port"] == 80
    quota = _captured("quota")["spec"]["hard"]
    assert quota == {"cpu": "2", "memory": "1Gi", "pods": "10"}  # Quantity strings
    ssar = _captured("auth-can-i")
    assert ssar["spec"]["resourceAttributes"] == {
        "namespace": "wire",
        "verb": "get",
        "resource": "pods",
    }
    assert ssar["status"] == {"allowed": False}  # required bool, written by Go as false
    token = _captured("create-token")
    assert token["kind"] == "TokenRequest" and token["spec"]["expirationSeconds"] == 600
    ing = _captured("ingress")["spec"]
    assert ing["ingressClassName"] == "nginx"
    path = ing["rules"][0]["http"]["paths"][0]  # IngressRuleValue is inlined into the rule
    assert path["pathType"] == "Prefix" and path["backend"]["service"]["port"]["number"] == 80


@pytest.mark.parametrize("req", CAPTURED["requests"], ids=lambda r: r["label"])
def test_encode_then_decode_is_the_same_object(req: dict):
    s = schema()
    obj = _no_nulls(s.decode_object(base64.b64decode(req["body"])))
    again = s.decode_object(s.encode_object(obj) or b"")
    assert _no_nulls(again) == obj


def test_a_full_pod_round_trips():
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "namespace": "shop",
            "labels": {"app": "web", "tier": "fe"},
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-1",
                    "uid": "u-1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:metadata": {"f:labels": {}}}}],
        },
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "nginx",
                    "env": [
                        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}
                    ],
                    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                    "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
                    "securityContext": {"runAsUser": 0, "privileged": False},
                }
            ],
            "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}],
            "securityContext": {"supplementalGroups": [1, 2, 3]},
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": -1}],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": False,
                    "restartCount": 3,
                    "image": "nginx",
                    "imageID": "",
                    "state": {"running": {"startedAt": "2024-05-01T10:00:05Z"}},
                }
            ],
        },
    }
    s = schema()
    assert s.decode_object(s.encode_object(pod) or b"") == pod


def test_events_micro_time_and_durations():
    s = schema()
    ev = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "eventTime": "2024-05-01T10:00:00.123456Z",
        "count": 2,
    }
    assert s.decode_object(s.encode_object(ev) or b"") == ev
    for ns, text in (
        (0, "0s"),
        (1500 * 10**6, "1.5s"),
        (3600 * 10**9, "1h0m0s"),
        (90 * 10**9, "1m30s"),
        (250 * 10**6, "250ms"),
        (1000, "1µs"),
    ):
        assert go_duration(ns) == text
        assert parse_go_duration(text) == ns


def test_wire_corners():
    s = schema()
    msg = s.message("v1", "Namespace")
    assert msg is not None
    # a packed repeated int64 (proto3 writers) decodes like the unpacked form gogo writes
    sc = s.messages["k8s.io.api.core.v1.PodSecurityContext"]
    packed = bytes([(4 << 3) | 2, 3, 1, 2, 3])
    assert s._decode(packed, 0, len(packed), sc) == {"supplementalGroups": [1, 2, 3]}
    # an unknown field number is skipped, as gogo's unmarshal skips it
    unknown = bytes([(15 << 3) | 0, 7, (1 << 3) | 2, 2]) + b"\x0a\x00"
    ns = s.messages["k8s.io.api.core.v1.Namespace"]
    assert s._decode(unknown, 0, len(unknown), ns) == {"metadata": {}}
    with pytest.raises(ProtobufError, match="protobuf prefix"):
        s.decode_object(b'{"kind": "Namespace"}')
    body = s.encode_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
    assert body is not None
    with pytest.raises(ProtobufError):
        s.decode_object(body[:-3])  # truncated
    widget = {"typeMeta": {"apiVersion": "v1", "kind": "Widget"}, "raw": b""}
    envelope = MAGIC + s._encode(widget, s.messages[UNKNOWN], raw=True)
    with pytest.raises(ProtobufError, match='no kind "Widget" is registered for version "v1"'):
        s.decode_object(envelope)
    assert s.encode_object({"apiVersion": "example.com/v1", "kind": "Widget"}) is None


def test_watch_frames_round_trip():
    s = schema()
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    frame = s.encode_watch_event("ADDED", obj)
    assert frame is not None
    (length,) = struct.unpack(">I", frame[:4])
    assert length == len(frame) - 4
    assert s.decode_watch_event(frame[4:]) == ("ADDED", obj)


def test_accept_negotiation():
    assert wants_only_protobuf("application/vnd.kubernetes.protobuf")
    assert not wants_only_protobuf("application/vnd.kubernetes.protobuf,application/json")
    assert not wants_only_protobuf("application/vnd.kubernetes.protobuf, */*")
    assert not wants_only_protobuf("application/json")
    assert not wants_only_protobuf(None)
