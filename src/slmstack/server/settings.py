"""Settings of the gateway, read from the ``[gateway]`` table of slmstack.toml.

Example::

    [gateway]
    host = "127.0.0.1"
    port = 8000
    egress_allow = ["127.0.0.1", "localhost", "*.internal.example.com"]
    models = ["openai+http://10.0.0.5:8000/v1#qwen3.5-9b"]   # extra names clients may ask for
    fallbacks = { "embedded:smollm2-135m" = ["big"] }          # on upstream failure, try next
    upstream_timeout_s = 30
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from ..config import Section

LOOPBACK = ["127.0.0.1", "localhost", "::1"]


class GatewaySettings(Section):
    section: ClassVar[str] = "gateway"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # API keys: hashed at rest in this JSON file (``slmstack keys create`` writes it)
    keys_path: Path = Path("slmstack-keys.json")
    require_key: bool = True  # False: anonymous calls allowed (loopback development only)
    default_rpm: int | None = Field(default=600, ge=1)  # per-key requests/minute unless set
    default_budget_usd: float | None = Field(default=None, ge=0)  # per key, unless set
    # append-only, hash-chained audit log (JSON lines); ``slmstack keys verify-audit`` checks it
    audit_path: Path = Path("slmstack-audit.jsonl")
    audit_fsync: bool = False  # fsync every entry (durable across power loss, slower)
    # hosts (fnmatch patterns, optionally host:port) the gateway may send requests to
    egress_allow: list[str] = Field(default_factory=lambda: list(LOOPBACK))
    models: list[str] = Field(default_factory=list)  # extra model names/URIs clients may use
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)  # name → next names; "*": all
    upstream_timeout_s: float = Field(default=60.0, gt=0)
    # call plain-http OpenAI-compatible upstreams on the event loop through the gateway's pooled
    # HTTP/1.1 client (see server/upstream.py); false: through the openai client on a thread
    fast_upstream: bool = True
    max_concurrent_calls: int = Field(default=64, ge=1)  # worker threads for model calls
    max_request_bytes: int = Field(default=1_000_000, ge=1024)
    max_tokens: int = Field(default=4096, ge=1)  # the most a request may ask to generate
    default_max_tokens: int = Field(default=512, ge=1)  # when the request gives none
    max_embedding_inputs: int = Field(default=2048, ge=1)
    record_content: bool = True  # keep messages and replies in the trace store
    preload: bool = False  # load the default model at start instead of on first use
