"""User-facing error types.

Every expected failure becomes one of these: a short message a person can act on, plus an
optional hint. The CLI and the UI print ``str(err)``; nobody shows a traceback for them.
Headless: imports nothing heavy.
"""

from __future__ import annotations


class OpsConsoleError(Exception):
    """Base of every expected, user-facing failure."""

    #: process exit code when this error ends a CLI command
    exit_code: int = 1
    #: a stable name of the failure for programs (a tool error's code, see ToolError)
    code: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


# --- configuration and usage -------------------------------------------------------------


class ConfigError(OpsConsoleError):
    """The config file or an override is invalid (file, key, what was expected)."""

    exit_code = 2
    code = "config"


class UsageError(OpsConsoleError):
    exit_code = 2
    code = "usage"


# --- cluster ---------------------------------------------------------------------------


class ClusterError(OpsConsoleError):
    """Base of Kubernetes failures."""

    code = "cluster_error"


class NoClusterConfigured(ClusterError):
    code = "no_cluster"

    def __init__(self, message: str = "no cluster configured", *, hint: str | None = None):
        super().__init__(
            message,
            hint=hint
            or "point KUBECONFIG at a cluster, pass --kubeconfig/--context, "
            "or try the built-in sandbox with `opsconsole --demo`",
        )


class ClusterUnreachable(ClusterError):
    code = "unreachable"


class ClusterTimeout(ClusterError):
    code = "cluster_timeout"


class CredentialsExpired(ClusterError):
    code = "auth"

    def __init__(self, message: str = "credentials expired", *, hint: str | None = None):
        super().__init__(
            message,
            hint=hint or "re-authenticate (e.g. run your exec plugin / cloud login), then retry",
        )


class Forbidden(ClusterError):
    code = "forbidden"


class NotFound(ClusterError):
    code = "not_found"


class Conflict(ClusterError):
    """409/422 on a write: shown verbatim, never retried."""

    code = "conflict"


class InvalidName(ClusterError):
    code = "invalid_argument"


# --- model -----------------------------------------------------------------------------


class ModelError(OpsConsoleError):
    """Base of LLM API failures."""

    retryable: bool = False


class ModelAuthError(ModelError):
    pass


class ModelBalanceError(ModelError):
    pass


class ModelRateLimited(ModelError):
    retryable = True


class ModelUnavailable(ModelError):
    retryable = True


class ModelTimeout(ModelError):
    retryable = True


class ModelContextLength(ModelError):
    pass


class ModelBadRequest(ModelError):
    pass


class ModelStreamInterrupted(ModelError):
    retryable = True


# --- sessions --------------------------------------------------------------------------


class SessionError(OpsConsoleError):
    pass


class SessionLocked(SessionError):
    pass
