"""MCP (Model Context Protocol) both ways.

- :mod:`opsconsole.mcplink.client`: the MCP servers named
  in ``mcp.servers`` (config), started on first use, their tools added to the agent's registry
  as ``SERVER__TOOL`` (wired by ``opsconsole/runtime/build.py``; a layer beside ``k8s/``).
- :mod:`opsconsole.mcplink.server` and :mod:`opsconsole.mcplink.serve`: ``opsconsole mcp``, a
  front end that serves the runtime's own tools to other agents over stdio or streamable HTTP.

Nothing is imported here: the two halves live in different layers (``docs/architecture.md``).
"""
