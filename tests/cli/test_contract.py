"""One contract for every agent-CLI adapter: each tool is a row (rows.py), replayed by the stub
(tests/fixtures/cli/replay.py) from recorded or documented fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from executions.engine.errors import CLIExitError, CLINotFoundError, CLIToolError, ProviderProtocolError
from executions.engine.providers.cli import cli_provider, tools
from executions.engine.types import Delta, FinishDelta, ModelRequest, TextDelta
from tests.cli.harness import FIXTURES, Sandbox, base_path, drain, text_of
from tests.cli.rows import ROWS, Row


def rows(*, where: str = "") -> pytest.MarkDecorator:
    chosen = [r for r in ROWS if not where or getattr(r, where)]
    return pytest.mark.parametrize("row", chosen, ids=[r.tool for r in chosen])


def setup(row: Row, box: Sandbox, **extra: str | Path) -> tuple[Any, ModelRequest, Path]:
    stub = box.stub(row.tool)
    env = {"PATH": base_path(), **{k: str(v) for k, v in extra.items()}}
    if row.path_env:
        env[row.path_env] = str(stub)
    if row.raw_split:
        env.update(REPLAY_RAW="1", REPLAY_SPLIT=str(row.raw_split))
    model = row.model(stub)
    request = ModelRequest(model=model, prompt="Say hi", cwd=str(box.mkdir("work")))
    return cli_provider(model, env=env, kill_grace_s=0.2), request, stub


def lines(name: str | Path) -> list[str]:
    return Path(FIXTURES, name).read_text(encoding="utf-8").rstrip("\n").split("\n")


def expect_all(row: Row, items: list[Delta]) -> None:
    if row.raw_split:  # raw output may reach us in other block sizes; its text is exact all the same
        assert text_of(items[:-1]) == "".join(text for _, text in row.texts)
        assert all(isinstance(d, TextDelta) and d.text for d in items[:-1])
    else:
        assert items[:-1] == [TextDelta(text) for _, text in row.texts]
    assert items[-1] == row.finish


@rows()
async def test_each_delta_arrives_before_the_next_line_is_even_printed(row: Row, box: Sandbox) -> None:
    gate = box.gate()
    progress = box.file("progress")
    provider, request, _ = setup(
        row, box, REPLAY_FIXTURE=FIXTURES / row.fixture, REPLAY_GATE=gate.path, REPLAY_PROGRESS=progress
    )
    size = len((FIXTURES / row.fixture).read_bytes())
    total = -(-size // row.raw_split) if row.raw_split else len(lines(row.fixture))
    stream = provider.stream(request)
    for line, text in row.texts:
        gate.release_to(line)
        assert await anext(stream) == TextDelta(text)
        # The stub is held at the gate before line+1: this delta came before anything after it was printed.
        assert box.read_int("progress") == line
    assert row.texts[0][0] < total
    gate.close()
    rest = [delta async for delta in stream]
    assert rest == [row.finish]


@rows()
async def test_exact_text_usage_and_cost_argv_stdin_and_cwd(row: Row, box: Sandbox) -> None:
    record = box.file("record.json")
    provider, request, _ = setup(row, box, REPLAY_FIXTURE=FIXTURES / row.fixture, REPLAY_RECORD=record)
    request = ModelRequest(
        model={**request.model, "model": "m-1"}, prompt="Say hi", system="Be brief.", cwd=request.cwd
    )
    items, error = await drain(provider.stream(request))
    assert error is None
    expect_all(row, items)
    seen = box.read_json("record.json")
    assert seen["argv"] == row.argv
    assert seen["env"] == row.child_env
    assert seen["stdin"] == row.stdin
    assert seen["cwd"] == os.path.realpath(request.cwd or "")


@rows()
async def test_the_stage_model_cwd_wins_over_the_executors(row: Row, box: Sandbox) -> None:
    record = box.file("record.json")
    provider, request, _ = setup(row, box, REPLAY_FIXTURE=FIXTURES / row.fixture, REPLAY_RECORD=record)
    own = box.mkdir("stage's own dir")
    request = ModelRequest(model={**request.model, "cwd": str(own)}, prompt="p", cwd=request.cwd)
    _, error = await drain(provider.stream(request))
    assert error is None
    assert box.read_json("record.json")["cwd"] == str(own.resolve())


@rows()
async def test_without_a_cwd_it_runs_in_a_fresh_temp_dir_removed_afterwards(row: Row, box: Sandbox) -> None:
    record = box.file("record.json")
    provider, request, _ = setup(row, box, REPLAY_FIXTURE=FIXTURES / row.fixture, REPLAY_RECORD=record)
    _, error = await drain(provider.stream(ModelRequest(model=request.model, prompt="p")))
    assert error is None
    cwd = Path(box.read_json("record.json")["cwd"])
    assert cwd.parent == Path(tempfile.gettempdir()).resolve()
    assert cwd.name.startswith("stagecast-cli-")
    assert not cwd.exists()


@rows()
async def test_non_zero_exit_is_cli_exit_error_with_code_and_stderr_tail(row: Row, box: Sandbox) -> None:
    if row.raw_split:
        fixture = box.file("partial.txt", (FIXTURES / row.fixture).read_bytes()[:15])
        expected = [TextDelta("\x1b[1;34mPlan\x1b[0m")]
    else:
        cut = row.texts[1][0]
        fixture = box.file("partial.jsonl", "\n".join(lines(row.fixture)[:cut]) + "\n")
        expected = [TextDelta(text) for _, text in row.texts[:2]]
    stderr = "".join(f"err {i}\n" for i in range(1, 26))
    provider, request, stub = setup(row, box, REPLAY_FIXTURE=fixture, REPLAY_EXIT="3", REPLAY_STDERR=stderr)
    items, error = await drain(provider.stream(request))
    assert items == expected
    assert isinstance(error, CLIExitError)
    tail = "\n".join(f"err {i}" for i in range(6, 26))
    assert (error.exit_code, error.signal_name, error.stderr_tail) == (3, None, tail)
    label = f'command "{stub}"' if row.tool == "command" else row.tool
    assert str(error) == f"{label} exited with code 3; last stderr lines:\n{tail}"


@rows(where="tool_error")
async def test_the_tools_own_error_report_is_cli_tool_error(row: Row, box: Sandbox) -> None:
    assert row.tool_error is not None
    fixture, code, texts, message = row.tool_error
    provider, request, _ = setup(
        row, box, REPLAY_FIXTURE=FIXTURES / fixture, REPLAY_EXIT=str(code), REPLAY_STDERR="warn: one\n"
    )
    items, error = await drain(provider.stream(request))
    assert items == [TextDelta(t) for t in texts]
    assert isinstance(error, CLIToolError)
    assert (error.exit_code, error.retryable) == (code, False)
    assert str(error) == f"{message}; last stderr lines:\nwarn: one"


@rows(where="malformed")
async def test_a_malformed_line_is_a_protocol_error_quoting_it(row: Row, box: Sandbox) -> None:
    first_line, first_text = row.texts[0]
    bad = "oops {not json " + "x" * 300
    all_lines = lines(row.fixture)
    fixture = box.file("bad.jsonl", "\n".join([*all_lines[:first_line], bad, *all_lines[first_line:]]) + "\n")
    provider, request, _ = setup(row, box, REPLAY_FIXTURE=fixture)
    items, error = await drain(provider.stream(request))
    assert items == [TextDelta(first_text)]
    assert isinstance(error, ProviderProtocolError)
    quoted = '"' + bad[:200] + '…"'
    assert str(error) == (
        f"cli: {row.tool} printed a line that is not JSON at line {first_line + 1}: {quoted}; stderr was empty"
    )


@rows()
async def test_a_tool_that_prints_nothing_is_a_clear_error_with_its_stderr(row: Row, box: Sandbox) -> None:
    provider, request, stub = setup(row, box, REPLAY_FIXTURE=box.file("empty.txt", ""), REPLAY_STDERR="starting up\n")
    items, error = await drain(provider.stream(request))
    assert items == []
    label = f'command "{stub}"' if row.tool == "command" else row.tool
    if row.tool == "command":
        assert isinstance(error, ProviderProtocolError)
        assert str(error) == f"cli: {label} printed no output (exit code 0); last stderr lines:\nstarting up"
    else:
        assert isinstance(error, CLIToolError)
        assert str(error).startswith(f"{label} reported an error (exit code 0): its output ended without ")
        assert str(error).endswith("; last stderr lines:\nstarting up")


@rows()
async def test_a_missing_tool_is_cli_not_found_with_an_install_hint(
    row: Row, box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This checkout's own tools dir (where the install script puts claude) must not answer either.
    monkeypatch.setattr(tools, "PROJECT_TOOLS_BIN", box.mkdir("no-tools"))
    model = (
        {"provider": "cli", "tool": "command", "command": ["stagecast-no-such-program"]}
        if row.tool == "command"
        else {"provider": "cli", "tool": row.tool}
    )
    provider = cli_provider(model, env={"PATH": str(box.mkdir("empty-bin"))})
    items, error = await drain(provider.stream(ModelRequest(model=model, prompt="p", cwd=str(box.mkdir("w")))))
    assert items == []
    assert isinstance(error, CLINotFoundError)
    expected = row.missing_message or (
        'command "stagecast-no-such-program" is not installed or not on PATH; '
        "check the program named in the stage's model.command"
    )
    assert str(error) == expected


@rows(where="path_env")
async def test_the_tool_is_found_on_path_by_its_name(row: Row, box: Sandbox) -> None:
    stub = box.stub(row.tool, directory="on-path")
    env = {"PATH": base_path(stub.parent), "REPLAY_FIXTURE": str(FIXTURES / row.fixture)}
    model = row.model(stub)
    items, error = await drain(
        cli_provider(model, env=env).stream(ModelRequest(model=model, prompt="p", cwd=str(box.mkdir("w"))))
    )
    assert error is None
    expect_all(row, items)
    assert isinstance(items[-1], FinishDelta)
