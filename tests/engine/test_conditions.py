"""skipIf / runIf / earlyExit: leaf operators, combinators, and the text of skip reasons."""

from __future__ import annotations

from typing import Any

from executions.engine.conditions import condition_paths, describe_condition, evaluate_condition
from executions.engine.context import RunContext, StageState

CTX = RunContext(
    input="Please review",
    stages={
        "check": StageState(
            "completed",
            "Verdict: OK\n",
            {
                "verdict": "ok",
                "score": 7,
                "scoreText": "8",
                "tags": ["a", "b"],
                "empty": None,
                "flag": False,
                "one": 1,
                "bools": [True],
            },
        ),
        "gone": StageState("skipped", "", None),
    },
)
P = "stages.check.data"


def ev(cond: dict[str, Any]) -> bool:
    return evaluate_condition(cond, CTX)


def test_equals_not_equals_and_in_are_strict():
    assert ev({"path": f"{P}.verdict", "equals": "ok"}) is True
    assert ev({"path": f"{P}.verdict", "equals": "OK"}) is False
    assert ev({"path": f"{P}.score", "equals": "7"}) is False
    assert ev({"path": f"{P}.score", "equals": 7.0}) is True
    assert ev({"path": f"{P}.flag", "equals": False}) is True
    # Python says True == 1; JSON does not.
    assert ev({"path": f"{P}.one", "equals": True}) is False
    assert ev({"path": f"{P}.flag", "equals": 0}) is False
    assert ev({"path": f"{P}.verdict", "notEquals": "ok"}) is False
    assert ev({"path": f"{P}.verdict", "notEquals": "bad"}) is True
    assert ev({"path": f"{P}.score", "in": [1, 7]}) is True
    assert ev({"path": f"{P}.score", "in": ["7"]}) is False
    assert ev({"path": f"{P}.tags", "equals": "a"}) is False


def test_contains_on_strings_and_arrays_matches_as_a_regex():
    assert ev({"path": "stages.check.output", "contains": "OK"}) is True
    assert ev({"path": "stages.check.output", "contains": "ok"}) is False
    assert ev({"path": f"{P}.tags", "contains": "b"}) is True
    assert ev({"path": f"{P}.tags", "contains": "c"}) is False
    assert ev({"path": f"{P}.score", "contains": "7"}) is False
    assert ev({"path": f"{P}.bools", "contains": "True"}) is False
    assert ev({"path": "stages.check.output", "matches": "^verdict:\\s*ok$"}) is False
    assert ev({"path": "stages.check.output", "matches": "x|Verdict:\\s*OK"}) is True
    assert ev({"path": "stages.check.output", "matches": "(?i)^verdict:\\s*ok\\s*$"}) is True
    # Python's `$` also matches before a final newline, which model answers usually end with.
    assert ev({"path": "stages.check.output", "matches": "(?i)^verdict:\\s*ok$"}) is True
    assert ev({"path": f"{P}.score", "matches": "^\\d$"}) is True
    assert ev({"path": f"{P}.flag", "matches": "^false$"}) is True
    assert ev({"path": f"{P}.tags", "matches": "a"}) is False


def test_gt_gte_lt_lte_on_numbers_and_numeric_strings_only():
    assert ev({"path": f"{P}.score", "gt": 6}) is True
    assert ev({"path": f"{P}.score", "gt": 7}) is False
    assert ev({"path": f"{P}.score", "gte": 7}) is True
    assert ev({"path": f"{P}.score", "lt": 7}) is False
    assert ev({"path": f"{P}.score", "lte": 7}) is True
    assert ev({"path": f"{P}.scoreText", "gt": 7.5}) is True
    assert ev({"path": f"{P}.verdict", "lt": 100}) is False
    assert ev({"path": f"{P}.flag", "lt": 1}) is False
    assert ev({"path": f"{P}.tags", "gt": 0}) is False


def test_several_operators_on_one_leaf_must_all_hold():
    assert ev({"path": f"{P}.score", "gte": 5, "lte": 8}) is True
    assert ev({"path": f"{P}.score", "gte": 5, "lt": 7}) is False
    assert ev({"path": f"{P}.verdict", "exists": True, "equals": "ok", "notEquals": "bad"}) is True


def test_a_missing_or_null_value_equals_nothing_and_exists_false_holds_for_it():
    for path in (f"{P}.nope", f"{P}.empty", "stages.gone.data.verdict", "stages.nope.output"):
        assert (path, ev({"path": path, "equals": "ok"})) == (path, False)
        assert (path, ev({"path": path, "equals": None})) == (path, False)
        assert (path, ev({"path": path, "notEquals": "ok"})) == (path, True)
        assert (path, ev({"path": path, "in": ["ok", None]})) == (path, False)
        assert (path, ev({"path": path, "contains": ""})) == (path, False)
        assert (path, ev({"path": path, "matches": ".*"})) == (path, False)
        assert (path, ev({"path": path, "gt": -1})) == (path, False)
        assert (path, ev({"path": path, "exists": True})) == (path, False)
        assert (path, ev({"path": path, "exists": False})) == (path, True)
    assert ev({"path": f"{P}.flag", "exists": True}) is True
    assert ev({"path": "stages.gone.output", "exists": True}) is True
    assert ev({"path": "stages.gone.status", "equals": "skipped"}) is True


def test_a_bare_path_reads_as_exists():
    assert ev({"path": f"{P}.verdict"}) is True
    assert ev({"path": f"{P}.empty"}) is False


def test_all_any_not():
    ok = {"path": f"{P}.verdict", "equals": "ok"}
    no = {"path": f"{P}.verdict", "equals": "no"}
    assert ev({"all": [ok, ok]}) is True
    assert ev({"all": [ok, no]}) is False
    assert ev({"any": [no, ok]}) is True
    assert ev({"any": [no, no]}) is False
    assert ev({"not": no}) is True
    assert ev({"not": {"any": [ok, no]}}) is False


def test_condition_paths_in_order_of_appearance():
    cond = {
        "all": [
            {"path": "input", "contains": "x"},
            {"not": {"path": "stages.a.output", "exists": True}},
            {"any": [{"path": "stages.b.data.v", "equals": 1}]},
        ]
    }
    assert condition_paths(cond) == ["input", "stages.a.output", "stages.b.data.v"]


def test_describe_condition_reads_as_a_skip_reason():
    assert describe_condition({"path": "stages.draft.data.verdict", "equals": "ok"}) == (
        'stages.draft.data.verdict equals "ok"'
    )
    assert describe_condition({"path": "stages.x.data.n", "gte": 1, "lt": 5.0}) == "stages.x.data.n >= 1 and < 5"
    assert describe_condition({"path": "stages.x.data.issues.0", "exists": False}) == (
        "stages.x.data.issues.0 does not exist"
    )
    assert describe_condition({"path": "input", "in": ["a", 1, None, True], "notEquals": "b"}) == (
        'input does not equal "b" and is one of "a", 1, null, true'
    )
    assert describe_condition({"path": "stages.x.output", "matches": "^ok", "contains": "fine"}) == (
        'stages.x.output contains "fine" and matches /^ok/'
    )
    assert (
        describe_condition(
            {
                "any": [
                    {"path": "a", "equals": 1},
                    {"all": [{"path": "b", "exists": True}, {"not": {"path": "c", "gt": 2}}]},
                ]
            }
        )
        == "a equals 1 or (b exists and not c > 2)"
    )
    assert describe_condition({"all": [{"path": "a", "equals": 1}]}) == "a equals 1"
    assert describe_condition({"path": "a"}) == "a exists"
