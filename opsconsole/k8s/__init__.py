"""The Kubernetes layer (headless; imports ``kubernetes`` lazily, never textual/rich).

- ``client``: :class:`~opsconsole.k8s.client.Cluster` (kubeconfig/context/in-cluster, pinned
  context, timeouts on every call, limited retries, 401 reload, errors -> opsconsole.errors,
  namespace allowlist) and ``gc_paused``/``loads`` for big JSON.
- ``queries``: paged lists into rows, get/describe, events, deployments, nodes, services,
  endpoints, metrics; mutations with server-side ``dry_run``.
- ``logs``: bounded ``read_logs`` and the cancellable ``follow_logs``.
- ``watch``: ``watch_pods`` yielding ``("SYNC", rows)`` then per-pod events, relisting on 410.
- redaction lives in :mod:`opsconsole.redact` (the core layer): every tool's text and data
  go through it before anything reaches a model or a file.
- ``analyzers`` + ``health``: deterministic findings; ``render``: compact text within budget.
- ``tools``: ``build_k8s_tools(cluster, settings)`` -> the agent's tools.
"""
