"""``slmstack kb …`` (add, sync, search, stats), ``slmstack ask`` and ``slmstack eval retrieval`` /
``eval rag``. Commands parse arguments and call the library; heavy imports stay inside them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..console import friendly
from .ask import RUNNER_HELP, needs_model

if TYPE_CHECKING:
    from .ingest import IngestReport

app = typer.Typer(no_args_is_help=True, help="Knowledge base: index documents, search them.")

DbOpt = Annotated[str | None, typer.Option(
    "--db", help="index file (SQLite) or postgresql:// URL (default: rag.db in slmstack.toml, "
                 "else .slmstack/kb.db)")]
PrecisionOpt = Annotated[str | None, typer.Option(
    help="embedder of a new index: float32 | int8 (default: rag.precision in slmstack.toml, "
         "else float32); an existing index keeps the one it was built with")]
KOpt = Annotated[int, typer.Option("-k", help="how many results")]


def _kb(db: str | None, must_exist: bool = False, one_shot: bool = False,
        precision: str | None = None, config: Path | None = None) -> Any:
    """The knowledge base at ``db`` (default: ``[rag] db``) with the embedder its vectors were
    made with (a new one: ``precision``, default ``[rag] precision``); ``one_shot``: a command
    that runs a few queries and exits searches on disk, without loading the vectors and
    postings into memory first."""
    from ..config import load_settings
    from ..errors import UserError
    from .embed import Embedder
    from .search import KnowledgeBase
    from .settings import RagSettings

    rag = RagSettings.from_settings(load_settings(config))
    db = db or rag.db
    local = not db.startswith(("postgresql://", "postgres://")) and db != ":memory:"
    if must_exist and local and not Path(db).expanduser().is_file():
        raise UserError(f"no knowledge base at {db!r}", "index files first: slmstack kb add PATH")
    if precision is not None:  # asked for on the command line: the index must match it
        emb = Embedder(precision=precision, cache_dir=rag.embedder_cache)
        return KnowledgeBase.open(db, emb, memory_caches=not one_shot)
    return KnowledgeBase.open(db, memory_caches=not one_shot, precision=rag.precision,
                              cache_dir=rag.embedder_cache)


def _ingest(db: str | None, job: str, paths: list[Path] | None = None,
            precision: str | None = None) -> IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..console import err
    from .ingest import Ingester

    kb = _kb(db, precision=precision)
    cols = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[file]}")]
    with Progress(*cols, console=err, transient=True) as bar:
        task = bar.add_task(job, total=None, file="")

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, file=Path(path).name)

        ingester = Ingester(kb, progress=progress)
        report = ingester.add(paths or []) if job == "indexing" else ingester.sync()
    kb.close()
    return report


def _print_report(report: IngestReport) -> None:
    from rich.markup import escape

    from ..console import err, out

    for path, reason in report.skipped:
        err.print(f"[yellow]skipped[/] {escape(f'{path}: {reason}')}", highlight=False,
                  soft_wrap=True)
    out.print(report.summary(), highlight=False)


@app.command()
def add(
    paths: Annotated[list[Path], typer.Argument(help="files and folders to index")],
    db: DbOpt = None,
    precision: PrecisionOpt = None,
) -> None:
    """Index files and folders (PDF, DOCX, PPTX, XLSX, HTML, Markdown, text, code); resumable."""
    friendly(lambda: _print_report(_ingest(db, "indexing", paths, precision)))()


@app.command()
def sync(db: DbOpt = None) -> None:
    """Re-index changed files and remove deleted ones, for every folder and file indexed."""
    friendly(lambda: _print_report(_ingest(db, "syncing")))()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    db: DbOpt = None,
    k: KOpt = 5,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    path: Annotated[str | None, typer.Option(help="only paths matching this glob")] = None,
    kind: Annotated[list[str] | None, typer.Option(help="only these kinds (pdf, md, …)")] = None,
    since: Annotated[str | None, typer.Option(help="only files modified since YYYY-MM-DD")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search the knowledge base; prints passages with their source:page citations."""
    friendly(_search)(query, db, k, mode, path, kind, since, as_json)


def _search(query: str, db: str | None, k: int, mode: str, path: str | None,
            kind: list[str] | None, since: str | None, as_json: bool) -> None:
    from rich.markup import escape

    from ..console import out
    from ..errors import UserError
    from .records import Filters
    from .tools import Passage

    if not query.strip():
        raise UserError("the search query is empty", "write what to look for")
    filters = Filters(path=path, kinds=kind or None, since=_date(since))
    hits = _kb(db, True, one_shot=True).search(query, k, mode, filters)
    if as_json:
        out.print_json(json.dumps([Passage.of(h).model_dump() for h in hits]))
        return
    for h in hits:
        out.print(f"[bold]{escape(h.citation)}[/] [dim]{h.score:.3f} #{h.chunk_id}[/]",
                  highlight=False)  # escaped: rich took "[notes.md:Pump]" for a style tag
        out.print(h.text[:400], markup=False, highlight=False)
        out.print()


def _date(text: str | None) -> float | None:
    from ..errors import UserError

    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise UserError(f"--since {text!r} is not a date", "write it as YYYY-MM-DD") from None


@app.command()
def stats(db: DbOpt = None) -> None:
    """Counts of documents, chunks, vectors and keyword rows (and any inconsistency)."""
    from ..console import out

    friendly(lambda: out.print_json(json.dumps(_kb(db, True).index.stats())))()


def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    db: DbOpt = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="model URI")] = None,
    k: Annotated[int, typer.Option(
        "-k", help="passages the model reads (a quoted answer is sought in at least 5)")] = 3,
    runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "agent",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="slmstack.toml")] = None,
) -> None:
    """Answer from the knowledge base citing source:page for every claim, or decline."""

    def run() -> None:
        from ..cli import _model
        from ..console import err, out
        from .ask import responder

        respond = responder(runner)
        llm = _model(model, config) if needs_model(runner) else None
        result = respond(question, _kb(db, True, one_shot=True, config=config), llm, k=k)
        if as_json:
            out.print_json(json.dumps(result.to_json()))
            return
        out.print(result.text, markup=False, highlight=False, soft_wrap=True)
        if result.note:  # e.g. the model only restated the question: the answer is a quote
            err.print(f"note: {result.note}", style="dim", markup=False, highlight=False,
                      soft_wrap=True)

    friendly(run)()


def eval_retrieval(
    data: Annotated[Path | None, typer.Option(help="BEIR folder: corpus/queries/qrels")] = None,
    bfcl: Annotated[Path | None, typer.Option(help="BFCL folder: tool retrieval")] = None,
    split: Annotated[str, typer.Option(help="qrels split")] = "test",
    db: Annotated[str, typer.Option("--db", help="index to build in")] = ":memory:",
    output: Annotated[Path | None, typer.Option("--out", help="write JSON here")] = None,
) -> None:
    """nDCG@10, Recall@5/10 and MRR@10 for BM25, dense and hybrid, side by side."""

    def run() -> None:
        from ..console import err, out
        from ..errors import UserError
        from ..evals import retrieval as r

        if (data is None) == (bfcl is None):
            raise UserError("pass exactly one of --data (BEIR) or --bfcl", "see --help")
        kb = _kb(db)
        with err.status("embedding and ranking…"):
            if bfcl is not None:
                report = r.run_tools(kb, *r.bfcl_tools(bfcl))
            else:
                report = r.run_beir(kb, r.load_beir(data, split))  # type: ignore[arg-type]
        out.print(report.table())
        if output:
            output.write_text(json.dumps(report.to_json(), indent=2))

    friendly(run)()


def eval_rag(
    data: Annotated[Path, typer.Option(help="dataset folder: docs/ + questions.jsonl")] = Path(
        "datasets/pydocqa"),
    db: Annotated[str, typer.Option("--db", help="index to build in")] = ":memory:",
    model: Annotated[str | None, typer.Option("--model", "-m", help="model URI")] = None,
    split: Annotated[str, typer.Option(
        help="a split of the dataset (pydocqa: dev, test, holdout, holdout2, holdout3) or all")
    ] = "test",
    answers: Annotated[bool, typer.Option(help="also answer with the model")] = True,
    runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "agent",
    output: Annotated[Path | None, typer.Option("--out", help="write JSON here")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="slmstack.toml")] = None,
) -> None:
    """Retrieval Recall@5, citation correctness and declines on a document-QA set."""

    def run() -> None:
        from ..cli import _model
        from ..console import err, out
        from ..evals.rag import load_questions, run_rag
        from .ingest import Ingester

        cases = load_questions(data, split)
        kb = _kb(db)
        with err.status("indexing the documents…"):
            Ingester(kb).add([data / "docs"])
        llm = _model(model, config) if answers and needs_model(runner) else None
        with err.status(f"answering {len(cases)} questions…"):
            report = run_rag(kb, cases, llm, runner=runner)
        out.print(report.table())
        if output:
            output.write_text(json.dumps(report.to_json(), indent=2))

    friendly(run)()


def register(root: typer.Typer, eval_app: typer.Typer) -> None:
    """Add ``kb``, ``ask`` and ``eval retrieval`` / ``eval rag`` to the slmstack CLI."""
    root.add_typer(app, name="kb")
    root.command("ask")(ask)
    eval_app.command("retrieval")(eval_retrieval)
    eval_app.command("rag")(eval_rag)
