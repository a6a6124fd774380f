"""The embedder's two precisions: float32 (sentence-transformers) and int8 (ONNX Runtime, built
once from the bundled weights). The int8 tests build into ~/.cache/slmstack/embedders on first
run (about half a minute) and skip, saying why, where the one-time build cannot run."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys

import numpy as np
import pytest

from slmstack.errors import UserError
from slmstack.rag.embed import DIM, MINILM, Embedder, minilm_dir
from slmstack.rag.index import embed_text


@pytest.fixture(scope="module")
def pydocqa(docs_kb):
    """The pydocqa chunks as (hit, embedded text, float32 vector), and the answerable cases."""
    from slmstack.evals.rag import load_questions
    from slmstack.rag.records import Hit

    from .conftest import PYDOCQA

    rows = docs_kb.index.db.execute(
        "SELECT c.id, d.path, c.text, c.heading, c.hash FROM chunks c"
        " JOIN documents d ON d.id = c.doc_id ORDER BY c.id").fetchall()
    stored = docs_kb.index.vectors_for([r[4] for r in rows])
    hits = [Hit(r[0], r[1], r[2], r[3]) for r in rows]
    texts = [embed_text(r[3], r[2]) for r in rows]
    vectors = np.stack([stored[r[4]] for r in rows])
    cases = [c for c in load_questions(PYDOCQA, "all") if c.answerable]
    return hits, texts, vectors, cases


def test_unknown_precision_is_refused_with_the_value_quoted():
    with pytest.raises(UserError, match="'fp16'.*float32, int8"):
        Embedder(precision="fp16")


def test_precisions_have_different_names():
    assert Embedder().name == MINILM  # unchanged, so existing indexes still match
    assert Embedder(precision="int8").name not in (MINILM, "")


@pytest.mark.parametrize("precision", ["float32", "int8"])
def test_no_texts_give_an_empty_matrix(precision):
    out = Embedder(precision=precision).encode([])
    assert out.shape == (0, DIM) and out.dtype == np.float32


def test_int8_rows_are_unit_float32_in_input_order(int8):
    texts = ["a cat sat on the mat", "heapq.heappush(heap, item)", "x" * 3000, "réseau"]
    out = int8.encode(texts)
    assert out.shape == (4, DIM) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    for text, row in zip(texts, out, strict=True):
        assert np.array_equal(int8.query(text), row)  # alone or in a batch: the same vector


@pytest.fixture(scope="module")
def both(int8, pydocqa):
    """pydocqa's chunks and questions in both precisions: {precision: (chunks, questions)}."""
    _, texts, vectors, cases = pydocqa
    questions = [c.question for c in cases]
    return {"float32": (vectors, Embedder().encode(questions)),
            "int8": (int8.encode(texts), int8.encode(questions))}


def test_int8_agrees_with_float32(both):
    cos = (both["int8"][0] * both["float32"][0]).sum(1)
    qcos = (both["int8"][1] * both["float32"][1]).sum(1)
    assert cos.mean() > 0.98 and cos.min() > 0.95, (cos.mean(), cos.min())
    assert qcos.mean() > 0.98 and qcos.min() > 0.95, (qcos.mean(), qcos.min())


def test_int8_finds_the_evidence_about_as_often_as_float32(both, pydocqa):
    from slmstack.evals.rag import relevant

    hits, _, _, cases = pydocqa

    def recall(chunks, queries):
        top = np.argsort(-(queries @ chunks.T), axis=1)[:, :5]
        return np.mean([any(relevant(hits[i], c) for i in row)
                        for row, c in zip(top, cases, strict=True)])

    exact, fast = recall(*both["float32"]), recall(*both["int8"])
    assert exact > 0.5  # the check itself can tell good retrieval from bad
    assert fast >= exact - 0.05, (fast, exact)


def test_int8_build_is_cached_with_its_provenance(int8):
    from slmstack.rag.embed_onnx import RECIPE, ensure_model

    model = ensure_model(minilm_dir())
    meta = json.loads((model.parent / "meta.json").read_text())
    weights = (minilm_dir() / "model.safetensors").read_bytes()
    assert meta["recipe"] == RECIPE
    assert meta["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    before = model.stat().st_mtime_ns
    assert ensure_model(minilm_dir()) == model and model.stat().st_mtime_ns == before


def _model_copy(tmp_path):
    """The bundled model folder as links, with files of our own where a test changes them."""
    src, dst = minilm_dir(), tmp_path / "model"
    dst.mkdir()
    for p in src.iterdir():
        if p.is_file():
            (dst / p.name).symlink_to(p)
    shutil.copytree(src / "1_Pooling", dst / "1_Pooling")
    return dst


def test_build_without_onnx_says_what_to_install(tmp_path, monkeypatch):
    from slmstack.rag.embed_onnx import ensure_model

    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx → ImportError
    with pytest.raises(UserError, match="pip install onnx"):
        ensure_model(_model_copy(tmp_path), tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())  # no half-built model left behind


def test_build_refuses_a_model_that_is_not_mean_pooled(tmp_path):
    from slmstack.rag.embed_onnx import ensure_model

    model = _model_copy(tmp_path)
    cfg = model / "1_Pooling" / "config.json"
    pooling = json.loads(cfg.read_text()) | {"pooling_mode_mean_tokens": False,
                                             "pooling_mode_cls_token": True}
    cfg.write_text(json.dumps(pooling))
    with pytest.raises(UserError, match="mean-pooled"):
        ensure_model(model, tmp_path / "cache")
