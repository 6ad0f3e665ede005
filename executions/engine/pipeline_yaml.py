"""YAML text → the raw pipeline value, or issues that say where the text is wrong.

PyYAML implements YAML 1.1, where ``no``, ``on`` and ``yes`` are booleans, ``012`` is octal, ``1:20`` is
a number and ``2024-01-01`` a date; pipeline files (and v1, which read YAML 1.2) mean the plain
strings. :class:`PipelineYamlLoader` is PyYAML's safe loader with the YAML 1.2 core schema instead,
duplicate keys refused (1.1 lets the last one win silently) and a nesting limit.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

Issues = list[tuple[str, str]]

#: Deeper than any pipeline needs, and well inside Python's recursion limit for the composer.
MAX_YAML_DEPTH = 100

_CORE_INT = re.compile(r"([-+]?)(0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+)")


class PipelineYamlLoader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"the document nests more than {MAX_YAML_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[tuple[bool, Any], int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            # `true` and `1` are different keys, though Python says True == 1.
            ident = (isinstance(key, bool), key)
            try:
                seen = first_line.get(ident)
            except TypeError:
                continue  # unhashable: the base class reports it
            if seen is not None:
                raise ConstructorError(None, None, f"duplicate key {key!r} (first at line {seen})", key_node.start_mark)
            first_line[ident] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_core_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        m = _CORE_INT.fullmatch(text)
        try:
            if m is None:  # an explicit !!int in a YAML 1.1 form (1_000, 0b101)
                return SafeConstructor.construct_yaml_int(self, node)
            body = m.group(2)
            base = 8 if body.startswith("0o") else 16 if body.startswith("0x") else 10
            value = int(body[2:] if base != 10 else body, base)
        except ValueError as err:
            raise ConstructorError(None, None, f"not an integer: {err}", node.start_mark) from None
        return -value if m.group(1) == "-" else value


PipelineYamlLoader.add_constructor("tag:yaml.org,2002:int", PipelineYamlLoader.construct_core_int)
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)",
        list("-+0123456789."),
    ),
    # Merge keys are not core YAML 1.2, but they are the one way to share a model block between stages.
    ("tag:yaml.org,2002:merge", r"<<", ["<"]),
):
    PipelineYamlLoader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), _first)


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _marked_message(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or err.context or "invalid YAML"
    if problem.startswith("found undefined alias"):
        problem += " (an alias *name needs an anchor &name earlier in the file)"
    context = ""
    if err.context and problem.startswith("but "):
        problem = f"{err.context}, {problem}"  # "expected a single document in the stream, but found another"
    elif err.context and err.problem and err.context_mark is not None:
        context = f" ({err.context} that starts at {_where(err.context_mark)})"
    elif err.context and err.problem:
        context = f" ({err.context})"
    mark = err.problem_mark or err.context_mark
    at = f" at {_where(mark)}" if mark is not None else ""
    return f"YAML syntax error{at}: {problem}{context}"


def _reader_message(err: yaml.reader.ReaderError, text: str) -> str:
    before = text[: err.position]
    line, column = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
    char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "\0")
    return f"YAML syntax error at line {line}, column {column}: unacceptable character #x{char:04x} ({err.reason})"


def parse_yaml(text: str) -> tuple[Any, Issues]:
    """``(value, [])``, or ``(None, issues)`` naming line and column; never raises."""
    loader: PipelineYamlLoader | None = None
    try:
        loader = PipelineYamlLoader(text)
        return loader.get_single_data(), []
    except yaml.MarkedYAMLError as err:
        return None, [("", _marked_message(err))]
    except yaml.reader.ReaderError as err:
        return None, [("", _reader_message(err, text))]
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as err:
        return None, [("", f"YAML error: {str(err) or type(err).__name__}")]
    finally:
        if loader is not None:
            loader.dispose()
