"""``slmstack verify …``: ``check TRACE.json`` or just ``TRACE.json`` (a verdict), ``train``
(the step classifier from corrupted GSM8K), ``eval`` (metrics on the held-out GSM8K test
problems)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ..console import friendly


class _TraceFirst(TyperGroup):
    """``slmstack verify TRACE.json`` is ``slmstack verify check TRACE.json``: a first argument
    that is no sub-command but a file, a ``.json``/``.jsonl`` name (a missing file then gets
    ``check``'s error) or ``-`` is the trace to check."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and (
                args[0] == "-" or args[0].endswith((".json", ".jsonl")) or Path(args[0]).exists()):
            args = ["check", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(cls=_TraceFirst, no_args_is_help=True,
                  help="Process verifier: score reasoning step by step. "
                       "`slmstack verify TRACE.json` checks a trace (= `verify check`).")

DataOpt = Annotated[Path | None, typer.Option("--data", help="GSM8K folder (train/test.jsonl)")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="first N problems only")]
ModelOpt = Annotated[Path | None, typer.Option("--model", help="classifier folder (default: "
                                                               "the bundled one)")]


def _read(path: str) -> list[Any]:
    from ..errors import UserError

    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
        data = json.loads(raw)
    except OSError as exc:
        raise UserError(f"cannot read trace file {path!r}: {exc.strerror}",
                        "pass a JSON file with question/steps/answer") from None
    except ValueError as exc:
        raise UserError(f"{path!r} is not JSON ({exc})", "pass a JSON trace") from None
    return data if isinstance(data, list) else [data]


@app.command("check")
@friendly
def check(
    trace: Annotated[str, typer.Argument(help="TRACE.json (a trace or a list of them); - = stdin")],
    model: ModelOpt = None,
    rules_only: Annotated[bool, typer.Option("--rules-only", help="no classifier")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print verdicts as JSON")] = False,
) -> None:
    """Verify a trace file: per-step findings and the reasoning-integrity score."""
    from rich.console import Console
    from rich.markup import escape

    from .verifier import ProcessVerifier

    verifier = ProcessVerifier(None if rules_only else (str(model) if model else "bundled"))
    verdicts = verifier.verify_many(_read(trace))
    out = Console()
    if as_json:
        out.print_json(json.dumps([v.model_dump(mode="json") for v in verdicts]))
        return
    for v in verdicts:
        out.print(f"[bold]{escape(v.summary())}[/] · {escape(v.verifier)}")
        for f in v.findings:
            where = f"step {f.step}" if f.step is not None else f.where
            out.print(f"  {f.severity:7} {f.kind:10} {where:8} {f.explanation}", markup=False)


@app.command("train")
@friendly
def train_cmd(
    data: DataOpt = None,
    out: Annotated[Path, typer.Option("--out", help="folder for classifier + meta.json")] = Path(
        "verify-model"),
    limit: LimitOpt = None,
    fit_limit: Annotated[int | None, typer.Option(
        "--fit-limit", help="fit the trees on the first N problems only (the threshold and "
                            "the operation model still use all --limit problems)")] = None,
    seed: Annotated[int, typer.Option(help="corruption seed")] = 0,
) -> None:
    """Train the step classifier on corrupted GSM8K train solutions (split by problem)."""
    from .train import train

    clf = train(data, out, limit=limit, fit_limit=fit_limit, seed=seed)
    _print_metrics("validation (10% of train problems)", clf.meta["val_metrics"])
    typer.echo(f"saved {clf.id} to {out} (threshold {clf.threshold:.3f})")


@app.command("eval")
@friendly
def eval_cmd(
    data: DataOpt = None, model: ModelOpt = None, limit: LimitOpt = None,
    rules_only: Annotated[bool, typer.Option("--rules-only", help="no classifier")] = False,
    output: Annotated[Path | None, typer.Option("--out", help="write metrics JSON here")] = None,
) -> None:
    """Metrics on corrupted GSM8K test problems, never seen in training."""
    from .train import evaluate

    result = evaluate(data, model, limit=limit, rules_only=rules_only)
    _print_metrics(f"held-out test · {result['verifier']}", result)
    if output:
        output.write_text(json.dumps(result, indent=2) + "\n")


def _print_metrics(title: str, m: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in m["step"].items():
        table.add_row(f"step {k}", f"{v}")
    for k in ("clean_pass", "clean_false_alarm", "right_answer_flawed_recall",
              "right_answer_flawed_recall_at_5pct_false_alarm", "wrong_answer_recall"):
        table.add_row(k, f"{m[k]}")
    for k, v in m["step_recall_by_kind"].items():
        table.add_row(f"step recall · {k}", f"{v}")
    Console().print(table)
