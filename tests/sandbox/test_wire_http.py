"""The wire formats over plain HTTP: answers in protobuf for a client that accepts only that,
the OpenAPI documents, and fieldValidation's Warn and Strict modes."""

from __future__ import annotations

import http.client
import json
import struct
import threading
from typing import Any
from urllib.parse import urlsplit

from opsconsole.sandbox.wire.protobuf import MEDIA_TYPE, schema
from tests.sandbox.conftest import raw_get, wait_for

PB = MEDIA_TYPE


def _request(
    srv: Any, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    u = urlsplit(srv.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_a_protobuf_only_client_gets_protobuf(sandbox: Any):
    s = schema()
    code, headers, body = _request(sandbox, "GET", "/api/v1/namespaces/shop", {"Accept": PB})
    assert code == 200 and headers["content-type"] == PB
    ns = s.decode_object(body)
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == "shop"
    assert ns["status"]["phase"] == "Active"
    code, headers, body = _request(sandbox, "GET", "/api/v1/namespaces/shop/pods", {"Accept": PB})
    pods = s.decode_object(body)
    assert code == 200 and pods["kind"] == "PodList"
    _, as_json = raw_get(sandbox, "/api/v1/namespaces/shop/pods")
    assert [p["metadata"]["name"] for p in pods["items"]] == [
        p["metadata"]["name"] for p in as_json["items"]
    ]
    web = next(p for p in pods["items"] if p["metadata"]["name"].startswith("web-"))
    assert [c["name"] for c in web["spec"]["containers"]] == ["web", "envoy"]
    # an error is a protobuf Status
    code, headers, body = _request(
        sandbox, "GET", "/api/v1/namespaces/shop/pods/nope", {"Accept": PB}
    )
    st = s.decode_object(body)
    assert code == 404 and st["kind"] == "Status" and st["code"] == 404
    assert st["message"] == 'pods "nope" not found'
    # JSON stays the answer when JSON is acceptable too (kubectl's Accept lists both)
    _, headers, _ = _request(
        sandbox, "GET", "/api/v1/namespaces/shop", {"Accept": f"{PB},application/json"}
    )
    assert headers["content-type"] == "application/json"
    # a Table has no protobuf form here
    table = f"{PB};as=Table;v=v1;g=meta.k8s.io"
    code, _, body = _request(sandbox, "GET", "/api/v1/namespaces/shop/pods", {"Accept": table})
    assert code == 406 and json.loads(body)["reason"] == "NotAcceptable"


def test_protobuf_create_and_watch(fresh_sandbox: Any):
    srv = fresh_sandbox(scenario="clean")
    s = schema()
    frames: list[tuple[str, dict]] = []
    ready = threading.Event()

    def watch() -> None:
        u = urlsplit(srv.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request(
            "GET",
            "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=20",
            headers={"Accept": f"{PB};stream=watch"},
        )
        r = conn.getresponse()
        assert r.getheader("Content-Type") == f"{PB};stream=watch"
        ready.set()
        while len(frames) < 2:
            (n,) = struct.unpack(">I", r.read(4))
            frames.append(s.decode_watch_event(r.read(n)))
        conn.close()

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    assert ready.wait(30)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pb"}, "data": {"k": "v"}}
    body = s.encode_object(cm) or b""
    code, headers, out = _request(
        srv,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"Content-Type": PB, "Accept": PB},
        body,
    )
    assert code == 201 and headers["content-type"] == PB
    created = s.decode_object(out)
    assert created["data"] == {"k": "v"} and created["metadata"]["uid"]
    _request(srv, "DELETE", "/api/v1/namespaces/default/configmaps/pb")
    wait_for(lambda: len(frames) == 2)
    assert [(e, o["metadata"]["name"]) for e, o in frames] == [("ADDED", "pb"), ("DELETED", "pb")]
    assert frames[0][1]["data"] == {"k": "v"}


def test_a_malformed_protobuf_body_is_a_400(sandbox: Any):
    code, _, body = _request(
        sandbox,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        {"Content-Type": PB},
        b"k8s\x00\x0a\xff\xff",
    )
    st = json.loads(body)
    assert code == 400 and st["reason"] == "BadRequest"
    assert st["message"].startswith("the body of the request was in an unknown format")


def test_openapi_v3_index_and_documents(sandbox: Any):
    code, index = raw_get(sandbox, "/openapi/v3")
    assert code == 200
    paths = index["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1"} <= set(
        paths
    )
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    code, headers, body = _request(sandbox, "GET", url)
    assert code == 200 and headers["cache-control"] == "public, immutable"
    doc = json.loads(body)
    assert doc["openapi"] == "3.0.0"
    dep = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert dep["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    containers = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"][
        "containers"
    ]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "fieldValidation" in {p["name"] for p in patch["parameters"]}
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    # a stale hash is redirected to the current one, as the real server does
    code, headers, _ = _request(sandbox, "GET", "/openapi/v3/apis/apps/v1?hash=0")
    assert code == 301 and headers["location"] == url


def test_openapi_v2(sandbox: Any):
    code, doc = raw_get(sandbox, "/openapi/v2", {"Accept": "application/json"})
    assert code == 200 and doc["swagger"] == "2.0" and doc["info"]["version"] == "v1.31.2"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
    assert "enum" not in pod["properties"]["kind"]
    quantity = doc["definitions"]["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert quantity["type"] == "string"
    code, headers, body = _request(
        sandbox,
        "GET",
        "/openapi/v2",
        {"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"},
    )
    assert code == 200
    assert headers["content-type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert body[:1] == b"\x0a" and b"io.k8s.api.core.v1.Pod" in body


def test_field_validation_warn_and_strict(fresh_sandbox: Any):
    srv = fresh_sandbox(scenario="clean")
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "w", "colour": "blue"},
        "data": {"a": "b"},
        "extra": 1,
    }
    body = json.dumps(cm).encode()
    ctype = {"Content-Type": "application/json"}
    code, headers, out = _request(srv, "POST", "/api/v1/namespaces/default/configmaps", ctype, body)
    assert code == 201  # Warn, the default: dropped, with a warning each
    assert headers["warning"] == (
        '299 - "unknown field \\"metadata.colour\\"", 299 - "unknown field \\"extra\\""'
    )
    stored = json.loads(out)
    assert "colour" not in stored["metadata"] and "extra" not in stored
    cm["metadata"]["name"] = "s"
    code, _, out = _request(
        srv,
        "POST",
        "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
        ctype,
        json.dumps(cm).encode(),
    )
    st = json.loads(out)
    assert code == 400 and st["reason"] == "BadRequest"
    assert st["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "metadata.colour", unknown field "extra"'
    )
    code, _, _ = _request(
        srv, "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Bogus", ctype, body
    )
    assert code == 400
