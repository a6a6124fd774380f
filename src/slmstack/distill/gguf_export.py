"""Export a fine-tuned model as a GGUF file the embedded llama.cpp backend serves.

A student trained from a GGUF model learnt on that file's own (dequantised) weights, so its GGUF
is the base file with the tensors LoRA changed replaced: every key/value (architecture,
tokenizer, chat template) and every untouched tensor is copied byte for byte, and each changed
weight is written in ``qtype`` (Q8_0 by default) in llama.cpp's layout. That layout can differ
from transformers' (llama.cpp's converter permutes the rows of the q/k projections of llama
models for its rotary embedding); which layout a tensor uses is read off the base file itself:
of the candidate layouts, the one closest to the base tensor's own values is llama.cpp's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import UserError

QTYPES = {"q8_0": "Q8_0", "f16": "F16", "f32": "F32"}
# A fine-tuned weight stays close to its base (relative Frobenius norm of the difference; a
# wrong row order of a trained matrix is ~1.4 away), and clearly closer in one layout than in any
# other.
MAX_REL_DIFF = 0.75
MIN_MARGIN = 1.5


def export_gguf(
    base: Path, out: Path, weights: dict[str, Any], qtype: str = "q8_0"
) -> dict[str, Any]:
    """Write ``out``: ``base`` with the transformers-named ``weights`` (float arrays) replaced."""
    import gguf

    reader = gguf.GGUFReader(str(base))
    arch = str(_field(reader, "general.architecture"))
    replaced = _gguf_names(reader, arch, weights)
    heads = [_field(reader, f"{arch}.attention.head_count"),
             _field(reader, f"{arch}.attention.head_count_kv")]
    tmp = out.with_name(out.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), arch=arch, endianess=reader.endianess)
    _copy_fields(reader, writer, gguf)
    layouts: Counter[str] = Counter()
    for t in reader.tensors:
        if t.name in replaced:
            data, layout = _in_base_layout(replaced[t.name], t, heads, gguf)
            layouts[layout] += 1
            _add_weight(writer, t.name, data, qtype, gguf)
        else:
            writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(out)
    return {"path": str(out), "replaced": len(replaced), "qtype": qtype,
            "layouts": dict(layouts), "bytes": out.stat().st_size}


def _field(reader: Any, key: str) -> Any:
    field = reader.get_field(key)
    return field.contents() if field is not None else None


def _gguf_names(reader: Any, arch: str, weights: dict[str, Any]) -> dict[str, Any]:
    """transformers parameter names → the base file's tensor names (all must exist there)."""
    import gguf

    by_name = {v: k for k, v in gguf.MODEL_ARCH_NAMES.items()}
    if arch not in by_name:
        raise UserError(f"GGUF architecture {arch!r} is unknown to the gguf package",
                        "export the student as transformers weights (finetune.export = 'hf')")
    n_blocks = int(_field(reader, f"{arch}.block_count") or 0)
    names = gguf.get_tensor_name_map(by_name[arch], n_blocks)
    present = {t.name for t in reader.tensors}
    out = {}
    for hf_name, value in weights.items():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None or name not in present:
            raise UserError(
                f"tensor {hf_name!r} has no counterpart in the base GGUF (mapped to {name!r})",
                "export the student as transformers weights (finetune.export = 'hf')",
            )
        out[name] = value
    return out


def _copy_fields(reader: Any, writer: Any, gguf: Any) -> None:
    """Every key/value of the base except those the writer adds itself."""
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)


def permute(w: Any, n_head: int) -> Any:
    """llama.cpp's row order for a rotary q/k projection (convert_hf_to_gguf's ``permute``)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def _in_base_layout(w: Any, tensor: Any, heads: list[Any], gguf: Any) -> tuple[Any, str]:
    import numpy as np

    base = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
    w = np.ascontiguousarray(np.asarray(w, dtype=np.float32))
    if w.shape != base.shape:
        raise UserError(f"tensor {tensor.name!r}: shape {w.shape} differs from the base's "
                        f"{base.shape}", "export from a student of this very base model")
    candidates = {"as-is": w}
    for n in {int(h) for h in heads if h}:
        if w.ndim == 2 and w.shape[0] % (2 * n) == 0:
            candidates[f"rope-permuted/{n}"] = permute(w, n)
    norm = float(np.linalg.norm(base)) or 1.0
    diffs = {k: float(np.linalg.norm(c - base)) / norm for k, c in candidates.items()}
    best, *others = sorted(diffs, key=lambda k: diffs[k])
    if diffs[best] > MAX_REL_DIFF or any(diffs[o] < MIN_MARGIN * diffs[best] for o in others):
        raise UserError(f"tensor {tensor.name!r} matches the base in no known layout "
                        f"(relative differences {diffs!r})",
                        "export from a student of this very base model")
    return candidates[best], best.split("/")[0]


def _add_weight(writer: Any, name: str, data: Any, qtype: str, gguf: Any) -> None:
    import numpy as np

    kind = QTYPES.get(qtype)
    if kind is None:
        raise UserError(f"unknown GGUF tensor type {qtype!r}", f"use one of {sorted(QTYPES)}")
    if kind == "Q8_0" and data.shape[-1] % 32:
        kind = "F16"  # Q8_0 blocks are 32 values of a row
    q = gguf.GGMLQuantizationType[kind]
    if kind == "F32":
        writer.add_tensor(name, data.astype(np.float32), raw_dtype=q)
    elif kind == "F16":
        writer.add_tensor(name, data.astype(np.float16), raw_dtype=q)
    else:
        writer.add_tensor(name, gguf.quants.quantize(data, q), raw_dtype=q)
