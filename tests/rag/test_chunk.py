from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slmstack.rag.chunk import Chunker, blocks, clean
from slmstack.rag.records import Section

DOC = """# Guide

Intro paragraph.

## Install

Run the installer. It takes a minute.

```python
def hello():

    return "world"
```

## Use

Call hello.
"""


def test_headings_start_chunks_and_code_blocks_stay_whole():
    chunks = Chunker(max_chars=1000).chunk([Section(DOC, page=3)])
    assert [c.heading for c in chunks] == ["Guide", "Guide > Install", "Guide > Use"]
    assert 'def hello():\n\n    return "world"' in chunks[1].text  # blank line inside the fence
    assert all(c.page == 3 for c in chunks)
    assert [c.ordinal for c in chunks] == [0, 1, 2]


def test_long_sections_split_with_overlap():
    sentences = [f"Sentence number {i} says something distinct." for i in range(60)]
    chunks = Chunker(max_chars=300, overlap=80).chunk([Section(" ".join(sentences))])
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 + 80 + 2 for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        last = a.text.split(". ")[-1].strip(" .")
        assert last in b.text  # the next chunk repeats the tail of the previous one


def test_duplicate_chunks_dropped_and_pages_kept():
    secs = [Section("Same text here.", page=1), Section("Same text here.", page=2),
            Section("Other text.", page=2)]
    chunks = Chunker().chunk(secs)
    assert [(c.text, c.page) for c in chunks] == [("Same text here.", 1), ("Other text.", 2)]


def test_clean_strips_links_and_escapes_but_not_code():
    assert clean("see [json.dumps()](#json.dumps \"x\") and snake\\_case ¶") == (
        "see json.dumps() and snake_case ")
    code = list(blocks("```\na\\_b\n```"))
    assert code[0].code and "a\\_b" in code[0].text


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="abc xyz.\n#", min_size=1, max_size=120), max_size=12))
def test_every_word_survives_chunking(parts):
    text = "\n\n".join(parts)
    chunks = Chunker(max_chars=60, overlap=10).chunk([Section(text)])
    seen = " ".join(c.text + " " + c.heading for c in chunks)
    for word in text.replace("#", " ").split():
        assert word.strip(".") in seen


def test_a_heading_with_nothing_under_it_is_a_chunk_of_its_own():
    text = "# Guide\n\n## Empty part\n\n# Next\n\nBody text.\n\n## Trailing"
    chunks = Chunker().chunk([Section(text)])
    assert [(c.heading, c.text) for c in chunks] == [
        ("Guide", "Empty part"), ("Next", "Body text."), ("Next", "Trailing")]
    # a heading with text under it is not repeated as a chunk
    assert [c.text for c in Chunker().chunk([Section("# A\n\n## B\n\ntext")])] == ["text"]


def test_the_overlap_repeats_whole_sentences_never_a_fragment():
    sentences = [f"Sentence {i} is long enough that the overlap cannot hold it, {'x' * 40}."
                 for i in range(30)]
    chunks = Chunker(max_chars=300, overlap=120).chunk([Section(" ".join(sentences))])
    assert len(chunks) > 5
    for c in chunks:
        assert c.text.startswith("Sentence ")  # every chunk starts where a sentence starts
    short = [f"Point {i} is short." for i in range(80)]
    chunks = Chunker(max_chars=300, overlap=60).chunk([Section(" ".join(short))])
    for a, b in zip(chunks, chunks[1:], strict=False):
        overlap = b.text.split("\n\n")[0]  # the repeated sentences, then the new piece
        assert b.text.startswith("Point ") and a.text.endswith(overlap) and len(overlap) <= 60
    code = "```\n" + "\n".join(f"value_{i} = compute({i})  # step" for i in range(40)) + "\n```"
    chunks = Chunker(max_chars=300, overlap=80).chunk([Section(code)])
    assert all(c.text.split("\n")[0].startswith(("value_", "```")) for c in chunks)
