"""Finds and reads pipeline files: the built-ins (``executions/pipelines/``), this deployment's pipelines
dirs (``STAGECAST_PIPELINES_DIRS``), or a path.

A pipeline answers to the ``id`` written in its file. A deployment file with the id of a built-in
overrides it (the built-in is still listed, marked ``shadowed``); between deployment dirs, the first
dir given wins, and within a dir the first file by name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PipelineConfigError, UnknownPipelineError
from .pipeline_schema import ID_PATTERN
from .pipeline_template import new_pipeline_text, pipeline_id_problem
from .pipeline_yaml import parse_yaml
from .types import PipelineConfig
from .validate import ValidationResult, validate_pipeline
from .validate_schema import closest

__all__ = [
    "BUILTIN_DIR",
    "PipelineEntry",
    "check_pipeline_text",
    "find_pipeline",
    "list_pipelines",
    "load_pipeline",
    "load_pipeline_text",
    "new_pipeline_text",
    "pipeline_id_problem",
]

#: Found from this file, never the working directory, so the commands work from anywhere.
BUILTIN_DIR = Path(__file__).resolve().parent.parent / "pipelines"

EXTENSIONS = (".yaml", ".yml")


@dataclass(slots=True)
class PipelineEntry:
    id: str
    name: str
    description: str | None
    #: the file's path
    source: str
    builtin: bool
    #: the validated pipeline; None when the file is invalid (see ``issues``)
    config: PipelineConfig | None
    issues: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    #: another file answers to this id first (a deployment file over a built-in)
    shadowed: bool = False

    @property
    def valid(self) -> bool:
        return self.config is not None


#: parsed and validated pipeline texts, by text: listing or starting a run reads every pipeline file,
#: and parsing YAML was a large part of what starting a run cost the web process
_CHECKED: dict[str, tuple[Any, ValidationResult]] = {}
_CHECKED_MAX = 256


def check_pipeline_text(text: str) -> tuple[Any, ValidationResult]:
    """``(raw value, result)`` for YAML text; never raises. A copy: callers may change what they get."""
    checked = _CHECKED.get(text)
    if checked is None:
        checked = _check_pipeline_text(text)
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[text] = checked
    return copy.deepcopy(checked)


def _check_pipeline_text(text: str) -> tuple[Any, ValidationResult]:
    if not text.strip():
        return None, ValidationResult(False, None, [("", "the file is empty; a pipeline needs id, name and stages")])
    raw, issues = parse_yaml(text)
    if issues:
        return None, ValidationResult(False, None, issues)
    return raw, validate_pipeline(raw)


def load_pipeline_text(text: str, source: str) -> PipelineConfig:
    """YAML text → the validated pipeline; PipelineConfigError (naming ``source``) with every issue."""
    _, result = check_pipeline_text(text)
    if result.config is None:
        raise PipelineConfigError(source, result.issues)
    return result.config


def _read_entry(path: Path, builtin: bool) -> PipelineEntry:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raw: Any = None
        result = ValidationResult(False, None, [("", f"the file is not UTF-8 text ({err.reason} at byte {err.start})")])
    except OSError as err:
        raw, result = None, ValidationResult(False, None, [("", f"cannot read the file: {err.strerror or err}")])
    else:
        raw, result = check_pipeline_text(text)
    if result.config is not None:
        cfg = result.config
        return PipelineEntry(
            cfg["id"], cfg["name"], cfg.get("description"), str(path), builtin, cfg, [], result.warnings
        )
    # An invalid file is listed with what can be salvaged, so a listing shows it instead of hiding it.
    obj = raw if isinstance(raw, dict) else {}
    declared = obj.get("id")
    pid = declared if isinstance(declared, str) and ID_PATTERN.fullmatch(declared) else path.stem
    declared_name, declared_description = obj.get("name"), obj.get("description")
    name = declared_name if isinstance(declared_name, str) and declared_name else pid
    description = declared_description if isinstance(declared_description, str) else None
    return PipelineEntry(pid, name, description, str(path), builtin, None, result.issues, result.warnings)


def _files(directory: Path) -> list[Path]:
    try:
        return sorted(p for p in directory.iterdir() if p.suffix in EXTENSIONS and p.is_file())
    except OSError:
        return []


def _deployment_dirs(dirs: list[Path]) -> list[Path]:
    """Each dir once, and never the built-in dir itself (a checkout may point at it)."""
    seen = {BUILTIN_DIR.resolve()}
    unique: list[Path] = []
    for d in dirs:
        real = Path(d).resolve()
        if real not in seen:
            seen.add(real)
            unique.append(Path(d))
    return unique


def list_pipelines(dirs: list[Path]) -> list[PipelineEntry]:
    """Built-ins first, then each deployment dir in order, each sorted by file name. Never raises on a
    bad file: it is listed with its issues."""
    builtins = [_read_entry(p, True) for p in _files(BUILTIN_DIR)]
    deployed = [_read_entry(p, False) for d in _deployment_dirs(dirs) for p in _files(d)]
    taken: set[str] = set()
    for entry in [*deployed, *builtins]:  # the order in which ids are looked up
        entry.shadowed = entry.id in taken
        taken.add(entry.id)
    return [*builtins, *deployed]


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith(EXTENSIONS)


def find_pipeline(ref: str, dirs: list[Path], *, allow_paths: bool = True) -> PipelineEntry:
    """The entry ``ref`` names (valid or not); UnknownPipelineError when none does. ``allow_paths=False``
    (for ids that come from URLs) refuses paths, so a request never reaches the file system."""
    if _looks_like_path(ref):
        if not allow_paths:
            raise UnknownPipelineError(
                ref, [], f'unknown pipeline "{ref}": expected a pipeline id ([a-z0-9-]+), not a path'
            )
        path = Path(ref).expanduser()
        if path.is_file():
            return _read_entry(path, path.resolve().parent == BUILTIN_DIR.resolve())
        raise UnknownPipelineError(ref, [], f'unknown pipeline "{ref}": no such file ({path.absolute()})')
    entries = list_pipelines(dirs)
    for entry in entries:
        if entry.id == ref and not entry.shadowed:
            return entry
    available = sorted({e.id for e in entries})
    hint = closest(ref, available)
    message = (
        f'unknown pipeline "{ref}": no built-in or deployment pipeline has this id '
        f"(available: {', '.join(available) or 'none'})" + (f'; did you mean "{hint}"?' if hint else "")
    )
    raise UnknownPipelineError(ref, available, message)


def load_pipeline(ref: str, dirs: list[Path], *, allow_paths: bool = True) -> PipelineConfig:
    """The validated pipeline ``ref`` names: an id (built-in or from ``dirs``) or a path to a YAML file.
    UnknownPipelineError when nothing answers to it; PipelineConfigError with every issue when its
    file is invalid."""
    entry = find_pipeline(ref, dirs, allow_paths=allow_paths)
    if entry.config is None:
        raise PipelineConfigError(entry.source, entry.issues)
    return entry.config
