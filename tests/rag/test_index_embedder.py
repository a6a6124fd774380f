"""An index records the embedder that built it; vectors of two embedders never mix."""

from __future__ import annotations

import pytest

from slmstack.errors import UserError
from slmstack.rag.index import LEGACY_EMBEDDER, check_embedder, open_index


def test_a_new_index_records_its_embedder_and_refuses_another(tmp_path) -> None:
    path = tmp_path / "kb.db"
    open_index(path, 384, "all-MiniLM-L6-v2+int8").db.close()
    open_index(path, 384, "all-MiniLM-L6-v2+int8").db.close()  # the same embedder reopens
    open_index(path, 384).db.close()  # no name given: nothing to check
    with pytest.raises(UserError) as err:
        open_index(path, 384, "all-MiniLM-L6-v2")
    assert "all-MiniLM-L6-v2+int8" in str(err.value) and "new --db" in err.value.hint


def test_an_index_from_before_the_record_holds_the_legacy_embedder() -> None:
    assert check_embedder("kb.db", None, True, LEGACY_EMBEDDER) == LEGACY_EMBEDDER
    with pytest.raises(UserError):
        check_embedder("kb.db", None, True, LEGACY_EMBEDDER + "+int8")
    assert check_embedder("kb.db", None, False, "x") == "x"  # empty: the first embedder wins
    assert check_embedder("kb.db", "x", True, "x") is None  # recorded already


def test_the_knowledge_base_opens_an_index_with_the_embedder_it_was_built_with(tmp_path) -> None:
    from slmstack.rag.embed import MINILM, Embedder
    from slmstack.rag.search import KnowledgeBase

    path = str(tmp_path / "kb.db")
    kb = KnowledgeBase.open(path, precision="int8")  # a new index: the asked precision
    assert kb.embedder.precision == "int8" and kb.index.recorded_embedder() == f"{MINILM}+int8"
    kb.close()
    again = KnowledgeBase.open(path)  # default float32, but the index says int8: int8 it is
    assert again.embedder.precision == "int8" and again.index.stats()["embedder"].endswith("int8")
    again.close()
    with pytest.raises(UserError, match="holds vectors of the embedder"):
        KnowledgeBase.open(path, Embedder())  # an explicit embedder must match
    fresh = KnowledgeBase.open(str(tmp_path / "new.db"))
    assert fresh.embedder.precision == "float32" and fresh.index.recorded_embedder() == MINILM
    fresh.close()
    with pytest.raises(UserError, match="does not have"):
        Embedder.for_name("e5-large")


def test_rag_settings_choose_the_index_and_its_embedder(tmp_path, monkeypatch, int8) -> None:
    from typer.testing import CliRunner

    from slmstack.cli import app

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pump.md").write_text("# Pump\n\nThe Zorblax pump is oiled every 40 hours.\n")
    config = tmp_path / "slmstack.toml"
    db = tmp_path / "team" / "kb.db"
    config.write_text(f'[rag]\ndb = "{db}"\nprecision = "int8"\n')
    monkeypatch.setenv("SLMSTACK_CONFIG", str(config))
    cli = CliRunner()
    res = cli.invoke(app, ["kb", "add", str(docs)])
    assert res.exit_code == 0, res.output
    assert db.is_file()
    res = cli.invoke(app, ["kb", "stats"])
    assert res.exit_code == 0 and '"embedder": "all-MiniLM-L6-v2+int8"' in res.output
    res = cli.invoke(app, ["kb", "search", "how often is the pump oiled", "-k", "1"])
    assert res.exit_code == 0 and "pump.md" in res.output and "40 hours" in res.output
    res = cli.invoke(app, ["kb", "add", str(docs), "--precision", "float32"])
    assert res.exit_code == 1 and "holds vectors of the embedder" in res.output
    config.write_text('[rag]\nprecision = "fp16"\n')
    res = cli.invoke(app, ["kb", "stats"])
    assert res.exit_code == 1 and "rag.precision" in res.output
    assert "fix the [rag] table" in res.output  # brackets in messages are text, not markup
