"""A real MCP server for the agent tests, written with the SDK's MCPServer (FastMCP in mcp 1.x).

Run: ``python mcp_server.py`` (stdio) or ``python mcp_server.py --http PORT`` (streamable HTTP on
127.0.0.1). The data is a small fixed table so answers can be checked exactly.
"""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("slmstack-test-tools", log_level="ERROR")

HOMES = {"alice": "Lyon", "bob": "Oslo", "chen": "Taipei"}
WEATHER = {"lyon": (21, "sunny"), "oslo": (-3, "snowing"), "taipei": (29, "raining")}


@server.tool()
def find_home_city(person: str) -> str:
    """Find the city where a person lives.

    Args:
        person: the person's first name, e.g. Alice
    """
    city = HOMES.get(person.strip().lower())
    if city is None:
        raise ToolError(f"no person named {person!r}; known: {', '.join(HOMES)}")
    return city


@server.tool()
def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: the city name, e.g. Oslo
    """
    found = WEATHER.get(city.strip().lower())
    if found is None:
        raise ToolError(f"no weather for {city!r}; known: {', '.join(WEATHER)}")
    temp, sky = found
    return f"It is {temp} degrees Celsius and {sky} in {city.strip().title()}."


@server.tool()
def multiply(a: int, b: int) -> int:
    """Multiply two integers.

    Args:
        a: the first factor
        b: the second factor
    """
    return a * b


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
