"""A currency written as a name, for a parameter that takes a currency, becomes its ISO code."""

from __future__ import annotations

import pytest

from slmstack.models.grounding import evidence_from, is_grounded
from slmstack.models.toolcalls import coerce_to_schema
from slmstack.types import Message

pytest.importorskip("babel", reason="the [places] extra is not installed")

from slmstack.models.currencies import code_for, conform, takes_currency  # noqa: E402

FROM = {"type": "string", "description": "The currency to convert from."}


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("British pounds", "GBP"), ("US Dollar", "USD"), ("euros", "EUR"),
        ("Japanese yen", "JPY"), ("Canadian dollars", "CAD"), ("Swiss francs", "CHF"),
        ("dollars", "USD"), ("pounds", "GBP"), ("yen", "JPY"),  # a bare unit
        ("US", "USD"), ("U.S.", "USD"), ("Japan", "JPY"),  # a country: its legal tender
        ("United States Dollar", "USD"),
        ("Canadian", "CAD"), ("Japanese", "JPY"),  # the first word of one currency's name
    ],
)
def test_currency_names_become_codes(written: str, code: str) -> None:
    assert code_for(written) == code


def test_codes_and_other_words_are_left_alone() -> None:
    # "New" begins several currencies' names (New Zealand dollar, New Taiwan dollar)
    for value in ("GBP", "Mars", "24 inches", "New", "foo dollars", ""):
        assert code_for(value) is None, value


def test_only_a_parameter_that_takes_a_currency() -> None:
    assert takes_currency(FROM, "source") and takes_currency({"type": "string"}, "base_currency")
    assert conform("British pounds", FROM, "source") == "GBP"
    assert conform("British pounds", {"type": "string", "description": "A note."},
                   "memo") == "British pounds"
    choices = {"type": "string", "enum": ["British pounds", "Euro"]}  # the API's own spelling
    assert not takes_currency(choices, "currency")


def test_schema_coercion_notes_the_change_and_the_code_is_grounded() -> None:
    schema = {"type": "object", "properties": {"base_currency": {"type": "string"},
                                               "amount": {"type": "number"}}}
    repairs: list[str] = []
    out = coerce_to_schema({"base_currency": "British pounds", "amount": 200}, schema, repairs)
    assert out == {"base_currency": "GBP", "amount": 200}
    assert any("British pounds" in r and "GBP" in r for r in repairs)
    # the agent's grounding check reads the code in the request's words, and only there
    ev = evidence_from([Message.user("Convert 200 British pounds to dollars.")])
    assert is_grounded("GBP", ev) and is_grounded("USD", ev)
    assert not is_grounded("EUR", ev) and not is_grounded("JPY", ev)
