"""PII redaction with presidio, offline.

presidio's pattern recognizers (e-mail, phone, credit card with Luhn, IBAN with its checksum,
IP, crypto wallet, US SSN) need no language model; they run behind presidio's no-op NLP engine.
When a spaCy model is installed (``en_core_web_lg``/``md``/``sm``), its NER adds people, places
and organisations. Nothing is ever downloaded: e-mail domains are validated against
``tldextract``'s bundled suffix list, never the online one.

Two recognizers are slmstack's own: secrets (API keys, tokens, passwords in ``key=value`` form,
long high-entropy strings) and card numbers of any issuer (13–19 digits passing the Luhn check).
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

SPACY_MODELS = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")

_SECRET_PATTERNS = [
    ("openai_key", r"\bsk-(?:proj-)?[A-Za-z0-9_\-]{16,}", 0.9),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{30,}", 0.95),
    ("aws_key_id", r"\bAKIA[0-9A-Z]{16}\b", 0.95),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0.95),
    ("google_key", r"\bAIza[0-9A-Za-z_\-]{35}", 0.95),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0.95),
    ("bearer", r"(?i)\bbearer\s+[A-Za-z0-9_\-\.=]{16,}", 0.9),
    (
        "assigned_secret",
        r"(?i)\b(?:api[_-]?key|secret|token|passw(?:or)?d|pwd|access[_-]?key)\b\s*[:=]\s*"
        r"[\"']?[^\s\"',;]{6,}",
        0.85,
    ),
    ("high_entropy", r"\b[A-Za-z0-9_\-+/]{24,}={0,2}", 0.5),
]
_CARD = r"\b(?:\d[ \-]?){12,18}\d\b"


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def looks_random(token: str) -> bool:
    """A long token mixing letters and digits with high per-character entropy: a likely secret."""
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and _entropy(token) >= 3.5


def luhn_ok(digits: str) -> bool:
    nums = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(nums) <= 19:
        return False
    total = 0
    for i, n in enumerate(reversed(nums)):
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _recognizers() -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        CryptoRecognizer,
        EmailRecognizer,
        IbanRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return _tld_extractor()(pattern_text).fqdn != ""

    class SecretRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool | None:
            if re.fullmatch(_SECRET_PATTERNS[-1][1], pattern_text):  # the generic pattern
                return looks_random(pattern_text)
            return None  # the specific patterns stand on their own

    class LuhnCardRecognizer(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return luhn_ok(pattern_text)

    secrets = SecretRecognizer(
        supported_entity="SECRET",
        patterns=[Pattern(name, rx, score) for name, rx, score in _SECRET_PATTERNS],
    )
    cards = LuhnCardRecognizer(
        supported_entity="CREDIT_CARD", patterns=[Pattern("luhn_card", _CARD, 0.6)]
    )
    builtin = [CreditCardRecognizer, CryptoRecognizer, IbanRecognizer, IpRecognizer]
    return [
        OfflineEmailRecognizer(),
        PhoneRecognizer(),
        UsSsnRecognizer(),
        *[r() for r in builtin],
        secrets,
        cards,
    ]


@cache
def _tld_extractor() -> Any:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def installed_spacy_model() -> str | None:
    return next((m for m in SPACY_MODELS if importlib.util.find_spec(m) is not None), None)


def _nlp_engine(spacy_model: str | None) -> Any:
    if spacy_model is None:
        from presidio_analyzer.nlp_engine.no_op_nlp_engine import NoOpNlpEngine

        return NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    return SpacyNlpEngine(models=[{"lang_code": "en", "model_name": spacy_model}])


@cache
def analyzer(use_ner: bool = True) -> Any:
    """The AnalyzerEngine (built once): pattern recognizers, plus spaCy NER when installed."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    spacy_model = installed_spacy_model() if use_ner else None
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in _recognizers():
        registry.add_recognizer(rec)
    if spacy_model is not None:
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        registry.add_recognizer(SpacyRecognizer())
    return AnalyzerEngine(
        registry=registry, nlp_engine=_nlp_engine(spacy_model), supported_languages=["en"]
    )


@dataclass
class Redactor:
    """Redacts strings and counts what it found, per entity type."""

    threshold: float = 0.4
    use_ner: bool = True
    found: Counter[str] = field(default_factory=Counter)

    def text(self, text: str) -> str:
        if not text or not text.strip():
            return text
        from presidio_anonymizer.entities import OperatorConfig

        results = analyzer(self.use_ner).analyze(
            text, language="en", score_threshold=self.threshold
        )
        if not results:
            return text
        self.found.update(r.entity_type for r in results)
        out = _anonymizer().anonymize(
            text, results, operators={"DEFAULT": OperatorConfig("replace")}
        )
        return str(out.text)

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like value (dict keys are left alone)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


@cache
def _anonymizer() -> Any:
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()
