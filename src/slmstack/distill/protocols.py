"""What distillation needs from the outside: a source of call records, a routing-table sink and,
optionally, a verifier. The trace store implements the first two; ``MemoryRoutingSink`` is a
real in-memory implementation for tests and single-process use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from ..errors import UserError
from ..store.records import CallRecord, RoutingTable
from ..types import Completion

Verifier = Callable[[CallRecord, Completion], float]
"""Scores a completion for the request recorded in a CallRecord: 0 (reject) … 1 (sound)."""

TraceSource = Iterable[CallRecord]


@runtime_checkable
class RoutingSink(Protocol):
    """Versioned routing tables: the three methods of the trace store distillation uses."""

    def save_routing_table(self, table: RoutingTable, note: str = "") -> RoutingTable: ...

    def current_routing_table(self) -> RoutingTable | None: ...  # None: no version yet

    def rollback_routing_table(self) -> RoutingTable: ...


class RoutingFile(BaseModel):
    """How a MemoryRoutingSink mirrors itself to disk."""

    current: int = -1
    versions: list[RoutingTable] = []


class MemoryRoutingSink:
    """Routing-table versions kept in a list (optionally mirrored to a JSON file)."""

    def __init__(self, initial: RoutingTable | None = None, path: Path | None = None) -> None:
        self.path = path
        self.versions: list[RoutingTable] = []
        self.current = -1
        if path is not None and path.is_file():
            self._load(path)
        elif initial is not None:
            self.save_routing_table(initial, initial.note or "initial")

    def save_routing_table(self, table: RoutingTable, note: str = "") -> RoutingTable:
        saved = table.model_copy(deep=True, update={"version": len(self.versions) + 1})
        saved.note = note or table.note
        self.versions.append(saved)
        self.current = len(self.versions) - 1
        self._dump()
        return saved

    def current_routing_table(self) -> RoutingTable:
        if self.current < 0:
            return RoutingTable()
        return self.versions[self.current].model_copy(deep=True)

    def rollback_routing_table(self) -> RoutingTable:
        """Write a new version equal to the one before the current one."""
        if self.current < 1:
            raise UserError(
                "there is no earlier routing-table version to roll back to",
                "promote a model first; the initial table is the oldest version",
            )
        previous = self.versions[self.current - 1]
        note = f"rollback of v{self.versions[self.current].version} to v{previous.version}"
        restored = self.save_routing_table(previous, note)
        self.current = len(self.versions) - 1
        return restored

    def _dump(self) -> None:
        if self.path is None:
            return
        data = {"current": self.current, "versions": [v.model_dump() for v in self.versions]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(RoutingFile.model_validate(data).model_dump_json(indent=1), "utf-8")
        tmp.replace(self.path)

    def _load(self, path: Path) -> None:
        data = RoutingFile.model_validate_json(path.read_text("utf-8"))
        self.versions, self.current = data.versions, data.current


def read_jsonl_records(path: Path) -> Iterator[CallRecord]:
    """CallRecords from a JSON-lines file (one ``CallRecord.model_dump_json()`` per line)."""
    if not path.is_file():
        raise UserError(f"trace file {str(path)!r} does not exist", "check the --traces path")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                yield _parse(line, path, lineno)


def _parse(line: str, path: Path, lineno: int) -> CallRecord:
    from pydantic import ValidationError

    try:
        return CallRecord.model_validate_json(line)
    except ValidationError as exc:
        raise UserError(
            f"line {lineno} of {str(path)!r} is not a CallRecord: {exc.errors()[0]['msg']}",
            "each line must be one CallRecord as JSON (CallRecord.model_dump_json())",
        ) from None
