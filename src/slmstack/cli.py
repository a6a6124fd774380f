"""The ``slmstack`` command: one sub-command per user job. Commands parse arguments and call the
library; every slmstack error becomes one line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .console import ConfigOpt, err, friendly, out
from .errors import UserError

app = typer.Typer(
    no_args_is_help=True, add_completion=False,
    help="slmstack: small language models as an on-prem agent stack. Every error is one line "
         "on stderr and exit code 1.")
eval_app = typer.Typer(no_args_is_help=True, help="Evaluate models through the stack.")
app.add_typer(eval_app, name="eval")

ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="model URI, e.g. embedded:smollm2-135m, gguf:/p.gguf"),
]
def _model(uri: str | None, config: Path | None) -> Any:
    from .config import load_settings
    from .models.registry import load_model

    with err.status(f"loading {uri or 'default model'}…"):
        return load_model(uri, load_settings(config))


def _read_schema(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    is_file = Path(text).is_file()
    raw = Path(text).read_text("utf-8") if is_file else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        if is_file:
            raise UserError(f"--schema file {text!r} is not valid JSON: {exc.msg} at line "
                            f"{exc.lineno}, column {exc.colno}", "fix the file") from None
        raise UserError(
            f"--schema is neither a JSON file nor JSON text ({exc.msg}): {text!r:.80}",
            "pass a path to a .json file or inline JSON",
        ) from None


@app.command()
@friendly
def chat(
    prompt: Annotated[str, typer.Argument(help="what to ask; '-' reads stdin")],
    model: ModelOpt = None,
    system: Annotated[str | None, typer.Option(help="system prompt")] = None,
    schema: Annotated[str | None, typer.Option(help="JSON Schema (file/text) for output")] = None,
    max_tokens: Annotated[int, typer.Option(help="most tokens to generate")] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy")] = 0.0,
    config: ConfigOpt = None,
) -> None:
    """Ask a model; the answer streams as it is generated."""
    from .types import Message

    text = sys.stdin.read() if prompt == "-" else prompt
    messages = ([Message.system(system)] if system else []) + [Message.user(text)]
    llm = _model(model, config)
    kw = {"max_tokens": max_tokens, "temperature": temperature, "schema": _read_schema(schema)}
    for ev in llm.stream(messages, **kw):
        if ev.delta:
            out.print(ev.delta, end="", markup=False, highlight=False, soft_wrap=True)
        if ev.completion is not None:
            if schema is not None:
                out.print(ev.completion.text, markup=False, highlight=False, soft_wrap=True)
            else:
                out.print()
            _footer(ev.completion)


def _footer(c: Any) -> None:
    err.print(
        f"[dim]{c.model} · {c.usage.input_tokens}→{c.usage.output_tokens} tokens · "
        f"{c.latency_s:.2f}s · ${c.cost_usd:.6f}[/]"
    )


@app.command()
@friendly
def models(config: ConfigOpt = None) -> None:
    """List the model catalog: context length, formats, size, tier, default prices."""
    from rich.table import Table

    from .config import load_settings
    from .models.catalog import Catalog

    cat = Catalog.builtin().with_user_models(load_settings(config).models)
    table = Table("name", "context", "chat", "tools", "params (B)", "tier", "$/M in", "$/M out")
    table.columns[0].no_wrap = True
    for p in cat.entries.values():
        table.add_row(
            p.name, f"{p.context_length:,}", p.chat_format, p.tool_format,
            f"{p.params_b:g}", p.tier, f"{p.price_in:.2f}", f"{p.price_out:.2f}",
        )
    out.print(table)


@app.command()
@friendly
def demo(model: ModelOpt = None, config: ConfigOpt = None) -> None:
    """Show the embedded model answering, calling a tool, and filling a JSON schema."""
    from .demo import run_demo

    run_demo(_model(model, config), out)


@eval_app.command("bfcl")
@friendly
def eval_bfcl(
    data: Annotated[Path, typer.Option(help="folder with BFCL v4 JSON files + possible_answer/")],
    model: ModelOpt = None,
    categories: Annotated[str, typer.Option(help="comma-separated")] = "simple_python",
    limit: Annotated[int | None, typer.Option(help="first N cases per category")] = None,
    mode: Annotated[str, typer.Option(help="stack | raw | both")] = "stack",
    output: Annotated[Path | None, typer.Option("--out", help="write JSON results here")] = None,
    runner: Annotated[
        str, typer.Option(help="stack: one model call per case | agent: the agent runtime")
    ] = "stack",
    config: ConfigOpt = None,
) -> None:
    """BFCL function-calling accuracy per category: raw (no constraint), through the stack, or
    through the agent runtime (--runner agent)."""
    modes = ["raw", "stack"] if mode == "both" else [mode]
    if any(m not in ("raw", "stack") for m in modes):
        raise UserError(f"--mode {mode!r} is not one of 'stack', 'raw', 'both'", "pick one")
    if runner not in ("stack", "agent"):
        raise UserError(f"--runner {runner!r} is not one of 'stack', 'agent'", "pick one")
    llm = _model(model, config)
    cats = [c.strip() for c in categories.split(",") if c.strip()]
    results = {}
    for m in modes if runner == "stack" else ["agent"]:
        report = _bfcl_report(llm, data, cats, limit, m)
        out.print(report.table())
        results[m] = report.to_json()
    if output:
        output.write_text(json.dumps(results, indent=2))
        err.print(f"results written to {output}")


def _bfcl_report(llm: Any, data: Path, cats: list[str], limit: int | None, mode: str) -> Any:
    if mode == "agent":
        from .evals.bfcl_agent import run_bfcl_agent

        return run_bfcl_agent(llm, data, cats, limit=limit)
    from .evals.bfcl import run_bfcl

    return run_bfcl(llm, data, cats, limit=limit, mode=mode)  # type: ignore[arg-type]


# ---- sub-command groups: one typer app per package (modules keep heavy imports lazy) ----------
# (one line per group below; keep this block sorted)
from .distill.cli import app as distill_app; app.add_typer(distill_app, name="distill")  # noqa: E402, E702, I001
from .rag.cli import register as _rag; _rag(app, eval_app)  # noqa: E402, E702, I001
from .router.cli import app as router_app; app.add_typer(router_app, name="router")  # noqa: E402, E702, I001
from .server.cli import app as keys_app; app.add_typer(keys_app, name="keys")  # noqa: E402, E702, I001
from .server.cli import serve as _serve; app.command("serve")(_serve)  # noqa: E402, E702, I001
from .store.cli import app as store_app; app.add_typer(store_app, name="store")  # noqa: E402, E702, I001
from .store.cli import report as _report; app.command("report")(_report)  # noqa: E402, E702, I001
from .verify.cli import app as verify_app; app.add_typer(verify_app, name="verify")  # noqa: E402, E702, I001


def main() -> None:  # pragma: no cover
    app()
