"""A tiny real OTLP/HTTP trace receiver on loopback: POST /v1/traces, protobuf decoded with
opentelemetry-proto. What a collector would receive, kept for assertions."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


def attributes(kvs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


class OTLPReceiver:
    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces" or \
                        self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404)
                    return
                req = ExportTraceServiceRequest()
                req.ParseFromString(body)
                receiver.requests.append(req)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def spans(self) -> list[dict[str, Any]]:
        """Every received span as a plain dict (ids as hex, attributes decoded)."""
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                res = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for sp in ss.spans:
                        out.append({
                            "name": sp.name, "trace_id": sp.trace_id.hex(),
                            "span_id": sp.span_id.hex(), "parent": sp.parent_span_id.hex(),
                            "start": sp.start_time_unix_nano, "end": sp.end_time_unix_nano,
                            "attributes": attributes(sp.attributes), "resource": res,
                            "status": sp.status.code, "scope": ss.scope.name,
                            "events": [(e.name, attributes(e.attributes)) for e in sp.events],
                        })
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
