"""Curate leaves no e-mail, phone number, card number, IBAN or key-like string (planted set)."""

from __future__ import annotations

import json

import pytest

from slmstack.distill.artifacts import RunDir, read_json, read_jsonl, write_jsonl
from slmstack.distill.collect import CALLS
from slmstack.distill.config import CurateConfig
from slmstack.distill.curate import EXAMPLES, REPORT, curate
from slmstack.distill.redact import Redactor, looks_random, luhn_ok
from slmstack.store.records import CallRecord

PLANTED = {
    "email": ["jane.doe@example.com", "ops+alerts@mail.example.org", "a.b-c@sub.example.co.uk"],
    "phone": ["+1 (415) 555-0132", "+44 20 7946 0958", "(212) 555-0198", "+49 30 901820"],
    "card": ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005",
             "6011000990139424"],
    "iban": ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432",
             "FR1420041010050500013M02606"],
    "key": ["sk-proj-4f9aK2mQ8xZ1vB7nT3pL6wR0", "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
            "AKIAIOSFODNN7EXAMPLE", "xoxb-1234567890-abcdefghij",
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "password=hunter2hunter2", "Zx9Qp2Lm7Vt4Rk8Wn3Hy6Bc1"],
}
BENIGN = "Calculate the area of a triangle with base 10 and height 5 in 2024."


def _planted_records() -> list[CallRecord]:
    records = []
    for kind, values in PLANTED.items():
        for i, v in enumerate(values):
            records.append(CallRecord(
                request={"messages": [
                    {"role": "system", "content": "You help with accounts."},
                    {"role": "user", "content": f"My {kind} is {v}, please update it. {BENIGN}"},
                ], "tools": [{"type": "function", "function": {"name": "update_account",
                                                               "parameters": {"type": "object"}}}]},
                response={"tool_calls": [{"name": "update_account",
                                          "arguments": {"value": v, "note": f"{kind} #{i}"}}]},
                model="teacher",
            ))
    return records


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    run = RunDir(tmp_path_factory.mktemp("curate"))
    records = _planted_records()
    extra = [
        records[0].model_copy(update={"id": "dupe"}),  # same request: a duplicate
        records[1].model_copy(update={"id": "failed", "error": "timeout"}),
        records[2].model_copy(update={"id": "esc", "escalated": True}),
        records[3].model_copy(update={"id": "weak", "verdict_score": 0.1}),
    ]
    write_jsonl(run.stage("collect") / CALLS, records + extra)
    run.finish("collect", config={}, inputs={}, metrics={}, started=0.0)
    curate(run, CurateConfig())
    return run


def test_no_planted_value_survives(curated):
    text = (curated.root / "curate" / EXAMPLES).read_text("utf-8")
    survivors = [v for values in PLANTED.values() for v in values if v in text]
    assert survivors == []
    digits_only = json.dumps(text).replace(" ", "").replace("-", "")
    for v in PLANTED["card"] + PLANTED["iban"]:
        assert v.replace(" ", "").replace("-", "") not in digits_only


def test_benign_text_and_schema_are_kept(curated):
    rows = list(read_jsonl(curated.root / "curate" / EXAMPLES, CallRecord))
    assert all(BENIGN in r.request["messages"][1]["content"] for r in rows)
    assert all(r.request["tools"][0]["function"]["name"] == "update_account" for r in rows)
    assert all(r.response["tool_calls"][0]["name"] == "update_account" for r in rows)
    assert any("<EMAIL_ADDRESS>" in json.dumps(r.response) for r in rows)


def test_report_says_what_was_removed_and_why(curated):
    report = read_json(curated.root / "curate" / REPORT)
    assert report["removed_by_reason"] == {
        "failed": 1, "escalated": 1, "low_integrity": 1, "duplicate": 1,
    }
    assert report["kept"] == sum(len(v) for v in PLANTED.values())
    for entity in ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "SECRET"):
        assert report["redacted"].get(entity, 0) > 0, entity


def test_luhn_and_randomness_checks():
    assert luhn_ok("4111 1111 1111 1111") and not luhn_ok("4111 1111 1111 1112")
    assert looks_random("Zx9Qp2Lm7Vt4Rk8Wn3Hy6Bc1")
    assert not looks_random("internationalization_tokens")


def test_identifiers_without_digits_are_not_secrets():
    names = "solve_quadratic_equation calculate_electric_field_strength kinematics.final_velocity"
    assert Redactor().text(names) == names


def test_redactor_walks_nested_values():
    r = Redactor()
    out = r.value({"a": ["mail me at bob@example.com"], "n": 3})
    assert out == {"a": ["mail me at <EMAIL_ADDRESS>"], "n": 3}
