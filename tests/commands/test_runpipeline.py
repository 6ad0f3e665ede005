"""runpipeline: streams to the terminal, --json prints exactly the wire events, Ctrl-C cancels at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.fake_models import FakeModelServer, Script
from tests.helpers.wire import assert_wire_contract

ROOT = Path(__file__).resolve().parents[2]

PIPELINE = """
id: two-step
name: Two step
defaults:
  model: { provider: anthropic, model: claude-haiku-4-5 }
stages:
  - id: draft
    prompt: "{{input}}"
  - id: polish
    prompt: "Polish [fake:text=Pol|ished|.]: {{stages.draft.output}}"
"""


def command(tmp_path: Path, fake: FakeModelServer, *args: str) -> tuple[list[str], dict[str, str]]:
    pipeline = tmp_path / "two-step.yaml"
    pipeline.write_text(textwrap.dedent(PIPELINE))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pipelines_site.settings",
        "ANTHROPIC_API_KEY": "sk-ant-cli-test-0123456789",
        "ANTHROPIC_BASE_URL": fake.url,
        "STAGECAST_DATA_DIR": str(tmp_path / "data"),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return [sys.executable, "manage.py", "runpipeline", str(pipeline), *args], env


def test_json_prints_exactly_the_wire_events(tmp_path: Path, fake_anthropic: FakeModelServer) -> None:
    argv, env = command(tmp_path, fake_anthropic, "--input", "[fake:text=Hé|llo| 👋 wor|ld,interval_ms=5]", "--json")
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_wire_contract(events)
    texts: dict[str, str] = {}
    for e in events:
        if e["type"] == "stage:output":
            texts[e["stageId"]] = texts.get(e["stageId"], "") + e["output"]
    assert texts == {"draft": "Héllo 👋 world", "polish": "Polished."}
    assert [e["type"] for e in events if not e["type"] == "stage:output"] == [
        "execution:started",
        "stage:started",
        "stage:completed",
        "stage:started",
        "stage:completed",
        "execution:completed",
    ]
    assert events[-1]["result"]["status"] == "success"


def test_terminal_output_streams_each_stage_under_its_header(tmp_path: Path, fake_anthropic: FakeModelServer) -> None:
    argv, env = command(tmp_path, fake_anthropic, "--input", "[fake:text=Hello| world]")
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "▶ [1/2] draft" in out and "▶ [2/2] polish" in out
    assert out.index("▶ [1/2] draft") < out.index("Hello world") < out.index("▶ [2/2] polish") < out.index("Polished.")
    assert out.count("✓ completed in") == 2
    assert "success" in out.splitlines()[-1]


def test_the_run_is_stored_as_an_execution(tmp_path: Path, fake_anthropic: FakeModelServer) -> None:
    argv, env = command(tmp_path, fake_anthropic, "--input", "[fake:text=Stored|.]", "--json")
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    execution_id = json.loads(done.stdout.splitlines()[0])["executionId"]
    script = (
        "from executions.models import Execution;"
        f"e = Execution.objects.get(pk='{execution_id}');"
        "print(e.status, e.last_seq, e.events.count(), [(s.stage_id, s.status, s.output) for s in e.stages.all()])"
    )
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    n = len(done.stdout.splitlines())
    assert shown.stdout.strip() == (
        f"success {n} {n} [('draft', 'completed', 'Stored.'), ('polish', 'completed', 'Polished.')]"
    )


def test_ctrl_c_cancels_the_model_call_at_once_with_exit_130(tmp_path: Path, fake_anthropic: FakeModelServer) -> None:
    fake_anthropic.enqueue(Script(deltas=tuple(f"t{i} " for i in range(500)), interval_ms=20))
    argv, env = command(tmp_path, fake_anthropic, "--input", "long answer", "--json")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fake_anthropic.wait_sent(5, timeout=60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    fake_anthropic.wait_closed(timeout=5)
    assert len(fake_anthropic.calls[-1].sent) < 500
    events = [json.loads(line) for line in out.splitlines()]
    assert events[-1]["type"] == "execution:cancelled"
    assert_wire_contract(events)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nope", "--input", "x"], 1, 'unknown pipeline "nope"'),
        (["demo", "--input", "x", "--mode", "bogus"], 2, "invalid choice: 'bogus'"),
        (["demo", "--input-file", "/nonexistent/file.txt"], 2, "--input-file /nonexistent/file.txt: No such file"),
        (["demo", "--input", "x", "--tool", "claude", "--mode", "api"], 2, "--tool goes with --mode cli"),
    ],
)
def test_wrong_usage_is_a_clear_error(tmp_path: Path, fake_anthropic: FakeModelServer, args, code, message) -> None:
    _, env = command(tmp_path, fake_anthropic)
    done = subprocess.run(
        [sys.executable, "manage.py", "runpipeline", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_rerun_from_a_stage_reuses_the_ones_before_it_without_a_model_call(
    tmp_path: Path, fake_anthropic: FakeModelServer
) -> None:
    argv, env = command(tmp_path, fake_anthropic, "--input", "[fake:text=Dr|aft]", "--json")
    first = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    parent_id = json.loads(first.stdout.splitlines()[0])["executionId"]
    calls = len(fake_anthropic.calls)
    rerun = [sys.executable, "manage.py", "runpipeline", "--rerun", parent_id, "--from", "polish", "--json"]
    done = subprocess.run(rerun, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_wire_contract(events)
    assert len(fake_anthropic.calls) - calls == 1  # polish alone
    completed = [e["result"] for e in events if e["type"] == "stage:completed"]
    assert completed[0]["reusedFrom"] == parent_id and "reusedFrom" not in completed[1]
    draft = "".join(e["output"] for e in events if e["type"] == "stage:output" and e["stageId"] == "draft")
    assert draft == "Draft"
    # Wrong use says what was wrong: exit 2 for usage, 1 for a re-run the run does not allow.
    for args, code, message in [
        (["--rerun", "not-an-id"], 2, "no execution not-an-id"),
        (["--rerun", parent_id, "--from", "nope"], 1, "no stage 'nope'"),
        (["--from", "polish", "x.yaml"], 2, "--from goes with --rerun"),
    ]:
        bad = subprocess.run(
            [sys.executable, "manage.py", "runpipeline", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert bad.returncode == code, (args, bad.stderr)
        assert message in " ".join(bad.stderr.split()), (args, bad.stderr)
