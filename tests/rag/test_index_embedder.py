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
