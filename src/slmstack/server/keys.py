"""API keys: shown once, stored only as salted hashes, compared in constant time.

A key reads ``sk-slm-<id>.<secret>``: the id (public, 12 hex digits) finds the record, the secret
(256 random bits) is checked against ``sha256(salt || secret)`` with ``hmac.compare_digest``.
A fast hash is the right tool here: the secret is random, not a password, so there is nothing to
guess; a slow hash (scrypt) would only add tens of milliseconds to every request.

The file is JSON, written atomically under an exclusive lock (the CLI and a running gateway may
share it); the gateway re-reads it when it changes, so a revoked key stops working within a
second.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from ..errors import UserError
from .errors import GatewayError

PREFIX = "sk-slm-"
ID_HEX = 12
RELOAD_EVERY_S = 1.0
_DUMMY_SALT = b"\0" * 16


class ApiKey(BaseModel):
    id: str
    name: str = ""
    salt: str  # hex
    hash: str  # hex sha256(salt || secret)
    created_at: float = Field(default_factory=time.time)
    revoked_at: float | None = None
    budget_usd: float | None = None  # None: the gateway default
    rpm: int | None = None  # requests per minute; None: the gateway default

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyFile(BaseModel):
    version: int = 1
    keys: list[ApiKey] = Field(default_factory=list)


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


def split_key(key: str) -> tuple[str, str] | None:
    """``sk-slm-<id>.<secret>`` → (id, secret); None when the shape is wrong."""
    if not key.startswith(PREFIX):
        return None
    kid, dot, secret = key[len(PREFIX):].partition(".")
    if not dot or len(kid) != ID_HEX or not secret:
        return None
    return kid, secret


class KeyStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._keys: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.reload()

    # ---- reading -------------------------------------------------------------------------------
    def reload(self) -> None:
        stamp = self._file_stamp()
        data = self._read() if stamp else KeyFile()
        with self._lock:
            self._keys = {k.id: k for k in data.keys}
            self._stamp = stamp
            self._checked = time.monotonic()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _read(self) -> KeyFile:
        try:
            return KeyFile.model_validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return KeyFile()
        except ValueError as exc:
            raise UserError(
                f"API key file {str(self.path)!r} is not a valid key file "
                f"({exc.__class__.__name__})",
                "restore it from a backup or point gateway.keys_path at the right file",
            ) from None

    def _maybe_reload(self) -> None:
        if time.monotonic() - self._checked < RELOAD_EVERY_S:
            return
        self._checked = time.monotonic()
        if self._file_stamp() != self._stamp:
            self.reload()

    def keys(self) -> list[ApiKey]:
        self._maybe_reload()
        return sorted(self._keys.values(), key=lambda k: k.created_at)

    def get(self, kid: str) -> ApiKey | None:
        self._maybe_reload()
        return self._keys.get(kid)

    # ---- checking ------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key an ``Authorization: Bearer …`` header names, or a 401 saying what is wrong."""
        if not authorization:
            raise _unauthorized("no API key given: send the header 'Authorization: Bearer sk-slm-…'"
                                " (create a key with `slmstack keys create`)")
        scheme, _, token = authorization.partition(" ")
        parts = split_key(token.strip()) if scheme.lower() == "bearer" else None
        if parts is None:
            shown = token.strip()[:10] + "…" if token.strip() else authorization[:10] + "…"
            raise _unauthorized(
                f"malformed API key {shown!r}: expected 'Bearer sk-slm-<id>.<secret>'")
        kid, secret = parts
        key = self.get(kid)
        salt = bytes.fromhex(key.salt) if key else _DUMMY_SALT
        expected = bytes.fromhex(key.hash) if key else b"\0" * 32
        if not hmac.compare_digest(_digest(salt, secret), expected) or key is None:
            raise _unauthorized(f"invalid API key (id {kid!r}): check it, or create a new one")
        if not key.active:
            raise _unauthorized(f"API key {kid!r} ({key.name!r}) was revoked; use another key")
        return key

    # ---- writing (CLI) ---------------------------------------------------------------------------
    def create(self, name: str = "", *, budget_usd: float | None = None,
               rpm: int | None = None) -> tuple[ApiKey, str]:
        """A new key; returns its record and the full key text, which is never stored."""
        kid, secret = secrets.token_hex(ID_HEX // 2), secrets.token_urlsafe(32)
        salt = os.urandom(16)
        key = ApiKey(id=kid, name=name, salt=salt.hex(), hash=_digest(salt, secret).hex(),
                     budget_usd=budget_usd, rpm=rpm)
        with self._locked() as data:
            data.keys.append(key)
        return key, f"{PREFIX}{kid}.{secret}"

    def revoke(self, kid: str) -> ApiKey:
        with self._locked() as data:
            match = [k for k in data.keys if k.id == kid]
            if not match:
                known = [k.id for k in data.keys]
                raise UserError(f"no API key with id {kid!r}",
                                f"`slmstack keys list` shows the ids; known: {known!r}")
            if match[0].revoked_at is None:
                match[0].revoked_at = time.time()
        return match[0]

    @contextmanager
    def _locked(self) -> Iterator[KeyFile]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = self._read()
            yield data
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(data.model_dump(mode="json"), indent=2))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        self.reload()


def _unauthorized(message: str) -> GatewayError:
    return GatewayError(401, message, code="invalid_api_key",
                        headers={"WWW-Authenticate": "Bearer"})
