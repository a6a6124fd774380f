"""The whole conversion loop on a tiny real GGUF model, driven through the CLI: killed with
SIGKILL in the middle of fine-tuning, resumed, exported as GGUF, validated and shadowed on the
embedded llama.cpp backend, promoted, rolled back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import traffic
from typer.testing import CliRunner

from slmstack.cli import app
from slmstack.distill.artifacts import RunDir
from slmstack.distill.protocols import MemoryRoutingSink
from slmstack.store.records import Route, RoutingTable

TEACHER = "gguf:/models/teacher.gguf"


def _config(path: Path, tiny: Path, bar: float) -> Path:
    path.write_text(f"""
[distill.select]
candidates = ["gguf:{tiny}"]
heldout_limit = 3
max_tokens = 24

[distill.finetune]
max_steps = 8
val_fraction = 0.4
eval_every = 4
batch_size = 2
save_every = 2
lr = 0.003

[distill.shadow]
limit = 3
bar = {bar}
max_tokens = 24
""")
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_llama_gguf):
    d = tmp_path_factory.mktemp("pipeline")
    (d / "traces.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in traffic(16, 8)))
    MemoryRoutingSink(RoutingTable(routes={"tool_call": Route(model=TEACHER)}),
                      path=d / "routing.json")
    _config(d / "bar0.toml", tiny_llama_gguf, 0.0)
    return d


def _args(d: Path, config: str) -> list[str]:
    return ["distill", "run", "--run", str(d / "run"), "--traces", str(d / "traces.jsonl"),
            "--routing", str(d / "routing.json"), "--config", str(d / config)]


def _kill_during_finetune(d: Path) -> None:
    code = "import sys; from slmstack.cli import app; sys.argv[0] = 'slmstack'; app()"
    proc = subprocess.Popen([sys.executable, "-c", code, *_args(d, "bar0.toml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = d / "run" / "finetune" / "tool_call" / "checkpoint.pt"
    deadline = time.time() + 600
    while not ckpt.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), "the pipeline never reached fine-tuning"


@pytest.fixture(scope="module")
def finished(workdir):
    _kill_during_finetune(workdir)
    run = RunDir(workdir / "run")
    assert not run.finished("finetune")
    before = {s: run.meta(s)["finished_at"] for s in ("collect", "curate", "cluster", "select")}
    result = CliRunner().invoke(app, _args(workdir, "bar0.toml"))
    assert result.exit_code == 0, result.output
    return workdir, before


def test_resumes_after_kill_9(finished):
    d, before = finished
    run = RunDir(d / "run")
    assert {s: run.meta(s)["finished_at"] for s in before} == before  # not redone
    student = json.loads((d / "run" / "finetune" / "students.json").read_text())["tool_call"]
    assert student["resumed_from"] >= 2 and student["steps"] == 8
    assert (Path(student["hf_uri"][3:]) / "config.json").is_file()
    assert student["uri"].startswith("gguf:") and Path(student["student_uri"][5:]).is_file()
    assert student["gguf"]["layouts"]["rope-permuted"] == 4  # q, k of the 2 layers
    assert set(student["val_agreement"]) == {"base", "student"}


def test_promoted_then_rolled_back(finished):
    d, _ = finished
    table = MemoryRoutingSink(path=d / "routing.json").current_routing_table()
    route = table.routes["tool_call"]
    assert table.version == 2 and route.model.endswith("-student.gguf")
    assert route.fallbacks == [TEACHER]
    shadow = (d / "run" / "shadow" / "tool_call.jsonl").read_text().splitlines()
    assert all(json.loads(line)["shadow"]["shadow_of"] for line in shadow)
    out = CliRunner().invoke(app, ["distill", "rollback", "--routing", str(d / "routing.json")])
    assert out.exit_code == 0 and "v3" in out.output
    again = MemoryRoutingSink(path=d / "routing.json").current_routing_table()
    assert again.routes["tool_call"].model == TEACHER


def test_status_and_held_back_candidate(finished):
    d, _ = finished
    out = CliRunner().invoke(app, ["distill", "status", "--run", str(d / "run")],
                            env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "tool_call" in out.output
    from slmstack.distill.config import ShadowConfig
    from slmstack.distill.promote import promote
    from slmstack.distill.shadow import shadow

    run = RunDir(d / "run")
    meta = shadow(run, ShadowConfig(limit=3, bar=1.01, max_tokens=24), force=True, show=False)
    assert meta["metrics"]["tool_call"]["passed"] is False
    sink = MemoryRoutingSink(RoutingTable(routes={"tool_call": Route(model=TEACHER)}))
    assert promote(run, sink, force=True)["metrics"]["promoted"] == []
    assert sink.current_routing_table().version == 1  # nothing written


def test_shadow_under_the_verifier(finished):
    """rule non_inferior on the real student: the incumbent's recorded replies are scored by the
    same verifier, and the decision follows the two pass rates."""
    from slmstack.distill.cli import default_verifier
    from slmstack.distill.config import ShadowConfig
    from slmstack.distill.shadow import shadow

    d, _ = finished
    cfg = ShadowConfig(limit=3, rule="non_inferior", floor=0.0, min_n=1, max_tokens=24)
    meta = shadow(RunDir(d / "run"), cfg, verifier=default_verifier(), force=True, show=False)
    decision = meta["metrics"]["tool_call"]
    v = decision["verified"]
    assert v["incumbent_pass"] == 1.0  # the recorded teacher calls are grounded in the request
    assert decision["passed"] is (v["candidate_pass"] >= 0.95 * v["incumbent_pass"])


def test_cli_errors_are_one_line(tmp_path):
    out = CliRunner().invoke(app, ["distill", "collect", "--run", str(tmp_path / "r"),
                                   "--traces", str(tmp_path / "missing.jsonl")])
    assert out.exit_code == 1 and "does not exist" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(app, ["distill", "curate", "--run", str(tmp_path / "r")])
    assert out.exit_code == 1 and "distill collect" in out.output
