"""The `command` tool: any program from the pipeline file, as an argv list, prompt on stdin, stdout as
the stage's text exactly as printed (ANSI colour codes and partial lines included)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from executions.engine.errors import CLIExitError, ProviderConfigError
from executions.engine.providers.cli import cli_provider
from executions.engine.types import Delta, FinishDelta, ModelRequest, TextDelta
from tests.cli.harness import Sandbox, base_path, drain, text_of


def command_model(*argv: str | Path) -> dict[str, object]:
    return {"provider": "cli", "tool": "command", "command": [str(a) for a in argv]}


async def run(box: Sandbox, request: ModelRequest, **env: str | Path) -> tuple[list[Delta], BaseException | None]:
    full_env = {"PATH": base_path(), "REPLAY_RAW": "1", **{k: str(v) for k, v in env.items()}}
    return await drain(cli_provider(request.model, env=full_env, kill_grace_s=0.2).stream(request))


async def test_the_argv_list_reaches_the_program_literally(box: Sandbox) -> None:
    argv = ["$HOME", "a b", "; echo pwned", "`id`", "*", "--flag=x", "-", "'quoted'", "$(rm -rf /)"]
    request = ModelRequest(model=command_model(box.stub(), *argv), prompt="p", cwd=str(box.mkdir("w")))
    items, error = await run(
        box, request, REPLAY_RECORD=box.file("record.json"), REPLAY_FIXTURE=box.file("out.txt", "ok")
    )
    assert error is None
    assert items == [TextDelta("ok"), FinishDelta("stop")]
    assert box.read_json("record.json")["argv"] == argv


async def test_the_prompt_arrives_on_stdin_byte_for_byte_and_system_in_the_environment(box: Sandbox) -> None:
    prompt = "Line one\r\nline two — ünïcode 🎉\n\n  trailing spaces  \x00nul" + "z" * 300_000
    request = ModelRequest(
        model={**command_model(box.stub()), "model": "m-7"},
        system="You are --system",
        prompt=prompt,
        cwd=str(box.mkdir("w")),
    )
    items, error = await run(
        box, request, REPLAY_RECORD=box.file("record.json"), REPLAY_FIXTURE=box.file("out.txt", "ok")
    )
    assert error is None
    seen = box.read_json("record.json")
    # Far past what one argument may hold (128 KiB): stdin has no such limit.
    assert seen["stdin"] == prompt
    assert seen["argv"] == []
    assert seen["env"] == {"STAGECAST_SYSTEM_PROMPT": "You are --system", "STAGECAST_MODEL": "m-7"}


async def test_ansi_and_multibyte_survive_even_one_byte_per_write(box: Sandbox) -> None:
    output = (
        "\x1b[1m\x1b[38;5;208mbold orange\x1b[0m \x1b[48;2;10;20;30mtruecolor\x1b[0m\r\n"
        "\x1b[2K\x1b[1Gprogress 100%\n日本語 ✓ 🎉 \x1b]8;;https://example.com\x07link\x1b]8;;\x07\n"
    )
    request = ModelRequest(model=command_model(box.stub()), prompt="p", cwd=str(box.mkdir("w")))
    items, error = await run(box, request, REPLAY_FIXTURE=box.file("out.txt", output), REPLAY_SPLIT="1")
    assert error is None
    assert text_of(items) == output
    assert [d for d in items if isinstance(d, TextDelta) and (not d.text or "\ufffd" in d.text)] == []
    assert items[-1] == FinishDelta("stop")


async def test_a_partial_line_streams_before_its_line_end_is_printed(box: Sandbox) -> None:
    gate = box.gate()
    request = ModelRequest(model=command_model(box.stub()), prompt="p", cwd=str(box.mkdir("w")))
    env = {"PATH": base_path(), "REPLAY_RAW": "1", "REPLAY_SPLIT": "9", "REPLAY_GATE": str(gate.path)}
    env["REPLAY_FIXTURE"] = str(box.file("out.txt", "Thinking…\x1b[32m done\x1b[0m\n"))
    stream = cli_provider(request.model, env=env).stream(request)
    gate.release_to(1)
    assert await anext(stream) == TextDelta("Thinking")  # 9 bytes: "…" is 3 bytes, 1 of them here
    gate.release_to(2)
    assert await anext(stream) == TextDelta("…\x1b[32m d")
    gate.close()
    assert [d async for d in stream] == [TextDelta("one\x1b[0m\n"), FinishDelta("stop")]


async def test_megabytes_arrive_complete_and_in_order_with_no_line_cap(box: Sandbox) -> None:
    def line(i: int) -> str:
        return f"{i:06d} \x1b[3{i % 8}m—ünïcode 🎉\x1b[0m {'x' * (i % 50)}\n"

    # 30,000 lines, then one 9 MiB line: the JSON-lines cap is not for raw output.
    output = "".join(line(i) for i in range(30_000)) + "y" * (9 * 1024 * 1024)
    request = ModelRequest(model=command_model(box.stub()), prompt="p", cwd=str(box.mkdir("w")))
    items, error = await run(box, request, REPLAY_FIXTURE=box.file("big.txt", output), REPLAY_SPLIT="65536")
    assert error is None
    assert text_of(items) == output


async def test_a_relative_program_resolves_against_our_cwd_not_the_stages(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    box.stub("tool.sh", directory="scripts")
    monkeypatch.chdir(box.dir)
    request = ModelRequest(model=command_model("./scripts/tool.sh"), prompt="p", cwd=str(box.mkdir("w")))
    items, error = await run(box, request, REPLAY_FIXTURE=box.file("out.txt", "relative ok"))
    assert error is None
    assert text_of(items) == "relative ok"


async def test_a_cwd_that_does_not_exist_is_a_config_error_and_nothing_runs(box: Sandbox) -> None:
    stub = box.stub()
    missing = box.dir / "nope"
    request = ModelRequest(model=command_model(stub), prompt="p", cwd=str(missing))
    items, error = await run(
        box, request, REPLAY_RECORD=box.dir / "record.json", REPLAY_FIXTURE=box.file("out.txt", "ok")
    )
    assert items == []
    assert isinstance(error, ProviderConfigError)
    assert str(error) == f'command "{stub}": working directory {missing} does not exist'
    assert not (box.dir / "record.json").exists()


@pytest.mark.parametrize("command", [None, [], "echo hi", [1, 2]])
async def test_tool_command_without_an_argv_list_is_a_config_error(box: Sandbox, command: object) -> None:
    model = {"provider": "cli", "tool": "command", "command": command}
    items, error = await run(box, ModelRequest(model=model, prompt="p", cwd=str(box.mkdir("w"))))
    assert items == []
    assert isinstance(error, ProviderConfigError)
    assert str(error) == "cli: tool `command` needs model.command, the program and its arguments as a list"


async def test_a_nul_byte_is_a_config_error_naming_the_variable_not_its_value(box: Sandbox) -> None:
    request = ModelRequest(model=command_model(box.stub()), system="secret\0text", prompt="p", cwd=str(box.dir))
    items, error = await run(box, request, REPLAY_FIXTURE=box.file("out.txt", "never"))
    assert items == []
    assert isinstance(error, ProviderConfigError)
    assert "secret" not in str(error)
    assert str(error).endswith(
        "environment variable STAGECAST_SYSTEM_PROMPT contains a NUL byte, which a program cannot receive"
    )


async def test_coloured_output_before_a_failing_exit_is_kept(box: Sandbox) -> None:
    request = ModelRequest(model=command_model(box.stub()), prompt="p", cwd=str(box.mkdir("w")))
    items, error = await run(
        box,
        request,
        REPLAY_FIXTURE=box.file("out.txt", "\x1b[31mfailing…\x1b[0m\n"),
        REPLAY_EXIT="2",
        REPLAY_STDERR="fatal: no\n",
    )
    assert text_of(items) == "\x1b[31mfailing…\x1b[0m\n"
    assert isinstance(error, CLIExitError)
    assert (error.exit_code, error.stderr_tail) == (2, "fatal: no")


async def test_an_unknown_tool_is_a_config_error_at_once() -> None:
    with pytest.raises(ProviderConfigError, match="model.tool must be one of claude, opencode, gemini, command"):
        cli_provider({"provider": "cli", "tool": "cursor"})


async def test_the_servers_own_secrets_are_not_passed_on(box: Sandbox) -> None:
    names = ["SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "REDIS_URL", "ANTHROPIC_API_KEY"]
    show = f"import os; print(' '.join(k for k in {names!r} if k in os.environ), end='')"
    model = command_model(sys.executable, "-c", show)
    env = {"PATH": base_path(), **{name: "x" for name in names}}
    items, error = await drain(cli_provider(model, env=env).stream(ModelRequest(model=model, prompt="p")))
    assert error is None
    assert text_of(items) == "ANTHROPIC_API_KEY"  # a tool's own key still reaches it
