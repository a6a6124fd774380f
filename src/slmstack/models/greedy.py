"""Greedy grammar-constrained decoding for llama.cpp that checks the grammar lazily.

llama-cpp-python's sampler chain runs the grammar over *every* token of the vocabulary (49k for
SmolLM2) before each pick. On a 135M model that check costs far more than the forward pass itself.
Greedy decoding only needs the best token the grammar allows, so this loop ranks the logits, asks
the grammar about the top ``top_k`` only, and falls back to the whole vocabulary only when none of
those is allowed — the same token the full check would pick (llama.cpp's own common sampler does
the same: check the chosen token, resample with the grammar when it is rejected).

Replies match ``create_chat_completion(grammar=..., temperature=0)`` token for token (an optional
repetition penalty works as llama.cpp's: over the last ``penalty_last_n`` generated tokens).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GreedyResult", "greedy_constrained"]

_TOKEN_DTYPE = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


@dataclass
class GreedyResult:
    tokens: list[int]
    finish_reason: str  # "stop" (end of turn / grammar complete / stop string) or "length"


class _GrammarSampler:
    """A llama.cpp grammar sampler used on its own: filter candidates, accept picks."""

    def __init__(self, llama_cpp: Any, vocab: Any, gbnf: str, root: str = "root") -> None:
        self.lib = llama_cpp
        self.ptr = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), root.encode())
        if not self.ptr:
            raise ValueError(f"llama.cpp rejected the grammar (root {root!r})")

    def allowed_best(self, ids: np.ndarray, logits: np.ndarray) -> int | None:
        """The highest-scoring of ``ids`` the grammar allows, or None when it allows none."""
        n = len(ids)
        data = (self.lib.llama_token_data * n)()
        view = np.frombuffer(data, dtype=_TOKEN_DTYPE)
        view["id"], view["logit"], view["p"] = ids, logits, 0.0
        arr = self.lib.llama_token_data_array(data=data, size=n, selected=-1, sorted=False)
        self.lib.llama_sampler_apply(self.ptr, ctypes.byref(arr))
        scores = view["logit"]
        best = int(np.argmax(scores))
        return int(view["id"][best]) if np.isfinite(scores[best]) else None

    def accept(self, token: int) -> None:
        self.lib.llama_sampler_accept(self.ptr, token)

    def free(self) -> None:
        if self.ptr:
            self.lib.llama_sampler_free(self.ptr)
            self.ptr = None


def _penalise(logits: np.ndarray, recent: Sequence[int], penalty: float) -> np.ndarray:
    """llama.cpp's repetition penalty: divide positive logits, multiply negative ones."""
    if penalty == 1.0 or not recent:
        return logits
    out = logits.copy()
    ids = np.fromiter(set(recent), dtype=np.int64)
    vals = out[ids]
    out[ids] = np.where(vals > 0, vals / penalty, vals * penalty)
    return out


def _feed_prompt(llm: Any, tokens: Sequence[int]) -> None:
    """Evaluate ``tokens``, reusing the cached prefix; at least one token is evaluated so the
    logits are fresh."""
    cached = list(llm.input_ids[: llm.n_tokens])
    prefix = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        prefix += 1
    prefix = min(prefix, len(tokens) - 1)
    if prefix <= 0 or not llm._ctx.kv_cache_seq_rm(-1, prefix, -1):
        llm.reset()
        prefix = 0
    llm.n_tokens = prefix
    llm.eval(list(tokens[prefix:]))


def greedy_constrained(
    llm: Any,
    prompt_tokens: Sequence[int],
    gbnf: str,
    *,
    max_tokens: int,
    stop: Sequence[str] = (),
    repeat_penalty: float = 1.0,
    penalty_last_n: int = 64,
    top_k: int = 64,
) -> GreedyResult:
    """Decode greedily from ``prompt_tokens`` under the GBNF grammar ``gbnf`` (root rule
    ``root``). The caller holds the model's lock. Raises ValueError when the prompt does not fit
    the context (the message llama-cpp-python uses, so callers handle both paths alike)."""
    import llama_cpp

    n_ctx = int(llm.n_ctx())
    if len(prompt_tokens) >= n_ctx:
        raise ValueError(
            f"Requested tokens ({len(prompt_tokens)}) exceed context window of {n_ctx}"
        )
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    n_vocab = int(llm.n_vocab())
    grammar = _GrammarSampler(llama_cpp, vocab, gbnf)
    out: list[int] = []
    try:
        _feed_prompt(llm, prompt_tokens)
        budget = min(max_tokens, n_ctx - len(prompt_tokens))
        while len(out) < budget:
            ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
            logits = _penalise(
                np.ctypeslib.as_array(ptr, shape=(n_vocab,)), out[-penalty_last_n:],
                repeat_penalty,
            )
            token = _pick(grammar, logits, top_k)
            if token is None or llama_cpp.llama_vocab_is_eog(vocab, token):
                return GreedyResult(out, "stop")
            grammar.accept(token)
            out.append(token)
            if stop and _hits_stop(llm, out, stop):
                return GreedyResult(out, "stop")
            llm.eval([token])
        return GreedyResult(out, "length")
    finally:
        grammar.free()


def _pick(grammar: _GrammarSampler, logits: np.ndarray, top_k: int) -> int | None:
    k = min(top_k, len(logits))
    top = np.argpartition(-logits, k - 1)[:k]
    token = grammar.allowed_best(top.astype(np.int32), logits[top])
    if token is not None:
        return token
    return grammar.allowed_best(np.arange(len(logits), dtype=np.int32), logits)


def _hits_stop(llm: Any, tokens: list[int], stop: Sequence[str]) -> bool:
    text = llm.detokenize(tokens).decode("utf-8", errors="ignore")
    return any(s and s in text for s in stop)
