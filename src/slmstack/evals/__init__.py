"""Evaluations: benchmarks run against any ChatModel (BFCL v4 function calling)."""

from .bfcl import (
    CATEGORIES,
    BfclCase,
    BfclReport,
    CaseRecord,
    CategoryStats,
    CheckResult,
    check_calls,
    check_case,
    load_category,
    run_bfcl,
)

__all__ = [
    "CATEGORIES",
    "BfclCase",
    "BfclReport",
    "CaseRecord",
    "CategoryStats",
    "CheckResult",
    "check_calls",
    "check_case",
    "load_category",
    "run_bfcl",
]
