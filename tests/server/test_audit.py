"""The audit log is a hash chain: any edit, deletion, insertion or reordering is found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slmstack.errors import UserError
from slmstack.server.audit import GENESIS, AuditLog, entry_hash, verify_audit


def _log(path: Path, n: int = 5) -> list[dict]:
    log = AuditLog(path)
    entries = [log.append("request", key_id=f"k{i}", status=200, tokens=i) for i in range(n)]
    log.close()
    return entries


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_chain_links_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    entries = _log(path)
    assert entries[0]["prev"] == GENESIS and entries[0]["seq"] == 1
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    check = verify_audit(path)
    assert check.ok and check.entries == 5 and check.head == entries[-1]["hash"]


def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    first = _log(path, 2)
    again = AuditLog(path).append("stop")
    assert again["prev"] == first[-1]["hash"] and again["seq"] == 3
    assert verify_audit(path).ok


def test_two_writers_share_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    a, b = AuditLog(path), AuditLog(path)  # e.g. the gateway and `slmstack keys create`
    for i in range(6):
        (a if i % 2 else b).append("event", i=i)
    check = verify_audit(path)
    assert check.ok and check.entries == 6


@pytest.mark.parametrize("tamper, where, says", [
    ("edit", 3, "altered"),
    ("delete", 3, "does not follow"),
    ("swap", 2, "does not follow"),
    ("insert", 2, "does not follow"),
    ("garbage", 4, "not JSON"),
])
def test_tampering_is_detected_at_the_right_line(tmp_path: Path, tamper: str, where: int,
                                                 says: str) -> None:
    path = tmp_path / "audit.jsonl"
    _log(path)
    lines = _lines(path)
    if tamper == "edit":
        entry = json.loads(lines[2])
        entry["status"] = 500  # rewrite history, keep the old hash
        lines[2] = json.dumps(entry)
    elif tamper == "delete":
        del lines[2]
    elif tamper == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "insert":
        forged = json.loads(lines[0])
        forged["seq"] = 2
        forged["hash"] = entry_hash(forged)  # well-formed on its own, but not linked
        lines.insert(1, json.dumps(forged))
    else:
        lines[3] = "{oops"
    path.write_text("\n".join(lines) + "\n")
    check = verify_audit(path)
    assert not check.ok and check.line == where and says in check.problem
    assert check.entries == where - 1


def test_a_rehashed_edit_still_breaks_the_next_link(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log(path)
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["key_id"] = "someone-else"
    entry["hash"] = entry_hash(entry)  # the forger recomputes this entry's hash
    lines[1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    check = verify_audit(path)
    assert not check.ok and check.line == 3


def test_a_corrupt_tail_refuses_to_extend(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    _log(path, 2)
    with path.open("a") as f:
        f.write("{half an entr\n")
    with pytest.raises(UserError, match="not an audit entry"):
        AuditLog(path).append("x")
