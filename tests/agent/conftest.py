"""Agent test fixtures: the real MCP test server (a stdio spec, a live streamable-HTTP process)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from slmstack.agent import MCPServerSpec

SERVER = Path(__file__).with_name("mcp_server.py")


@pytest.fixture(scope="session")
def stdio_spec() -> MCPServerSpec:
    return MCPServerSpec(name="demo", command=sys.executable, args=[str(SERVER)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"MCP HTTP server exited early with code {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"MCP HTTP server did not listen on port {port} within {timeout}s")


@pytest.fixture(scope="session")
def http_spec() -> Iterator[MCPServerSpec]:
    """The same server over streamable HTTP on loopback, as a separate process."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, proc)
        yield MCPServerSpec(name="demo_http", url=f"http://127.0.0.1:{port}/mcp")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
