"""The tree shows the processes (docs/architecture.md), and its imports keep it so.

Read from the source with ``ast``, lazy imports inside functions included: an import that only runs
later still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("executions", "pipelines_site", "bench")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The project modules ``name`` imports (a ``from package import module`` counts as the module)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            targets.add(module)
            targets.update(f"{module}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        # the deepest project module the name refers to (a name inside a module refers to the module)
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            # a package's __init__ importing its own modules is how packages work, not a cycle
            if nxt.startswith(node + "."):
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_engine_imports_no_django_celery_or_redis() -> None:
    offenders = {}
    for name, path in MODULES.items():
        if not name.startswith("executions.engine"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for module in modules:
                top = module.split(".")[0]
                if top in ("django", "celery", "redis", "channels", "daphne") or (
                    module.startswith("executions.") and not module.startswith("executions.engine")
                ):
                    offenders.setdefault(name, []).append(module)
    assert offenders == {}


def _room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "executions" else None


def test_the_worker_and_the_web_rooms_do_not_reach_into_each_other() -> None:
    """The worker (task, runner, recorder, reaper) imports nothing of the web's rooms (api, portal,
    live.sse, live.hub); the web's rooms import nothing of the worker's."""
    web = {"api", "portal"}
    web_modules = {"executions.live.sse", "executions.live.hub"}
    crossings = []
    for name, targets in GRAPH.items():
        room = _room(name)
        for target in targets:
            target_is_web = _room(target) in web or target in web_modules
            if room == "worker" and target_is_web:
                crossings.append(f"{name} -> {target}")
            if (room in web or name in web_modules) and _room(target) == "worker":
                crossings.append(f"{name} -> {target}")
    assert crossings == []


def _compares_offset_with_zero(node: ast.AST) -> bool:
    if not isinstance(node, ast.Compare) or len(node.comparators) != 1:
        return False
    left, right = node.left, node.comparators[0]
    named_offset = (
        (isinstance(left, ast.Subscript) and isinstance(left.slice, ast.Constant) and left.slice.value == "offset")
        or (isinstance(left, ast.Name) and left.id == "offset")
        or (isinstance(left, ast.Attribute) and left.attr == "offset")
    )
    return named_offset and isinstance(right, ast.Constant) and right.value == 0


def test_the_stage_text_fold_is_written_once() -> None:
    """Rebuilding a stage's text from its chunks (a chunk at offset 0 starts an attempt afresh) lives in
    the wire model alone: no other module asks whether a chunk's offset is 0."""
    writers = sorted(
        name
        for name, path in MODULES.items()
        if any(_compares_offset_with_zero(node) for node in ast.walk(ast.parse(path.read_text())))
    )
    assert writers == ["executions.engine.wire"]
