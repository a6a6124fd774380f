"""Dates rewritten in the layout a tool's parameter asks for."""

from __future__ import annotations

import datetime as dt

import pytest

from slmstack.models.dates import asked_format, conform, parse_date, written_dates
from slmstack.models.toolcalls import validate_call
from slmstack.types import ToolCall, ToolSpec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("March 17, 1915", dt.date(1915, 3, 17)),
        ("Jun.20,2023", dt.date(2023, 6, 20)),
        ("10th December 2022", dt.date(2022, 12, 10)),
        ("1st of June, 2022", dt.date(2022, 6, 1)),
        ("2023 April 4", dt.date(2023, 4, 4)),
        ("2022-04-27", dt.date(2022, 4, 27)),
        ("04/27/2022", dt.date(2022, 4, 27)),
        ("27.04.2022", dt.date(2022, 4, 27)),
        ("05/06/2022", None),  # May 6 or June 5: not guessed
        ("February 30, 2022", None),
        ("2021", None),
        ("this weekend", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("schema", "layout"),
    [
        ({"type": "string", "format": "date"}, "%Y-%m-%d"),
        ({"description": "Date of the trade. Format: yyyy-mm-dd."}, "%Y-%m-%d"),
        ({"description": "The start date. The format is MM-DD-YYYY."}, "%m-%d-%Y"),
        ({"description": "Check-in date. Format - DD/MM/YYYY."}, "%d/%m/%Y"),
        ({"description": "The date of the flight, e.g., 2022-04-28."}, "%Y-%m-%d"),
        ({"description": "The date (month-day-year) you want it for."}, "%m-%d-%Y"),
        ({"description": "Day/month/year of the visit"}, "%d/%m/%Y"),
        ({"description": "Month-to-month or year-to-year change"}, None),
        ({"description": "Time frame, e.g. next month."}, None),
    ],
)
def test_asked_format(schema: dict, layout: str | None) -> None:
    assert asked_format(schema) == layout


def test_a_tool_call_gets_its_date_in_the_asked_layout() -> None:
    tool = ToolSpec(name="book", parameters={
        "type": "object",
        "properties": {
            "start": {"type": "string", "description": "Start date. The format is MM-DD-YYYY."},
            "note": {"type": "string"},
        },
        "required": ["start"],
    })
    repairs: list[str] = []
    call = validate_call(
        ToolCall(name="book", arguments={"start": "July 10, 2022", "note": "July 10, 2022"}),
        [tool], repairs,
    )
    assert call.arguments == {"start": "07-10-2022", "note": "July 10, 2022"}
    assert any("'start'" in r and "07-10-2022" in r for r in repairs)
    assert conform("next week", tool.parameters["properties"]["start"]) == "next week"


def test_written_dates_are_found_in_text() -> None:
    text = ("from July 10, 2022 to 10/07/2022, the 3rd of June 2021, Jun.20,2023 — the mayor 10, "
            "2022 and 2022-05-01.")
    assert [text[a:b] for a, b in written_dates(text)] == [
        "July 10, 2022", "10/07/2022", "3rd of June 2021", "Jun.20,2023", "2022-05-01"]


def test_a_last_day_equal_to_the_first_becomes_the_day_named_or_counted() -> None:
    from slmstack.models.dates import stay_ends

    same = {"check_in": "2024-03-02", "check_out": "2024-03-02"}
    assert stay_ends(same, "A room in Oslo from 2024 March 2nd to March 6th") == {
        "check_out": "2024-03-06"}
    assert stay_ends({"start_date": "03-22-2024", "end_date": "03-22-2024"},
                     "Two nights from March 22, 2024") == {"end_date": "03-24-2024"}
    assert stay_ends({"start_date": "2024-12-30", "end_date": "2024-12-30"},
                     "From December 30, 2024 until January 2") == {"end_date": "2025-01-02"}
    # one day, two counts, or two other days: not known; other days than the first: left
    assert stay_ends(same, "A room in Oslo on March 2nd, 2024") == {}
    assert stay_ends(same, "2 nights or 3 nights from March 2nd, 2024") == {}
    assert stay_ends(same, "March 2nd, 2024 to March 5th or March 6th") == {}
    assert stay_ends({"check_in": "2024-03-02", "check_out": "2024-03-04"},
                     "From March 2nd, 2024 to March 6th") == {}
