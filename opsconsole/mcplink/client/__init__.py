"""opsconsole as an MCP client: the servers of ``mcp.servers`` and their tools.

:class:`~opsconsole.mcplink.client.link.McpHub` holds the connections (``link.py``);
``tools.py`` turns a server's tools into the agent's tools. The runtime makes one hub and adds
its sources to the tool registry; ``/mcp`` reads :meth:`McpHub.status`.
"""

from opsconsole.mcplink.client.link import McpHub, McpServerError, ServerStatus

__all__ = ["McpHub", "McpServerError", "ServerStatus"]
