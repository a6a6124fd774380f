"""The gateway's own HTTP/1.1 client for OpenAI-compatible upstreams: keep-alive connections on
the event loop, h11 for the protocol, one ``write`` per request.

Why not the ``openai`` client here: on a fast upstream its request building, the hop to a worker
thread and httpx's layering cost about 1.5 ms of CPU per call, more than the gateway's whole
budget; this path costs about 0.3 ms. The model keeps the semantics (request body, reply parsing,
retries, error mapping: ``OpenAIChatModel.acomplete``); this module only moves bytes.

Used only where it cannot change what is sent or how: plain ``http://`` upstreams (vLLM, SGLang,
llama.cpp servers on a private network; a hosted API's TLS and its milliseconds of latency stay
with the ``openai`` client) of an ``OpenAIChatModel`` without an injected ``http_client`` and
without a proxy for their host (see :func:`fast_path`). Everything else goes through the model's
``openai`` client on a worker thread, as before.
"""

from __future__ import annotations

import asyncio
import os
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import h11

MAX_IDLE_PER_ORIGIN = 100  # as the openai client's keep-alive pool
IDLE_EXPIRY_S = 4.0  # under uvicorn's 5 s keep-alive: a reused connection is rarely one it closed
READ_BYTES = 65536


class UpstreamConnectionError(ConnectionError):
    """The request could not be sent or its reply not read (refused, reset, closed, bad HTTP).
    ``stale``: nothing came back at all — on a reused connection, one the server had closed."""

    def __init__(self, reason: str, stale: bool = False) -> None:
        super().__init__(reason)
        self.stale = stale


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    proto: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    idle_since: float = 0.0
    got_reply: bool = False  # some bytes of the current reply arrived

    def usable(self, now: float) -> bool:
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and now - self.idle_since < IDLE_EXPIRY_S)

    def close(self) -> None:
        self.writer.close()


class Origin:
    """host:port of an ``http://`` upstream, parsed once."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http":
            raise ValueError(f"{url!r}: this client speaks plain http:// only")
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.host_header = parts.netloc.rsplit("@", 1)[-1].encode()
        self.key = (self.host, self.port)


class Http11Pool:
    """POST JSON to upstreams over pooled keep-alive connections (bound to one event loop)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[_Conn]] = {}
        self._urls: dict[str, tuple[Origin, bytes]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def post(self, url: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Reply:
        """POST ``body`` to ``url``; a pooled connection the server had closed is replaced once.
        Raises UpstreamConnectionError (an OSError) when no reply could be had."""
        origin, target = self._parsed(url)
        conn, reused = await self._take(origin)
        try:
            return await self._exchange(conn, origin, target, headers, body)
        except UpstreamConnectionError as exc:
            if not (reused and exc.stale):
                raise
        conn, _ = await self._take(origin, fresh=True)
        return await self._exchange(conn, origin, target, headers, body)

    def _parsed(self, url: str) -> tuple[Origin, bytes]:
        hit = self._urls.get(url)
        if hit is None:
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            hit = self._urls[url] = (Origin(url), target.encode())
        return hit

    def close(self) -> None:
        """Close the idle connections (on their loop; after it closed, they are only dropped)."""
        if self._loop is not None and not self._loop.is_closed():
            for conns in self._idle.values():
                for c in conns:
                    c.close()
        self._idle.clear()

    # ---- connections -----------------------------------------------------------------------
    async def _take(self, origin: Origin, fresh: bool = False) -> tuple[_Conn, bool]:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self._idle.clear()
            self._loop = loop
        idle = self._idle.get(origin.key)
        now = time.monotonic()
        while idle and not fresh:
            conn = idle.pop()
            if conn.usable(now):
                return conn, True
            conn.close()
        return await self._open(origin), False

    async def _open(self, origin: Origin) -> _Conn:
        try:
            reader, writer = await asyncio.open_connection(origin.host, origin.port)
        except OSError as exc:  # "[Errno 111] Connection refused", as httpx says it
            reason = f"[Errno {exc.errno}] {os.strerror(exc.errno)}" if exc.errno else str(exc)
            raise UpstreamConnectionError(reason or type(exc).__name__) from None
        return _Conn(reader, writer)

    def _put_back(self, origin: Origin, conn: _Conn) -> None:
        idle = self._idle.setdefault(origin.key, [])
        if len(idle) >= MAX_IDLE_PER_ORIGIN:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    # ---- one exchange ----------------------------------------------------------------------
    async def _exchange(self, conn: _Conn, origin: Origin, target: bytes,
                        headers: list[tuple[bytes, bytes]], body: bytes) -> Reply:
        ok = False
        try:
            reply = await self._roundtrip(conn, origin, target, headers, body)
            ok = conn.proto.our_state is h11.DONE and conn.proto.their_state is h11.DONE
            return reply
        except h11.LocalProtocolError as exc:
            raise UpstreamConnectionError(f"the request could not be sent: {exc}") from None
        except h11.RemoteProtocolError as exc:
            raise UpstreamConnectionError(f"invalid HTTP from the server: {exc}") from None
        except UpstreamConnectionError:
            raise
        except OSError as exc:  # reset, broken pipe ...: stale when no reply had begun
            raise UpstreamConnectionError(str(exc) or type(exc).__name__,
                                          stale=not conn.got_reply) from None
        finally:  # a cancelled or failed exchange leaves the connection in an unknown state
            if ok:
                conn.proto.start_next_cycle()
                conn.got_reply = False
                self._put_back(origin, conn)
            else:
                conn.close()

    async def _roundtrip(self, conn: _Conn, origin: Origin, target: bytes,
                         headers: list[tuple[bytes, bytes]], body: bytes) -> Reply:
        h = conn.proto
        all_headers = [(b"host", origin.host_header), *headers,
                       (b"content-length", str(len(body)).encode())]
        data = h.send(h11.Request(method=b"POST", target=target, headers=all_headers))
        conn.writer.write(b"".join((data or b"", h.send(h11.Data(data=body)) or b"",
                                    h.send(h11.EndOfMessage()) or b"")))
        response: Any = None
        chunks: list[bytes] = []
        while True:
            event = h.next_event()
            if event is h11.NEED_DATA:
                data = await conn.reader.read(READ_BYTES)
                if not data and not conn.got_reply:
                    raise UpstreamConnectionError("the server closed the connection", stale=True)
                conn.got_reply = True
                h.receive_data(data)
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                raise UpstreamConnectionError("the server closed the connection mid-reply")
        names = {k.decode("latin-1"): v.decode("latin-1") for k, v in response.headers}
        return Reply(response.status_code, names, b"".join(chunks))


def fast_path(model: Any) -> bool:
    """Whether the gateway may call ``model`` through this client (``acomplete``) without any
    change to what reaches the upstream: an OpenAIChatModel itself (a subclass may change the
    call), on its own HTTP client (an injected one — tests' mock transports, a custom client —
    is kept), no credentials in the URL and no proxy for its host."""
    from ..models.openai_compat import OpenAIChatModel

    if type(model) is not OpenAIChatModel or not model.own_http_client:
        return False
    parts = urlsplit(model.base_url)
    if parts.scheme != "http" or parts.username is not None:
        return False
    proxies = urllib.request.getproxies_environment()
    if not (proxies.get("http") or proxies.get("all")):
        return True
    return bool(urllib.request.proxy_bypass_environment(parts.hostname or "", proxies))
