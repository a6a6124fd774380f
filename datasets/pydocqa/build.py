"""Rebuild docs/ from Debian's python3.11-doc package (``apt-get install python3.11-doc``).

Keeps only the main article of each page (Sphinx's ``div[role=main]``: no navigation sidebars),
as HTML, plus the PSF licence text. The questions in questions.jsonl were written by hand against
these files; their ``evidence`` strings are verbatim spans of the converted text.

    .venv/bin/python datasets/pydocqa/build.py
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

SRC = Path("/usr/share/doc/python3.11/html")
PAGES = ["json", "csv", "heapq", "bisect", "textwrap", "secrets", "tempfile", "glob",
         "fnmatch", "copy", "uuid", "pprint"]
HERE = Path(__file__).parent


def trim(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("div", attrs={"role": "main"})
    title = soup.title.get_text() if soup.title else ""
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"</head>\n<body>\n{main}\n</body></html>\n")


def main() -> None:
    (HERE / "docs").mkdir(exist_ok=True)
    for page in PAGES:
        html = (SRC / "library" / f"{page}.html").read_text("utf-8")
        (HERE / "docs" / f"{page}.html").write_text(trim(html), "utf-8")
    licence = BeautifulSoup((SRC / "license.html").read_text("utf-8"), "html.parser")
    text = licence.find("div", attrs={"role": "main"}).get_text().replace("¶", "")
    text = re.sub(r"\n\s*\n\s*\n+", "\n\n", text)
    (HERE / "LICENSE-PSF.txt").write_text(text.strip() + "\n", "utf-8")


if __name__ == "__main__":
    main()
