from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from slmstack.rag.index import open_index
from slmstack.rag.ingest import Ingester
from slmstack.rag.search import KnowledgeBase


def consistent(stats: dict[str, int]) -> bool:
    return (stats["chunks"] == stats["vectors"] == stats["keyword_rows"]
            and stats["orphan_chunks"] == 0 and stats["count_mismatches"] == 0)


def write_notes(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alpha.md").write_text("# Alpha\n\nThe alpha reactor runs on helium.\n\n"
                                     "## Maintenance\n\nInspect the alpha valves weekly.\n")
    (folder / "beta.txt").write_text("Beta notes: the beta pump needs oil every month.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")


def test_add_sync_dedup_and_unreadable(tmp_path, embedder):
    docs = tmp_path / "docs"
    write_notes(docs)
    kb = KnowledgeBase(open_index(str(tmp_path / "kb.db")), embedder)
    first = Ingester(kb).add([docs])
    assert sorted(Path(p).name for p in first.added) == ["alpha.md", "beta.txt"]
    assert [Path(p).name for p, _ in first.skipped] == ["broken.pdf"]
    assert "broken.pdf" in first.skipped[0][1]
    assert consistent(kb.index.stats()) and first.embedded == first.chunks > 0

    again = Ingester(kb).add([docs])
    assert len(again.unchanged) == 2 and again.chunks == 0

    (docs / "copy.md").write_bytes((docs / "alpha.md").read_bytes())
    text = (docs / "alpha.md").read_text() + "\n## Safety\n\nWear gloves near the alpha core.\n"
    (docs / "alpha.md").write_text(text)
    (docs / "beta.txt").unlink()
    synced = Ingester(kb).sync()
    assert [Path(p).name for p in synced.updated] == ["alpha.md"]
    assert [Path(p).name for p in synced.removed] == ["beta.txt"]
    assert [Path(p).name for p in synced.duplicates] == []  # the copy equals the *old* alpha
    assert [Path(p).name for p in synced.added] == ["copy.md"]
    assert synced.embedded < synced.chunks  # unchanged chunks reused their stored vectors
    assert consistent(kb.index.stats())
    assert not any("beta" in h.path for h in kb.search("beta pump oil", 5))

    (docs / "twin.md").write_bytes((docs / "alpha.md").read_bytes())
    dup = Ingester(kb).add([docs / "twin.md"])
    assert [Path(p).name for p in dup.duplicates] == ["twin.md"] and dup.chunks == 0


def test_kill_during_add_then_rerun_is_consistent(tmp_path, embedder):
    docs = tmp_path / "many"
    docs.mkdir()
    for i in range(80):
        paras = "\n\n".join(f"Item {i}.{j}: fact number {j} about widget {i}." * 6
                            for j in range(5))
        (docs / f"doc{i:03d}.md").write_text(f"# Doc {i}\n\n{paras}\n")
    db = tmp_path / "kb.db"
    cmd = [sys.executable, "-c", "from slmstack.cli import app; app()",
           "kb", "add", str(docs), "--db", str(db)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists() and _count(db) >= 5:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    index = open_index(str(db))
    partial = index.stats()
    assert consistent(partial) and 0 < partial["documents"] < 80
    index.close()
    kb = KnowledgeBase(open_index(str(db)), embedder)
    report = Ingester(kb).add([docs])
    assert len(report.unchanged) == partial["documents"]
    final = kb.index.stats()
    assert consistent(final) and final["documents"] == 80
    dupes = kb.index.db.execute(
        "SELECT count(*) FROM (SELECT doc_id, ordinal FROM chunks GROUP BY 1, 2"
        " HAVING count(*) > 1)").fetchone()[0]
    assert dupes == 0


def _count(db: Path) -> int:
    from slmstack.rag.sqlite_index import driver

    try:
        con = driver().connect(str(db), timeout=0.1)
        n = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        con.close()
        return n
    except driver().OperationalError:
        return 0
