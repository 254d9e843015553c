"""Redaction (S8, S9): secrets never leave a tool."""

from __future__ import annotations

import pytest

from opsconsole.k8s.redact import REDACTED, is_secret_key, redact, redact_obj

SECRET_VALUES = [
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
    "MIIEowIBAAKCAQEA7bq",
    "hunter2",
    "Sup3rS3cret",
    "aHVudGVyMg==",
    "sk-abcdefghijklmnopqrstuv",
]


@pytest.mark.parametrize(
    "text,secret",
    [
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SECRET_VALUES[0]),
        ("aws_access_key_id: AKIAIOSFODNN7EXAMPLE", SECRET_VALUES[1]),
        ("AWS_SECRET_ACCESS_KEY=AKIAIOSFODNN7EXAMPLE", SECRET_VALUES[1]),
        (f"Authorization: Bearer {SECRET_VALUES[2]}", SECRET_VALUES[2]),
        (f"GET /api token {SECRET_VALUES[2]} ok", SECRET_VALUES[2]),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----",
            SECRET_VALUES[3],
        ),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n(cut)", SECRET_VALUES[3]),
        ("DB_PASSWORD=hunter2", "hunter2"),
        ('{"password": "hunter2"}', "hunter2"),
        ("password: 'hunter2'", "hunter2"),
        ("login ok user=bob passwd=hunter2 next", "hunter2"),
        ("STRIPE_API_KEY=hunter2", "hunter2"),
        ("client_secret=hunter2&grant_type=x", "hunter2"),
        ("DATABASE_URL=postgres://app:Sup3rS3cret@db.shop:5432/orders", "Sup3rS3cret"),
        ("mongodb+srv://root:Sup3rS3cret@cluster0/x", "Sup3rS3cret"),
        ("kind: Secret\ndata:\n  password: aHVudGVyMg==\n", "aHVudGVyMg=="),
        ('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}', "aHVudGVyMg=="),
        ("stringData:\n  token: hunter2\n", "hunter2"),
        ("OPENAI key sk-abcdefghijklmnopqrstuv used", SECRET_VALUES[7]),
        ("users:\n- name: u\n  user:\n    token: hunter2\n", "hunter2"),
        ("    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=", "LS0tLS1CRUdJTi"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str):
    out = redact(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "GET /healthz 200 12ms",
        "taint nvidia.com/gpu=present:NoSchedule",
        "volume db-creds: Secret db-creds",
        "image: shop/api:1.4.2",
        "url https://api.example.com:8443/v1/orders",
        "tests passed=3 failed=0",
        "2026-11-25 INFO 用户登录成功 订单=42",
    ],
)
def test_ordinary_text_is_left_alone(text: str):
    assert redact(text) == text


def test_keeps_shape_around_redactions():
    assert redact("Authorization: Bearer abcdefghijkl") == f"Authorization: Bearer {REDACTED}"
    assert redact("postgres://app:pw123@db/x") == f"postgres://app:{REDACTED}@db/x"
    assert redact("DB_PASSWORD=x1") == f"DB_PASSWORD={REDACTED}"


def test_redact_obj_secret_and_env_and_kubeconfig():
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "aHVudGVy"}}
    assert redact_obj(secret)["data"] == {"password": REDACTED}
    assert redact_obj(secret)["metadata"] == {"name": "db"}
    env = [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "MODE", "value": "prod"}]
    assert redact_obj(env) == [
        {"name": "DB_PASSWORD", "value": REDACTED},
        {"name": "MODE", "value": "prod"},
    ]
    kc = {"users": [{"name": "u", "user": {"token": "abc", "client-key-data": "LS0t"}}]}
    red = redact_obj(kc)
    assert red["users"][0]["user"] == {"token": REDACTED, "client-key-data": REDACTED}
    assert red["users"][0]["name"] == "u"
    tol = {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}], "secretName": "x"}
    assert redact_obj(tol) == tol


def test_is_secret_key():
    for k in ("DB_PASSWORD", "api_key", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "secret"):
        assert is_secret_key(k), k
    for k in ("secretName", "key", "MONKEY", "LOG_LEVEL", "tokenPath", "AWS_ACCESS_KEY_ID"):
        assert not is_secret_key(k), k


def test_token_counts_and_boolean_flags_are_not_secrets() -> None:
    from opsconsole.k8s.redact import redact, redact_obj

    usage = redact_obj({"prompt_tokens": 5, "completion_tokens": 3, "api_token": "abc"})
    assert usage == {"prompt_tokens": 5, "completion_tokens": 3, "api_token": "[REDACTED]"}
    text = redact("automountServiceAccountToken: false\nDB_PASSWORD=abc123")
    assert "automountServiceAccountToken: false" in text
    assert "abc123" not in text
