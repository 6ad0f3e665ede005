"""Loading pipeline files: YAML errors with line and column, ids across dirs, listing, the new-pipeline template."""

from __future__ import annotations

from pathlib import Path

import pytest

from executions.engine.errors import PipelineConfigError, UnknownPipelineError
from executions.engine.loader import (
    BUILTIN_DIR,
    find_pipeline,
    list_pipelines,
    load_pipeline,
    load_pipeline_text,
    new_pipeline_text,
    pipeline_id_problem,
)

BUILTINS = ["code-review", "demo", "prompt-optimizer", "summarize-critique"]


def pipeline_yaml(pid: str, name: str) -> str:
    return (
        f"id: {pid}\nname: {name}\ndescription: {name} here\ndefaults:\n  model: {{ provider: local }}\n"
        'stages:\n  - id: one\n    prompt: "{{input}}"\n'
    )


BROKEN = 'id: broken\nname: Broken\nstages:\n  - id: a\n    prompt: "never closed\n'
INVALID = (
    "id: invalid\nname: Invalid\nstages:\n  - id: a\n    promt: hi\n    model: { provider: local }\n"
    '  - id: b\n    prompt: "{{stages.zzz.output}}"\n    model: { provider: local }\n'
)
INVALID_ISSUES = [
    ("stages[0].prompt", "missing; expected a string"),
    ("stages[0]", 'unknown field "promt"; did you mean "prompt"?'),
    ("stages[1].prompt", 'unknown variable {{stages.zzz.output}} (no stage "zzz"; earlier stages: a)'),
]


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    d = tmp_path / "pipelines"
    d.mkdir()
    (d / "demo.yaml").write_text(pipeline_yaml("demo", "Local demo"))
    (d / "short.yml").write_text(pipeline_yaml("short", "Short"))
    (d / "renamed.yaml").write_text(pipeline_yaml("declared-id", "Declared"))
    (d / "broken.yaml").write_text(BROKEN)
    (d / "invalid.yaml").write_text(INVALID)
    (d / "empty.yaml").write_text("\n")
    (d / "notes.txt").write_text("not a pipeline")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.yaml").write_text(pipeline_yaml("by-path", "By path"))
    return d


def text_issues(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PipelineConfigError) as caught:
        load_pipeline_text(text, "f.yaml")
    assert caught.value.source == "f.yaml"
    return caught.value.issues


# --- load_pipeline_text ---------------------------------------------------------------------------


def test_valid_text_gives_the_normalized_config():
    config = load_pipeline_text(pipeline_yaml("x", "X") + "    output: { extract: [] }\n", "x.yaml")
    assert config == {
        "id": "x",
        "name": "X",
        "description": "X here",
        "defaults": {"model": {"provider": "local"}},
        "stages": [{"id": "one", "prompt": "{{input}}", "output": {"extract": [], "format": "text"}}],
    }


def test_a_yaml_syntax_error_names_line_and_column():
    assert text_issues(BROKEN) == [
        (
            "",
            "YAML syntax error at line 6, column 1: found unexpected end of stream "
            "(while scanning a quoted scalar that starts at line 5, column 13)",
        )
    ]
    assert text_issues("id: x\nname: a: b\n") == [
        ("", "YAML syntax error at line 2, column 8: mapping values are not allowed here")
    ]


def test_an_alias_to_nothing_duplicate_keys_and_several_documents_are_clean_issues():
    assert text_issues("id: x\nname: *title\n") == [
        (
            "",
            "YAML syntax error at line 2, column 7: found undefined alias 'title' "
            "(an alias *name needs an anchor &name earlier in the file)",
        )
    ]
    assert text_issues("id: x\nname: X\nid: y\n") == [
        ("", "YAML syntax error at line 3, column 1: duplicate key 'id' (first at line 1)")
    ]
    assert text_issues("id: x\n---\nid: y\n") == [
        (
            "",
            "YAML syntax error at line 2, column 1: expected a single document in the stream, "
            "but found another document",
        )
    ]


def test_a_top_level_that_is_not_a_mapping_and_an_empty_file():
    assert text_issues("- id: x\n") == [("", "expected a pipeline object (id, name, stages); got an array")]
    assert text_issues("just words\n") == [
        ("", 'expected a pipeline object (id, name, stages); got string "just words"')
    ]
    assert text_issues("# only a comment\n") == [("", "expected a pipeline object (id, name, stages); got null")]
    assert text_issues(" \n\n") == [("", "the file is empty; a pipeline needs id, name and stages")]


def test_yaml_1_2_scalars_no_yes_and_dates_stay_strings_numbers_stay_numbers():
    text = pipeline_yaml("x", "2024-01-01") + "    skipIf: { path: input, in: [no, yes, on, 012, 0x10, 1e3, 1:20] }\n"
    config = load_pipeline_text(text, "x.yaml")
    assert config["name"] == "2024-01-01"
    assert config["stages"][0]["skipIf"]["in"] == ["no", "yes", "on", 12, 16, 1000.0, "1:20"]


def test_merge_keys_share_a_model_block():
    text = (
        "id: x\nname: X\nstages:\n"
        "  - id: a\n    prompt: p\n    model: &m { provider: anthropic, model: claude-haiku-4-5 }\n"
        "  - id: b\n    prompt: p\n    model: { <<: *m, maxTokens: 50 }\n"
    )
    config = load_pipeline_text(text, "x.yaml")
    assert config["stages"][1]["model"] == {"provider": "anthropic", "model": "claude-haiku-4-5", "maxTokens": 50}


def test_recursive_aliases_and_alias_bombs_are_refused():
    assert text_issues("id: x\nname: X\nstages: &s [*s]\n") == [
        ("", "the pipeline contains itself (a YAML alias inside its own anchor)")
    ]
    bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 8)
    )
    assert text_issues(bomb) == [("", "the pipeline holds more than 100000 values once YAML aliases are expanded")]
    assert text_issues("a: " + "[" * 150 + "]" * 150 + "\n") == [
        ("", "YAML syntax error at line 1, column 103: the document nests more than 100 levels deep")
    ]


def test_a_config_error_lists_every_problem_under_its_source():
    with pytest.raises(PipelineConfigError) as caught:
        load_pipeline_text(INVALID, "/srv/p/invalid.yaml")
    assert caught.value.issues == INVALID_ISSUES
    assert caught.value.message == (
        "/srv/p/invalid.yaml: 3 problems:\n"
        "  stages[0].prompt: missing; expected a string\n"
        '  stages[0]: unknown field "promt"; did you mean "prompt"?\n'
        '  stages[1].prompt: unknown variable {{stages.zzz.output}} (no stage "zzz"; earlier stages: a)'
    )


# --- load_pipeline --------------------------------------------------------------------------------


def test_a_builtin_id_loads_from_the_builtin_dir():
    entry = find_pipeline("code-review", [])
    assert (entry.id, entry.builtin, entry.source, entry.warnings) == (
        "code-review",
        True,
        str(BUILTIN_DIR / "code-review.yaml"),
        [],
    )
    assert load_pipeline("code-review", [])["stages"][1]["continueOnError"] is True


def test_a_deployment_pipeline_overrides_the_builtin_of_the_same_id(deploy: Path):
    entry = find_pipeline("demo", [deploy])
    assert (entry.name, entry.builtin, entry.source) == ("Local demo", False, str(deploy / "demo.yaml"))


def test_ids_are_the_declared_ones_yml_files_count(deploy: Path):
    assert load_pipeline("short", [deploy])["name"] == "Short"
    assert load_pipeline("declared-id", [deploy])["name"] == "Declared"
    with pytest.raises(UnknownPipelineError):
        load_pipeline("renamed", [deploy])


def test_the_first_deployment_dir_wins(deploy: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "short.yaml").write_text(pipeline_yaml("short", "Other short"))
    assert load_pipeline("short", [other, deploy])["name"] == "Other short"
    assert load_pipeline("short", [deploy, other])["name"] == "Short"


def test_a_path_relative_to_the_working_directory_or_absolute(deploy: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(deploy.parent)
    assert load_pipeline("sub/p.yaml", [])["id"] == "by-path"
    assert find_pipeline(str(deploy.parent / "sub" / "p.yaml"), []).source == str(deploy.parent / "sub" / "p.yaml")
    assert load_pipeline("pipelines/short.yml", [])["id"] == "short"


def test_an_invalid_file_raises_with_its_source_and_every_issue(deploy: Path):
    with pytest.raises(PipelineConfigError) as caught:
        load_pipeline("invalid", [deploy])
    assert (caught.value.source, caught.value.issues) == (str(deploy / "invalid.yaml"), INVALID_ISSUES)
    with pytest.raises(PipelineConfigError) as caught:
        load_pipeline("empty", [deploy])
    assert caught.value.issues == [("", "the file is empty; a pipeline needs id, name and stages")]


def test_an_unknown_id_lists_what_exists_and_suggests_a_close_one(deploy: Path):
    with pytest.raises(UnknownPipelineError) as caught:
        load_pipeline("sumarize-critique", [])
    err = caught.value
    assert (err.code, err.available, err.message) == (
        "unknown_pipeline",
        BUILTINS,
        'unknown pipeline "sumarize-critique": no built-in or deployment pipeline has this id '
        '(available: code-review, demo, prompt-optimizer, summarize-critique); did you mean "summarize-critique"?',
    )
    with pytest.raises(UnknownPipelineError) as caught:
        load_pipeline("nope", [deploy])
    assert caught.value.available == sorted([*BUILTINS, "broken", "declared-id", "empty", "invalid", "short"])
    assert caught.value.message == (
        'unknown pipeline "nope": no built-in or deployment pipeline has this id (available: broken, code-review, '
        "declared-id, demo, empty, invalid, prompt-optimizer, short, summarize-critique)"
    )


def test_a_missing_file_and_paths_refused_for_ids_from_urls(deploy: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(deploy.parent)
    with pytest.raises(UnknownPipelineError) as caught:
        load_pipeline("sub/missing.yaml", [])
    assert (
        caught.value.message
        == f'unknown pipeline "sub/missing.yaml": no such file ({deploy.parent / "sub" / "missing.yaml"})'
    )
    with pytest.raises(UnknownPipelineError) as caught:
        load_pipeline("../sub/p.yaml", [deploy], allow_paths=False)
    assert caught.value.message == 'unknown pipeline "../sub/p.yaml": expected a pipeline id ([a-z0-9-]+), not a path'
    assert load_pipeline("short", [deploy], allow_paths=False)["id"] == "short"


# --- list_pipelines -------------------------------------------------------------------------------


def test_builtins_then_deployment_files_invalid_ones_listed_with_their_issues(deploy: Path):
    (deploy / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    entries = list_pipelines([deploy, deploy / "missing"])
    assert [(e.id, e.builtin, e.valid, e.shadowed) for e in entries] == [
        ("code-review", True, True, False),
        ("demo", True, True, True),
        ("prompt-optimizer", True, True, False),
        ("summarize-critique", True, True, False),
        ("broken", False, False, False),
        ("demo", False, True, False),
        ("empty", False, False, False),
        ("invalid", False, False, False),
        ("latin1", False, False, False),
        ("declared-id", False, True, False),
        ("short", False, True, False),
    ]
    by_file = {Path(e.source).name: e for e in entries if not e.builtin}
    invalid = by_file["invalid.yaml"]
    assert (invalid.name, invalid.description, invalid.config, invalid.issues) == (
        "Invalid",
        None,
        None,
        INVALID_ISSUES,
    )
    broken = by_file["broken.yaml"]
    assert (broken.id, broken.name, broken.issues) == ("broken", "broken", [("", INVALID_YAML_MESSAGE)])
    assert by_file["latin1.yaml"].issues == [("", "the file is not UTF-8 text (invalid continuation byte at byte 9)")]
    short = by_file["short.yml"]
    assert (short.id, short.name, short.description, short.issues, short.source) == (
        "short",
        "Short",
        "Short here",
        [],
        str(deploy / "short.yml"),
    )
    assert short.config is not None and short.config["stages"][0]["id"] == "one"


INVALID_YAML_MESSAGE = (
    "YAML syntax error at line 6, column 1: found unexpected end of stream "
    "(while scanning a quoted scalar that starts at line 5, column 13)"
)


def test_no_dirs_lists_the_builtins_and_the_builtin_dir_is_never_listed_twice():
    assert [e.id for e in list_pipelines([])] == BUILTINS
    entries = list_pipelines([BUILTIN_DIR, BUILTIN_DIR / "."])
    assert [(e.id, e.builtin, e.shadowed) for e in entries] == [(pid, True, False) for pid in BUILTINS]


# --- newpipeline ----------------------------------------------------------------------------------


def test_the_new_pipeline_template_is_a_valid_two_stage_pipeline_on_the_local_model(tmp_path: Path):
    text = new_pipeline_text("weekly-report")
    assert text.startswith("# weekly-report: a stagecast pipeline.")
    config = load_pipeline_text(text, "weekly-report.yaml")
    assert [
        config["id"],
        config["name"],
        [s["id"] for s in config["stages"]],
        config["defaults"]["model"]["provider"],
    ] == [
        "weekly-report",
        "Weekly report",
        ["draft", "improve"],
        "local",
    ]
    (tmp_path / "weekly-report.yaml").write_text(text)
    entry = find_pipeline("weekly-report", [tmp_path])
    assert (entry.valid, entry.warnings) == (True, [])


def test_names_outside_the_id_pattern_are_refused_with_a_suggestion():
    assert pipeline_id_problem("ok-2") is None
    assert pipeline_id_problem("My Pipe!") == (
        '"My Pipe!" is not a valid pipeline id: use lowercase letters, digits and dashes (e.g. my-pipe)'
    )
    assert pipeline_id_problem("") == '"" is not a valid pipeline id: use lowercase letters, digits and dashes'
    with pytest.raises(PipelineConfigError) as caught:
        new_pipeline_text("Bad_Name")
    assert caught.value.issues == [
        ("id", '"Bad_Name" is not a valid pipeline id: use lowercase letters, digits and dashes (e.g. bad-name)')
    ]
