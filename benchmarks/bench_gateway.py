"""Gateway overhead: the same chat request sent straight to a fast OpenAI-compatible upstream on
loopback and through ``slmstack serve`` to that upstream, side by side in one run.

* latency: one connection per target, requests alternating between the targets; p50, p95,
  mean; a gateway's added p50 is the difference to direct (bar: ≤ 2 ms);
* throughput: sustained requests/s with C keep-alive connections for S seconds, each target;
* traces: the gateway's trace-store writer counters afterwards (bar: dropped = 0).

The gateway runs as in production: API key checked, rate limit and budget applied, each call
recorded to the trace store (SQLite, content included), an audit entry per request, metrics.
Targets: the upstream directly; a gateway serving an in-process model that answers at once (the
gateway's own overhead); a gateway proxying to the upstream (its default path: the pooled
HTTP/1.1 client on the event loop); with ``--openai-client``, for reference, also the same
gateway with ``gateway.fast_upstream = false`` (the ``openai`` client on a worker thread; no
bar). Off by default: a third gateway's background work (its trace-store writer) would share the
cores with the barred targets' timed requests.
The upstream is a minimal ASGI app under uvicorn answering a fixed completion instantly; the
load client is raw sockets (keep-alive HTTP/1.1) in this process, so client cost is the same for
both targets. All three processes share this machine's cores.

    python benchmarks/bench_gateway.py [--n 2000] [--seconds 5] [--conns 8] [--openai-client]
                                       [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

REPLY = {
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "echo",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Paris is the capital of France."}}],
    "usage": {"prompt_tokens": 24, "completion_tokens": 8, "total_tokens": 32},
}
REQUEST = {"model": "echo", "max_tokens": 32, "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"}]}


# ---- the fast upstream (run as a subprocess: --upstream PORT) --------------------------------
def upstream_app() -> Any:
    body = json.dumps(REPLY).encode()
    models = json.dumps({"object": "list", "data": [{"id": "echo", "object": "model"}]}).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:  # drain the request body
            more = (await receive()).get("more_body", False)
        out = models if scope["path"].endswith("/models") else body
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(out)).encode())]})
        await send({"type": "http.response.body", "body": out})

    return app


def serve_upstream(port: int) -> None:
    import uvicorn

    uvicorn.run(upstream_app(), host="127.0.0.1", port=port, log_level="warning",
                access_log=False)


# ---- processes ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} not ready in {timeout} s")


def start_upstream() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--upstream", str(port)])
    wait_ready(f"http://127.0.0.1:{port}/v1/models", proc)
    return proc, port


def write_config(tmp: Path, upstream_port: int, name: str = "", fast: bool = True) -> Path:
    """A gateway's slmstack.toml: ``echo`` is the upstream; its own store and audit log, the
    shared keys."""
    cfg = tmp / f"slmstack{name}.toml"
    cfg.write_text(
        f'[aliases]\necho = "openai+http://127.0.0.1:{upstream_port}/v1#echo"\n'
        f'[http]\nmax_retries = 0\n[store]\nurl = "{tmp / f"traces{name}.db"}"\n'
        f'[gateway]\nkeys_path = "{tmp / "keys.json"}"\n'
        f'audit_path = "{tmp / f"audit{name}.jsonl"}"\n'
        f"default_rpm = 100000000\nfast_upstream = {str(fast).lower()}\n")
    return cfg


def start_gateway(tmp: Path, cfg: Path, instant: bool) -> tuple[subprocess.Popen[bytes], int]:
    """``slmstack serve`` proxying to the upstream, or (instant) the same gateway serving
    ``echo`` from an in-process model that answers at once (the gateway's own overhead)."""
    port = free_port()
    if instant:
        cmd = [sys.executable, __file__, "--instant-gateway", str(port), "--config", str(cfg)]
    else:
        cmd = [sys.executable, "-c", "from slmstack.cli import app; app()", "serve", "--config",
               str(cfg), "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(cmd)
    wait_ready(f"http://127.0.0.1:{port}/healthz", proc)
    return proc, port


def serve_instant(port: int, cfg: Path) -> None:
    from slmstack.config import load_settings
    from slmstack.models.scripted import ScriptedModel
    from slmstack.server.serve import run

    settings = load_settings(cfg)  # its own store and audit log, beside the other gateway's
    settings.store["url"] = str(cfg.parent / "traces-instant.db")
    settings.gateway["audit_path"] = str(cfg.parent / "audit-instant.jsonl")
    text = REPLY["choices"][0]["message"]["content"]
    model = ScriptedModel([text], name="echo", repeat_last=True)
    run(settings, port=port, log_level="warning", models={"echo": model})


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


# ---- raw keep-alive HTTP client ----------------------------------------------------------------
def request_bytes(port: int, key: str | None) -> bytes:
    body = json.dumps(REQUEST).encode()
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def read_response(sock: socket.socket, buf: bytes) -> tuple[int, bytes]:
    """(status, leftover) for one response with a Content-Length body."""
    while b"\r\n\r\n" not in buf:
        buf += _recv(sock)
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += _recv(sock)
    return status, rest[length:]


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("server closed the connection")
    return data


class Conn:
    def __init__(self, port: int, key: str | None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.req, self.buf = request_bytes(port, key), b""

    def once(self) -> float:
        t0 = time.perf_counter()
        self.sock.sendall(self.req)
        status, self.buf = read_response(self.sock, self.buf)
        elapsed = time.perf_counter() - t0
        if status != 200:
            raise SystemExit(f"HTTP {status} from the benchmark target")
        return elapsed


def latency(targets: dict[str, Conn], n: int, warmup: int) -> dict[str, list[float]]:
    for _ in range(warmup):
        for c in targets.values():
            c.once()
    out: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(n):
        for name, c in targets.items():  # alternate: both see the same conditions
            out[name].append(c.once())
    return out


async def _worker(port: int, key: str | None, until: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    req = request_bytes(port, key)
    while time.perf_counter() < until:
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"throughput run got {head.splitlines()[0]!r}")
        counts[0] += 1
    writer.close()


def throughput(port: int, key: str | None, conns: int, seconds: float) -> float:
    async def run() -> float:
        counts = [0]
        t0 = time.perf_counter()
        await asyncio.gather(*[_worker(port, key, t0 + seconds, counts) for _ in range(conns)])
        return counts[0] / (time.perf_counter() - t0)

    return asyncio.run(run())


# ---- the run -------------------------------------------------------------------------------------
def stats_ms(xs: list[float]) -> dict[str, float]:
    q = statistics.quantiles(xs, n=100, method="inclusive")
    return {"p50_ms": 1e3 * q[49], "p95_ms": 1e3 * q[94], "p99_ms": 1e3 * q[98],
            "mean_ms": 1e3 * statistics.fmean(xs)}


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def store_stats(gw_port: int) -> dict[str, Any]:
    """The gateway's trace-store writer counters, once its queue has drained."""
    deadline = time.monotonic() + 60
    while True:
        s = httpx.get(f"http://127.0.0.1:{gw_port}/healthz").json()["store"]
        settled = s["written"] + s["failed"] + s["dropped"] >= s["enqueued"]
        if settled or time.monotonic() > deadline:
            return s
        time.sleep(0.2)


TARGETS = ("direct", "gateway, instant model", "gateway → upstream")
REFERENCE = "gateway → upstream, openai client"  # --openai-client: the path before, no bar


def measure(targets: dict[str, tuple[subprocess.Popen[bytes], int, str | None]],
            args: argparse.Namespace) -> dict[str, dict[str, float]]:
    conns = {name: Conn(port, key) for name, (_, port, key) in targets.items()}
    lat = latency(conns, args.n, args.warmup)
    rows = {}
    for name, (proc, port, key) in targets.items():
        cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        rps = throughput(port, key, args.conns, args.seconds)
        done = rps * (time.perf_counter() - t0)
        cpu_ms = 1e3 * (cpu_seconds(proc.pid) - cpu0) / max(done, 1)
        rows[name] = {**stats_ms(lat[name]), "req_per_s": rps, "server_cpu_ms_per_req": cpu_ms}
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    from slmstack.server.keys import KeyStore

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as d:
        try:
            up, up_port = start_upstream()
            procs.append(up)
            cfg = write_config(Path(d), up_port)
            slow = write_config(Path(d), up_port, "-openai-client", fast=False)
            key = KeyStore(Path(d) / "keys.json").create("bench")[1]
            targets: dict[str, tuple[subprocess.Popen[bytes], int, str | None]] = {
                "direct": (up, up_port, None)}
            gateways = [(TARGETS[1], cfg, True), (TARGETS[2], cfg, False)]
            if args.openai_client:
                gateways.append((REFERENCE, slow, False))
            for name, conf, instant in gateways:
                gw, port = start_gateway(Path(d), conf, instant)
                procs.append(gw)
                targets[name] = (gw, port, key)
            rows = measure(targets, args)
            store = {name: store_stats(targets[name][1]) for name in list(targets)[1:]}
        finally:
            for p in procs:
                stop(p)
    base = rows["direct"]
    added = {name: {k: rows[name][k] - base[k] for k in ("p50_ms", "p95_ms", "mean_ms")}
             for name in list(rows)[1:]}
    dropped = sum(s["dropped"] for s in store.values())
    return {"rows": rows, "added": added, "store": store,
            "bars": {f"added p50 ≤ 2 ms ({name})": added[name]["p50_ms"] <= 2.0
                     for name in TARGETS[1:]} | {"traces dropped = 0": dropped == 0},
            "config": {"n": args.n, "warmup": args.warmup, "seconds": args.seconds,
                       "conns": args.conns, "openai_client": args.openai_client,
                       "cpus": os.cpu_count(),
                       "load_avg_1m_at_end": os.getloadavg()[0],
                       "python": platform.python_version(), "machine": platform.machine()}}


def show(res: dict[str, Any]) -> None:
    t = Table("target", "p50 ms", "p95 ms", "p99 ms", "mean ms", "added p50", "req/s",
              "× direct", "CPU ms/req",
              title=f"gateway overhead ({res['config']['cpus']} CPUs shared by client, gateways, "
                    f"upstream; load average {res['config']['load_avg_1m_at_end']:.1f})")
    base = res["rows"]["direct"]
    for name, r in res["rows"].items():
        added = res["added"].get(name, {}).get("p50_ms")
        t.add_row(name, f"{r['p50_ms']:.3f}", f"{r['p95_ms']:.3f}", f"{r['p99_ms']:.3f}",
                  f"{r['mean_ms']:.3f}", "" if added is None else f"{added:+.3f}",
                  f"{r['req_per_s']:,.0f}", f"{r['req_per_s'] / base['req_per_s']:.2f}",
                  f"{r['server_cpu_ms_per_req']:.3f}")
    console = Console(width=130)
    console.print(t)
    for name, s in res["store"].items():
        console.print(f"trace store of {name}: enqueued {s['enqueued']:,}, written "
                      f"{s['written']:,}, dropped {s['dropped']}, failed {s['failed']}, "
                      f"max queue {s['max_queue_depth']}")
    console.print("bars: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}"
                                       for k, v in res["bars"].items()))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    p.add_argument("--instant-gateway", type=int, help=argparse.SUPPRESS)
    p.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=2000, help="timed requests per target")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--seconds", type=float, default=5.0, help="throughput run per target")
    p.add_argument("--conns", type=int, default=8, help="concurrent connections (throughput)")
    p.add_argument("--openai-client", action="store_true",
                   help="also time the gateway on the openai client (fast_upstream = false)")
    p.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".json"))
    args = p.parse_args()
    if args.upstream:
        serve_upstream(args.upstream)
        return
    if args.instant_gateway:
        serve_instant(args.instant_gateway, args.config)
        return
    res = run(args)
    show(res)
    args.out.write_text(json.dumps(res, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
