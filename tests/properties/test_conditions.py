"""skipIf / runIf / earlyExit: every condition the validator accepts evaluates to a boolean on any
context without raising, describes itself, and obeys the logic it spells (not, all, any, equals vs
notEquals, exists true vs false)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from executions.engine.conditions import condition_paths, describe_condition, evaluate_condition
from executions.engine.context import RunContext, StageState
from executions.engine.validate import validate_pipeline
from tests.properties.strategies import json_scalars, json_values, model_text

PATHS = [
    "input",
    "stages.a.output",
    "stages.a.status",
    "stages.a.data",
    "stages.a.data.verdict",
    "stages.a.data.score",
    "stages.a.data.items.0",
    "stages.a.data.items[1].title",
    "stages.a.data.missing.deep",
]
scalars = st.one_of(json_scalars, st.sampled_from(["ok", "7", "8.5", "0x1f", "true", "", "completed"]))
#: what a model's JSON may hold beyond that: json.loads keeps any integer exact, far past float's range
model_numbers = st.one_of(
    st.integers(), st.sampled_from([10**400, -(10**400), 2**1024, "0x" + "f" * 300, "1e999", "-0", "0b1"])
)
numbers = st.one_of(st.integers(-100, 100), st.floats(-1e6, 1e6, allow_nan=False), st.integers(-(2**60), 2**60))
patterns = st.one_of(st.sampled_from(["ok", "(?i)OK", "^tok", r"\d+", ".*", "a|b"]), model_text.map(re.escape))

leaves = st.fixed_dictionaries(
    {"path": st.sampled_from(PATHS)},
    optional={
        "equals": scalars,
        "notEquals": scalars,
        "in": st.lists(scalars, max_size=4),
        "contains": st.text(max_size=5),
        "matches": patterns,
        "exists": st.booleans(),
        "gt": numbers,
        "gte": numbers,
        "lt": numbers,
        "lte": numbers,
    },
)
conditions = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=6,
)
data = st.one_of(
    st.none(),
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "verdict": st.one_of(scalars, model_numbers),
            "score": st.one_of(numbers, scalars, model_numbers),
            "items": st.lists(st.one_of(scalars, st.fixed_dictionaries({"title": scalars})), max_size=3),
        },
    ),
)
contexts = st.builds(
    lambda input, status, output, d: RunContext(input=input, stages={"a": StageState(status, output, d)}),
    model_text,
    st.sampled_from(["completed", "skipped", "failed", "cancelled"]),
    model_text,
    data,
)


def accepted(cond: dict[str, Any]) -> bool:
    """What the validator says of the condition on the second stage of a pipeline."""
    raw = {
        "id": "p",
        "name": "P",
        "defaults": {"model": {"provider": "anthropic", "model": "claude-haiku-4-5"}},
        "stages": [
            {"id": "a", "prompt": "{{input}}", "output": {"format": "json"}},
            {"id": "b", "prompt": "{{stages.a.output}}", "skipIf": cond},
        ],
    }
    return validate_pipeline(raw).ok


def leaf_paths(cond: dict[str, Any]) -> list[str]:
    if "path" in cond:
        return [cond["path"]]
    if "not" in cond:
        return leaf_paths(cond["not"])
    return [p for c in cond.get("all", cond.get("any", [])) for p in leaf_paths(c)]


@given(conditions, contexts)
def test_every_accepted_condition_evaluates_to_a_boolean_and_describes_itself(
    cond: dict[str, Any], ctx: RunContext
) -> None:
    assume(accepted(cond))
    assert evaluate_condition(cond, ctx) in (True, False)
    assert describe_condition(cond)
    assert condition_paths(cond) == leaf_paths(cond)


@given(st.lists(conditions, min_size=1, max_size=3), contexts)
def test_not_all_and_any_are_the_logic_they_name(conds: list[dict[str, Any]], ctx: RunContext) -> None:
    assume(all(accepted(c) for c in conds))
    values = [evaluate_condition(c, ctx) for c in conds]
    assert evaluate_condition({"not": conds[0]}, ctx) is not values[0]
    assert evaluate_condition({"all": conds}, ctx) == all(values)
    assert evaluate_condition({"any": conds}, ctx) == any(values)


@given(st.sampled_from(PATHS), scalars, contexts)
def test_equals_and_not_equals_are_complements_and_so_are_the_two_exists(
    path: str, value: Any, ctx: RunContext
) -> None:
    assert evaluate_condition({"path": path, "equals": value}, ctx) is not evaluate_condition(
        {"path": path, "notEquals": value}, ctx
    )
    assert evaluate_condition({"path": path, "exists": True}, ctx) is not evaluate_condition(
        {"path": path, "exists": False}, ctx
    )


@given(st.sampled_from(PATHS), numbers, contexts)
def test_a_number_is_on_exactly_one_side_of_a_bound_when_comparable(path: str, bound: Any, ctx: RunContext) -> None:
    gt = evaluate_condition({"path": path, "gt": bound}, ctx)
    lte = evaluate_condition({"path": path, "lte": bound}, ctx)
    lt = evaluate_condition({"path": path, "lt": bound}, ctx)
    gte = evaluate_condition({"path": path, "gte": bound}, ctx)
    # A value that is not a number (or numeric string) compares false every way; a number exactly one way.
    assert (gt, lte) in ((True, False), (False, True), (False, False))
    assert (gt or lte) == (lt or gte)


@given(
    st.one_of(scalars, model_numbers, json_values),
    st.sampled_from(["equals", "notEquals", "in", "contains", "matches", "exists", "gt", "gte", "lt", "lte"]),
    st.data(),
)
def test_any_value_a_model_answers_with_meets_any_operator_without_raising(value: Any, op: str, draw: Any) -> None:
    """A stage's data comes from the model: a 400-digit integer is valid JSON and must compare, not crash."""
    operand = draw.draw(
        {
            "in": st.lists(scalars, max_size=3),
            "contains": st.text(max_size=3),
            "matches": patterns,
            "exists": st.booleans(),
            "gt": numbers,
            "gte": numbers,
            "lt": numbers,
            "lte": numbers,
        }.get(op, scalars)
    )
    cond = {"path": "stages.a.data.v", op: operand}
    assert accepted(cond)
    ctx = RunContext(input="", stages={"a": StageState("completed", "", {"v": value})})
    assert evaluate_condition(cond, ctx) in (True, False)
