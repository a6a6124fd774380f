"""Trainable transformers weights for a candidate model URI, and export of the trained result.

* ``hf:/path`` is already a transformers folder;
* ``embedded:NAME`` and ``gguf:/path.gguf`` are dequantised by transformers' GGUF loader
  (``from_pretrained(folder, gguf_file=...)``) and saved once as a transformers folder.
The folder keeps the model's file stem, so the catalog gives it the same profile (chat template
quirks, prices) as the model it came from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ModelNotFound, UserError


def weights_source(uri: str) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) holding the weights a model URI names."""
    scheme, _, rest = uri.partition(":")
    if scheme == "hf":
        path = Path(rest.split("+", 1)[0]).expanduser()
        if not (path / "config.json").is_file():
            raise ModelNotFound(f"no transformers model at {str(path)!r}", "check the hf: path")
        return path, None
    if scheme == "embedded":
        from ..models.embedded import EMBEDDED

        if rest not in EMBEDDED:
            raise ModelNotFound(f"unknown embedded model {uri!r}", f"use one of {list(EMBEDDED)}")
        path = EMBEDDED[rest]()
        return path.parent, path.name
    if scheme == "gguf":
        path = Path(rest).expanduser()
        if not path.is_file():
            raise ModelNotFound(f"GGUF file {str(path)!r} not found", "check the gguf: path")
        return path.parent, path.name
    raise UserError(
        f"cannot fine-tune {uri!r}: only hf:, embedded: and gguf: models have local weights",
        "list a local model among distill.select.candidates",
    )


def slug(uri: str) -> str:
    """A folder name from a model URI that keeps the model's name (for catalog lookup)."""
    folder, gguf = weights_source(uri)
    stem = Path(gguf).stem if gguf else folder.name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-").lower() or "model"


def materialize(uri: str, out: Path) -> Path:
    """A transformers folder for ``uri`` (written under ``out`` for GGUF sources)."""
    folder, gguf = weights_source(uri)
    if gguf is None:
        return folder
    if (out / "config.json").is_file():
        return out
    from ..models.hf import _transformers

    tf = _transformers()
    tok = tf.AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf)
    model = tf.AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf)
    save_plain(model, tok, out)
    return out


def save_plain(model: Any, tokenizer: Any, out: Path) -> None:
    """save_pretrained without GGUF quantisation leftovers; written whole, then renamed."""
    if getattr(model, "hf_quantizer", None) is not None:  # GGUF-loaded: already dequantised
        model.hf_quantizer = None
        model.config.__dict__.pop("quantization_config", None)
    tmp = out.with_name(out.name + ".tmp")
    model.save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    if out.exists():
        import shutil

        shutil.rmtree(out)
    tmp.replace(out)
