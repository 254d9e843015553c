"""Redaction (S8, S9): secrets never leave a tool; look-alikes stay readable.

Table-driven: every row of SECRETS is a text and the secret values in it that must not survive
``redact()``; every row of LOOK_ALIKES is a text that must come back unchanged. The fake
credentials are built from a seeded generator (never a real credential in the repository).
"""

from __future__ import annotations

import random
import string

import pytest

from opsconsole.redact import REDACTED, is_secret_key, redact, redact_obj, secret_spans

_RND = random.Random(20261125)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def fake(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RND.choice(alphabet) for _ in range(n))


HEX = "0123456789abcdef"
LOWER_ALNUM = string.ascii_lowercase + string.digits
PEM_BODY = [fake(64, B64) for _ in range(5)] + [fake(20, B64) + "=="]
PEM = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"])
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0." + fake(43, ALNUM + "-_")
AWS_SECRET = fake(40, B64)
AWS_ID = "AKIA" + fake(16, string.ascii_uppercase + "234567")
GH_PAT = "github_pat_" + fake(22) + "_" + fake(59)
GHP = "ghp_" + fake(36)
GLPAT = "glpat-" + fake(20, ALNUM + "-_")
SK_LIVE = "sk_live_" + fake(99)
RK_LIVE = "rk_live_" + fake(24)
SLACK_BOT = "xoxb-" + fake(12, string.digits) + "-" + fake(13, string.digits) + "-" + fake(24)
SLACK_HOOK = f"https://hooks.slack.com/services/T{fake(8)}/B{fake(10)}/{fake(24)}"
DEEPSEEK = "sk-" + fake(32, HEX)
OPENAI_PROJ = "sk-proj-" + fake(48, ALNUM + "-_")
GOOGLE = "AIza" + fake(35, ALNUM + "-_")
SENDGRID = "SG." + fake(22, ALNUM + "-_") + "." + fake(43, ALNUM + "-_")
AZURE_KEY = fake(86, B64) + "=="
SENTRY_KEY = fake(32, HEX)
NPM = "npm_" + fake(36)
VAULT = "hvs." + fake(90, ALNUM + "_-")
ALIYUN = "LTAI" + fake(20)
DOCKER_AUTH = "ZGVwbG95OlMzY3JldC1wYXNz"  # base64 of deploy:S3cret-pass
TWILIO = "SK" + fake(32, HEX)
TELEGRAM = "123456789:" + fake(35, ALNUM + "_-")
PYPI = "pypi-AgEIcHlwaS5vcmc" + fake(80, ALNUM + "-_")
DISCORD_HOOK = f"https://discord.com/api/webhooks/{fake(18, string.digits)}/{fake(68)}"
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa".replace("x", "0")
FEISHU = "https://open.feishu.cn/open-apis/bot/v2/hook/" + WECOM_KEY.replace("693a", "c1f2")
RANDOM_SIG = fake(43, ALNUM + "%")
GRAFANA = "glsa_" + fake(32) + "_" + fake(8, HEX)
PEM_B64 = "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVBN2JxCg=="


SECRETS: list[tuple[str, str, list[str]]] = [
    # id, text, the secret values that must be gone
    ("aws-secret-env", f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", [AWS_SECRET]),
    ("aws-key-id", f"aws_access_key_id: {AWS_ID}", [AWS_ID]),
    ("aws-key-id-bare", f"using credentials {AWS_ID} for s3", [AWS_ID]),
    ("bearer-header", f"Authorization: Bearer {JWT}", [JWT]),
    ("basic-header", "authorization: Basic ZGVwbG95OlMzY3JldA==", ["ZGVwbG95OlMzY3JldA=="]),
    ("proxy-auth", "Proxy-Authorization: Basic YWxpY2U6czNjcjN0", ["YWxpY2U6czNjcjN0"]),
    ("jwt-bare", f"GET /api token {JWT} ok", [JWT, JWT.split(".")[2]]),
    ("pem-rsa", PEM, PEM_BODY),
    (
        "pem-truncated",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY[0] + "\n(cut)",
        PEM_BODY[:1],
    ),
    ("pem-json-escaped", '{"tls.key":"' + PEM.replace("\n", "\\n") + '\\n"}', PEM_BODY),
    ("pem-one-line", "KEY=" + PEM.replace("\n", " "), PEM_BODY),
    (
        "pem-log-timestamps",
        "\n".join(f"2026-11-25T10:00:0{i}.123456789Z {ln}" for i, ln in enumerate(PEM.split("\n"))),
        PEM_BODY,
    ),
    ("pem-orphan-body", "\n".join(PEM.split("\n")[3:]), PEM_BODY[2:]),
    ("pem-b64", f"    tls.key: {PEM_B64}", [PEM_B64[:40]]),
    ("pem-b64-bare", f"blob {PEM_B64} end", [PEM_B64[:40]]),
    ("env-password", "DB_PASSWORD=hunter2", ["hunter2"]),
    ("json-password", '{"password": "hunter2"}', ["hunter2"]),
    ("json-escaped-password", '{"log":"{\\"password\\": \\"hunter2x\\"}"}', ["hunter2x"]),
    ("yaml-quoted", "password: 'hunter2'", ["hunter2"]),
    ("yaml-spaces", "  password: correct horse battery staple\n", ["correct horse", "staple"]),
    ("kv-in-line", "login ok user=bob passwd=hunter2 next", ["hunter2"]),
    ("api-key", "STRIPE_API_KEY=hunter2", ["hunter2"]),
    ("client-secret-query", "client_secret=hunter2&grant_type=x", ["hunter2"]),
    ("password-slash-at", "DB_PASS=p@ss/w0rd!x user=app", ["p@ss/w0rd!x"]),
    (
        "url-password",
        "DATABASE_URL=postgres://app:Sup3rS3cret@db.shop:5432/orders",
        ["Sup3rS3cret"],
    ),
    ("url-srv", "mongodb+srv://root:Sup3rS3cret@cluster0/x", ["Sup3rS3cret"]),
    ("url-no-user", "REDIS_URL=redis://:r3disPw@redis-0.shop:6379/0", ["r3disPw"]),
    ("url-pw-slash-at", "amqp://app:p@ss/w0rd@rabbit.shop:5672/", ["p@ss/w0rd"]),
    ("url-in-json", '{"dsn":"mysql://root:myS3cret@mysql:3306/db"}', ["myS3cret"]),
    ("secret-yaml", "kind: Secret\ndata:\n  password: aHVudGVyMg==\n", ["aHVudGVyMg=="]),
    ("secret-json", '{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}', ["aHVudGVyMg=="]),
    (
        "secret-last-applied",
        'kubectl.kubernetes.io/last-applied-configuration: {"apiVersion":"v1","data":'
        '{"api":"c2VjcmV0dmFsdWU="},"kind":"Secret","metadata":{"name":"x"}}',
        ["c2VjcmV0dmFsdWU="],
    ),
    ("string-data", "kind: Secret\nstringData:\n  token: hunter2\n", ["hunter2"]),
    ("deepseek-key", f"OPENAI key {DEEPSEEK} used", [DEEPSEEK]),
    ("openai-project-key", f"client = OpenAI(api_key={OPENAI_PROJ!r})", [OPENAI_PROJ]),
    ("kubeconfig-token", "users:\n- name: u\n  user:\n    token: hunter2abc\n", ["hunter2abc"]),
    ("kubeconfig-client-key", f"    client-key-data: {PEM_B64}", [PEM_B64[:40]]),
    ("redis-requirepass", "redis-server --requirepass s3cr3tPass --port 6379", ["s3cr3tPass"]),
    ("flag-password-space", "mongosh --username app --password s3cr3tPass", ["s3cr3tPass"]),
    ("flag-token-quoted", 'kubeadm join --token "abcdef.0123456789abcdef" x', ["0123456789abcdef"]),
    ("flag-args-list", 'args: ["--requirepass", "s3cr3tPass"]', ["s3cr3tPass"]),
    ("flag-describe-args", "    Args:\n      --password\n      s3cr3tPass\n", ["s3cr3tPass"]),
    ("mysql-p", "mysql -h db -u root -pS3cr3tPw shop", ["S3cr3tPw"]),
    ("mysqldump-p", "mysqldump -uroot -p'S3cr3t Pw' shop", ["S3cr3t Pw"]),
    ("curl-u", "curl -u admin:S3cr3tPw https://api.shop/health", ["S3cr3tPw"]),
    ("curl-user", "curl -s --user 'admin:S3cr3tPw' https://api.shop/", ["S3cr3tPw"]),
    ("redis-cli-a", "redis-cli -h redis -a S3cr3tPw ping", ["S3cr3tPw"]),
    (
        "cookie",
        "Cookie: _ga=GA1.2.3; session=8f1c2a9d0e7b; csrftoken=Zx81",
        ["8f1c2a9d0e7b", "Zx81"],
    ),
    ("set-cookie", "Set-Cookie: sid=s%3A9fKx2.q1w2e3; Path=/; HttpOnly", ["s%3A9fKx2.q1w2e3"]),
    ("cookie-json", '{"headers":{"cookie":"session=8f1c2a9d0e7b"}}', ["8f1c2a9d0e7b"]),
    ("github-fine-grained", f"GH={GH_PAT}", [GH_PAT]),
    ("github-classic", f"remote: https://x-access:{GHP}@github.com/o/r", [GHP]),
    ("github-classic-bare", f"pushed with {GHP}", [GHP]),
    ("gitlab", f"CI_TOKEN_X {GLPAT}", [GLPAT]),
    ("stripe-live", f"charge failed key {SK_LIVE}", [SK_LIVE, SK_LIVE[30:]]),
    ("stripe-restricted", f"using {RK_LIVE}", [RK_LIVE]),
    ("slack-token", f"slack {SLACK_BOT}", [SLACK_BOT]),
    ("slack-webhook", f"notify {SLACK_HOOK}", [SLACK_HOOK.rsplit("/", 1)[1]]),
    ("discord-webhook", f"hook={DISCORD_HOOK}", [DISCORD_HOOK.rsplit("/", 1)[1]]),
    ("google-api-key", f"maps {GOOGLE}", [GOOGLE]),
    ("sendgrid", f"mail via {SENDGRID}", [SENDGRID]),
    (
        "azure-account-key",
        "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey="
        f"{AZURE_KEY};EndpointSuffix=core.windows.net",
        [AZURE_KEY],
    ),
    (
        "azure-sas-sig",
        f"https://shop.blob.core.windows.net/c?sv=2022&sig={RANDOM_SIG}",
        [RANDOM_SIG],
    ),
    ("sentry-dsn", f"SENTRY_DSN=https://{SENTRY_KEY}@o4504.ingest.sentry.io/45", [SENTRY_KEY]),
    ("docker-auth", '{"auths":{"registry.shop":{"auth":"' + DOCKER_AUTH + '"}}}', [DOCKER_AUTH]),
    ("npm-token", f"//registry.npmjs.org/:_authToken={NPM}", [NPM]),
    ("npm-token-bare", f"token {NPM} rotated", [NPM]),
    ("vault-token", f"vault login {VAULT}", [VAULT]),
    ("aliyun-key-id", f"aliyun AccessKeyId {ALIYUN}", [ALIYUN]),
    ("aliyun-secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=Yx8" + "k" * 3 + "q2Lm0", ["Yx8kkkq2Lm0"]),
    ("twilio-key", f"twilio {TWILIO}", [TWILIO]),
    (
        "telegram-bot",
        f"POST https://api.telegram.org/bot{TELEGRAM}/sendMessage",
        [TELEGRAM.split(":")[1]],
    ),
    ("pypi-token", f"TWINE_PASSWORD={PYPI}", [PYPI]),
    ("grafana-sa", f"grafana {GRAFANA}", [GRAFANA]),
    ("zh-password", "数据库密码=hunter2", ["hunter2"]),
    ("zh-password-fullwidth", "登录用户：admin，密码：S3cr3tPw", ["S3cr3tPw"]),
    ("zh-key", "访问密钥: Yx8kq2Lm0Pw", ["Yx8kq2Lm0Pw"]),
    ("zh-token", "令牌=abc123xyz", ["abc123xyz"]),
    (
        "wecom-webhook",
        f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
        [WECOM_KEY],
    ),
    ("feishu-webhook", FEISHU, [FEISHU.rsplit("/", 1)[1]]),
    (
        "env-entry-yaml",
        "    env:\n    - name: DB_PASSWORD\n      value: sandbox-fake-password-123\n",
        ["sandbox-fake-password-123"],
    ),
    (
        "env-entry-json",
        '"env":[{"name":"API_TOKEN","value":"t0k3n-v4lue"}]',
        ["t0k3n-v4lue"],
    ),
    ("signature-entropy", f"X-Amz-Signature={fake(64, HEX)}", []),
    ("tls-key-file-content", "tls.key: " + PEM.replace("\n", "\\n"), PEM_BODY),
    ("connection-string", "Server=db;Database=shop;User Id=sa;Password=S3cr3t;", ["S3cr3t"]),
    ("private-key-env", "PRIVATE_KEY=9f8e7d6c5b4a", ["9f8e7d6c5b4a"]),
    ("passphrase", "ssh-keygen passphrase=Tr0ub4dor", ["Tr0ub4dor"]),
    ("openssl-passin", "openssl rsa -in k.pem -passin pass:Tr0ub4dor", ["Tr0ub4dor"]),
]


@pytest.mark.parametrize("name,text,secrets", SECRETS, ids=[s[0] for s in SECRETS])
def test_secrets_are_redacted(name: str, text: str, secrets: list[str]) -> None:
    out = redact(text)
    assert REDACTED in out, out
    for secret in secrets:
        assert secret not in out, (secret, out)
    if name == "signature-entropy":
        assert out == f"X-Amz-Signature={REDACTED}"


LOOK_ALIKES: list[tuple[str, str]] = [
    ("health", "GET /healthz 200 12ms"),
    ("taint", "taint nvidia.com/gpu=present:NoSchedule"),
    ("volume", "volume db-creds: Secret db-creds"),
    ("image-tag", "image: shop/api:1.4.2"),
    ("url-port", "url https://api.example.com:8443/v1/orders"),
    ("tests-passed", "tests passed=3 failed=0"),
    ("zh-log", "2026-11-25 INFO 用户登录成功 订单=42"),
    ("pod-name", "payment-api-fzqmjlq8xg-6zpf2   0/1   CrashLoopBackOff   14   3h"),
    ("image-digest", "image: shop/api@sha256:" + fake(64, HEX)),
    ("image-id", "Image ID: docker.io/library/redis@sha256:" + fake(64, HEX)),
    ("git-sha-tag", "image: registry.example.com/shop/web:git-" + fake(40, HEX)),
    ("resource-version", 'resourceVersion: "184467"'),
    ("uid", "uid: 6f1c2a4e-93b2-4c1d-8a7e-2b9f0c3d4e5f"),
    ("uid-json", '{"uid":"6f1c2a4e-93b2-4c1d-8a7e-2b9f0c3d4e5f","name":"web"}'),
    ("configmap-b64", "kind: ConfigMap\ndata:\n  logo.txt: " + fake(40, B64) + "==\n"),
    (
        "configmap-json",
        '{"kind":"ConfigMap","data":{"gateway_endpoint":"http://pay.gw:8080","blob":"'
        + fake(40, B64)
        + '"}}',
    ),
    ("timestamp", "2026-11-25T10:00:00.123456789Z INFO started in 12ms"),
    ("ipv4", '10.244.1.17 - - [25/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512'),
    ("ipv6", "listening on [fd00:10:244::1a]:8080"),
    ("password-file", "password_file=/run/secrets/db-password"),
    ("password-file-flag", "--password-file /run/secrets/db-password"),
    ("secret-name", "secretName: payment-api-tls"),
    (
        "secret-key-ref",
        "valueFrom:\n  secretKeyRef:\n    name: postgres-credentials\n    key: password",
    ),
    ("token-path", "tokenPath: /var/run/secrets/kubernetes.io/serviceaccount/token"),
    ("automount", "automountServiceAccountToken: false"),
    ("token-count", "tokens=1532 prompt_tokens=900 completion_tokens=40"),
    ("max-tokens", '"max_tokens": 4096'),
    ("key-label", "- key: app\n  operator: In"),
    ("cache-key", "cache key=orders:42 hit"),
    (
        "describe-env-ref",
        "      DB_PASSWORD:  <set to the key 'password' in secret 'pg'>  Optional: false",
    ),
    ("describe-secret-sizes", "Data\n====\npassword:  24 bytes\nusername:  8 bytes"),
    ("password-auth-failed", 'FATAL:  password authentication failed for user "app"'),
    ("natural-password", "my password is hunter2"),
    ("natural-zh", "我的密码是 hunter2"),
    ("placeholder-env", "DB_PASSWORD=${DB_PASSWORD}"),
    ("placeholder-helm", "password: {{ .Values.db.password }}"),
    ("stars", "password: ********"),
    ("empty", 'password: ""'),
    ("bool-flag", "--no-password --verbose"),
    ("password-stdin", "docker login --password-stdin -u bob registry.io"),
    ("docker-user", "docker run -u 1000:1000 busybox"),
    ("cert-b64", "certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM="),
    (
        "cert-pem",
        "-----BEGIN CERTIFICATE-----\nMIIC" + fake(60, B64) + "\n-----END CERTIFICATE-----",
    ),
    ("public-key", "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG" + fake(30, B64)),
    ("url-with-user-no-pw", "git clone https://git@github.com/o/r.git"),
    ("email-in-url", "https://api.shop/v1/users?email=bob@example.com&page=2"),
    ("email", "notify oncall@example.com about payment-api"),
    (
        "k8s-event",
        "Warning  BackOff  3m (x14 over 1h)  kubelet  Back-off restarting failed container",
    ),
    ("probe", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
    ("node-cidr", "podCIDR: 10.244.3.0/24"),
    ("hash-in-log", "build " + fake(40, HEX) + " deployed"),
    ("base64-in-log", "payload " + fake(44, B64) + "= accepted"),
    ("sk-word", "task-runner sk-learn pipeline ok"),
    ("keyword-arg", "key=value pairs parsed: 12"),
    ("monkey", "MONKEY=banana LOG_LEVEL=debug"),
    ("bypass", "bypass=true compass=north"),
    ("tokenizer", "loaded tokenizer vocab 32000 tokens"),
    ("secret-count", "secret_count=3 found in namespace shop"),
    ("jwt-word", "eyJ prefix alone"),
    (
        "kubectl-table",
        "NAME                      TYPE     DATA   AGE\npostgres-credentials   Opaque   2      20d",
    ),
    ("mysql-port", "mysql -h db -P 3306 -u root -p shop"),
    ("cookie-word", "cookie consent banner shown"),
    ("auth-enabled", "auth: enabled"),
    ("auth-ok", "auth=ok user=bob"),
    ("sig-short", "sig=v1 algo=sha256"),
    ("access-key-id", "AWS_ACCESS_KEY_ID is not set"),
    ("semver", "version: v1.31.2+k3s1"),
    ("quantity", "memory: 128Mi cpu: 500m"),
    ("go-duration", "backoff 5m0s (x14)"),
    ("redacted-already", "password=[REDACTED] token: [REDACTED]"),
    ("key-path", "tls.key path /etc/tls/tls.key mounted"),
    ("zh-password-wrong", "登录失败，原因：用户名或密码错误"),
    ("generic-hex-id", f"request_id={fake(32, HEX)} trace_id={fake(32, HEX)}"),
]


@pytest.mark.parametrize("name,text", LOOK_ALIKES, ids=[s[0] for s in LOOK_ALIKES])
def test_look_alikes_are_left_alone(name: str, text: str) -> None:
    assert redact(text) == text


def test_tables_are_big_enough() -> None:
    assert len(SECRETS) >= 60 and len(LOOK_ALIKES) >= 60
    assert len({s[0] for s in SECRETS}) == len(SECRETS)
    assert len({s[0] for s in LOOK_ALIKES}) == len(LOOK_ALIKES)


def test_keeps_shape_around_redactions() -> None:
    assert redact("Authorization: Bearer abcdefghijkl") == f"Authorization: Bearer {REDACTED}"
    assert redact("postgres://app:pw123@db/x") == f"postgres://app:{REDACTED}@db/x"
    assert redact("DB_PASSWORD=x1") == f"DB_PASSWORD={REDACTED}"
    assert redact('"password": "a b"') == f'"password": "{REDACTED}"'
    assert redact(PEM) == (
        f"-----BEGIN RSA PRIVATE KEY-----\n{REDACTED}\n-----END RSA PRIVATE KEY-----"
    )
    assert redact("Set-Cookie: sid=abc; Path=/") == f"Set-Cookie: sid={REDACTED}; Path=/"


def test_nothing_after_a_private_key_is_lost() -> None:
    """The session copy of a describe/log output was cut after a PEM block (issue item 5)."""
    text = f"<untrusted-log pod=shop/web>\nstart\n{PEM}\nafter the key\n</untrusted-log>"
    once = redact(text)
    assert once.endswith("-----END RSA PRIVATE KEY-----\nafter the key\n</untrusted-log>")
    assert redact(once) == once


def test_secret_spans_cover_exactly_what_is_replaced() -> None:
    text = "a DB_PASSWORD=hunter2 b postgres://u:pw@h/x c"
    spans = secret_spans(text)
    assert [text[s:e] for s, e in spans] == ["hunter2", "pw"]


def test_redact_obj_secret_and_env_and_kubeconfig() -> None:
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
    cm = {"kind": "ConfigMap", "data": {"blob": fake(40, B64)}}
    assert redact_obj(cm) == cm
    docker = {"auths": {"registry.shop": {"auth": DOCKER_AUTH, "email": "ci@shop"}}}
    assert redact_obj(docker)["auths"]["registry.shop"] == {"auth": REDACTED, "email": "ci@shop"}
    assert redact_obj({"密码": "hunter2"}) == {"密码": REDACTED}


def test_is_secret_key() -> None:
    for k in ("DB_PASSWORD", "api_key", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "secret"):
        assert is_secret_key(k), k
    for k in ("AccountKey", "client-key-data", "tls.key", "requirepass", "数据库密码", "DB_PASS"):
        assert is_secret_key(k), k
    for k in ("secretName", "key", "MONKEY", "LOG_LEVEL", "tokenPath", "AWS_ACCESS_KEY_ID"):
        assert not is_secret_key(k), k
    for k in ("cache_key", "public_key", "password_file", "max_tokens", "passed", "bypass"):
        assert not is_secret_key(k), k


def test_token_counts_and_boolean_flags_are_not_secrets() -> None:
    usage = redact_obj({"prompt_tokens": 5, "completion_tokens": 3, "api_token": "abc"})
    assert usage == {"prompt_tokens": 5, "completion_tokens": 3, "api_token": "[REDACTED]"}
    text = redact("automountServiceAccountToken: false\nDB_PASSWORD=abc123")
    assert "automountServiceAccountToken: false" in text
    assert "abc123" not in text


def test_bad_input_is_returned_not_raised() -> None:
    for text in ("", "\x00\x01", "İ" * 100 + "password=x", "\ud800 password=x", "a" * 100_000):
        out = redact(text)
        assert isinstance(out, str)
    assert "password=x" not in redact("İ" * 100 + " password=xyz")
    assert redact_obj(None) is None and redact_obj(3) == 3 and redact_obj(b"x") == b"x"


def test_long_texts_are_redacted_the_same_every_time() -> None:
    """Long texts (a 5 MB answer) are remembered with their result; the result must be the
    redaction of exactly that text, and a different long text is not answered from memory."""
    filler = "ordinary line of an answer with a pod name web-7d4b9c-x2k\n" * 3000
    one = filler + "password=hunter2-secret\n" + filler
    two = filler + "password=another-secret\n" + filler
    first = redact(one)
    assert "hunter2-secret" not in first and first.count("\n") == one.count("\n")
    assert redact(one) == first
    assert redact(first) == first  # idempotent, from memory or not
    second = redact(two)
    assert "another-secret" not in second and second != one
    for n in range(12):  # more long texts than are kept: the earliest is redacted again
        redact(filler + f"token={n}\n")
    assert redact(one) == first
