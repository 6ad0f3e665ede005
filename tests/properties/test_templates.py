"""Prompt templates on any context: rendering never fails but with a TemplateError that names where it
happened; unknown variables say so; text without references and escaped references pass through."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from executions.engine.context import RunContext, StageState
from executions.engine.errors import TemplateError
from executions.engine.templates import REF, VARIABLE_HELP, render_template
from tests.properties.strategies import json_values, model_text

WHERE = "stages[3].prompt"
STAGE_IDS = ["draft", "review", "a-b"]
STATUSES = ["pending", "running", "completed", "skipped", "failed", "cancelled"]

stage_states = st.builds(
    StageState,
    status=st.sampled_from(STATUSES),
    output=model_text,
    data=st.one_of(st.none(), json_values),
)
contexts = st.builds(
    RunContext,
    input=model_text,
    stages=st.dictionaries(st.sampled_from([*STAGE_IDS, "x"]), stage_states, max_size=4),
)
path_segments = st.lists(
    st.one_of(st.sampled_from(["verdict", "items", "0", "1", "title", "a.b", ""]), st.text(max_size=5)), max_size=3
)
expressions = st.one_of(
    st.just("input"),
    st.builds(lambda s, f: f"stages.{s}.{f}", st.sampled_from(STAGE_IDS), st.sampled_from(["output", "status"])),
    st.builds(lambda s, p: ".".join(["stages", s, "data", *p]), st.sampled_from(STAGE_IDS), path_segments),
    st.builds(
        lambda s, p: f"stages.{s}.data" + "".join(f"[{i}]" for i in p),
        st.sampled_from(STAGE_IDS),
        st.lists(st.integers(0, 3), max_size=2),
    ),
    st.text(alphabet=st.characters(exclude_characters="{}"), max_size=20),
)
references = st.builds(
    lambda escaped, pad1, expr, pad2: ("\\" if escaped else "") + "{{" + pad1 + expr + pad2 + "}}",
    st.booleans(),
    st.sampled_from(["", " ", "  "]),
    expressions,
    st.sampled_from(["", " "]),
)
templates = st.lists(st.one_of(model_text, references, st.sampled_from(["{", "}", "{{", "}}", "\\"])), max_size=8).map(
    "".join
)


@given(templates, contexts)
def test_rendering_any_template_on_any_context_gives_text_or_a_template_error_naming_where(
    template: str, ctx: RunContext
) -> None:
    try:
        out = render_template(template, ctx, WHERE)
    except TemplateError as err:
        assert err.message.startswith(f"{WHERE}: ")
    else:
        assert isinstance(out, str)


@given(st.text(alphabet=st.characters(exclude_characters="{}"), max_size=20), contexts)
def test_an_unknown_variable_is_a_template_error_with_the_path_and_the_help(expr: str, ctx: RunContext) -> None:
    name = expr.strip()
    assume(name != "input" and not name.startswith("stages"))
    try:
        render_template(f"before {{{{{expr}}}}} after", ctx, WHERE)
    except TemplateError as err:
        assert err.message == f"{WHERE}: unknown variable {{{{{name}}}}}; {VARIABLE_HELP}"
    else:
        raise AssertionError(f"{{{{{expr}}}}} rendered")


@given(model_text, contexts)
def test_text_without_references_renders_as_it_is(text: str, ctx: RunContext) -> None:
    assume(REF.search(text) is None)
    assert render_template(text, ctx, WHERE) == text


@given(model_text, st.text(alphabet=st.characters(exclude_characters="{}"), max_size=20), contexts)
def test_an_escaped_reference_renders_literally(text: str, expr: str, ctx: RunContext) -> None:
    assume(REF.search(text) is None and not text.endswith("\\"))
    assert render_template(f"{text}\\{{{{{expr}}}}}", ctx, WHERE) == f"{text}{{{{{expr}}}}}"


@given(contexts, model_text, st.sampled_from(STAGE_IDS), stage_states)
def test_input_and_a_finished_stage_output_render_exactly(
    ctx: RunContext, prefix: str, stage_id: str, state: StageState
) -> None:
    assume(REF.search(prefix) is None and not prefix.endswith("\\"))
    ctx.stages[stage_id] = state
    rendered = render_template(f"{prefix}{{{{ input }}}}|{{{{stages.{stage_id}.status}}}}", ctx, WHERE)
    assert rendered == f"{prefix}{ctx.input}|{state.status}"
    if state.status in ("completed", "failed", "cancelled"):
        assert render_template(f"{{{{stages.{stage_id}.output}}}}", ctx, WHERE) == state.output


@given(contexts, st.sampled_from(STAGE_IDS), json_values)
def test_stage_data_renders_strings_as_is_and_structures_as_json(ctx: RunContext, stage_id: str, value: Any) -> None:
    ctx.stages[stage_id] = StageState("completed", "out", {"v": value})
    rendered = render_template(f"{{{{stages.{stage_id}.data.v}}}}", ctx, WHERE)
    if isinstance(value, str):
        assert rendered == value
    elif value is None:
        assert rendered == ""
    elif isinstance(value, dict | list):
        assert json.loads(rendered) == value
