"""``manage.py newpipeline <name>``: a small, commented pipeline that validates and runs as it is on the
local model (no key needed)."""

from __future__ import annotations

import re

from .errors import PipelineConfigError
from .pipeline_schema import ID_PATTERN


def pipeline_id_problem(pipeline_id: str) -> str | None:
    """Why ``pipeline_id`` cannot name a pipeline, or None when it can."""
    if ID_PATTERN.fullmatch(pipeline_id):
        return None
    suggestion = re.sub(r"[^a-z0-9]+", "-", pipeline_id.lower()).strip("-")
    hint = f" (e.g. {suggestion})" if suggestion and suggestion != pipeline_id else ""
    return f'"{pipeline_id}" is not a valid pipeline id: use lowercase letters, digits and dashes{hint}'


def _title(pipeline_id: str) -> str:
    words = " ".join(w for w in pipeline_id.split("-") if w)
    return words[:1].upper() + words[1:] if words else pipeline_id


def new_pipeline_text(name: str) -> str:
    """The YAML of a new pipeline whose id is ``name``; PipelineConfigError when ``name`` is not an id."""
    problem = pipeline_id_problem(name)
    if problem:
        raise PipelineConfigError(name, [("id", problem)])
    return f"""\
# {name}: a stagecast pipeline. Each stage renders its prompt, calls a model, and hands its
# answer to the stages after it. Run it:   python manage.py runpipeline {name} --input "your text"
# Check it after editing:                 python manage.py validatepipeline {name}
id: {name}
name: {_title(name)}
description: Drafts an answer to the input, then improves it.

# Every stage inherits these; a stage's own `model:` overrides them field by field.
# provider local runs a small GGUF model in-process (no key needed). Switch a run to another
# kind of model with --mode api (uses ANTHROPIC_API_KEY, OPENAI_API_KEY or GOOGLE_API_KEY)
# or --mode cli --tool claude, or write e.g.
#   model: {{ provider: anthropic, model: claude-haiku-4-5, maxTokens: 1024 }}
defaults:
  model: {{ provider: local, maxTokens: 160, temperature: 0.4 }}
  retries: 1

stages:
  - id: draft
    name: Draft
    # {{{{input}}}} is the run's input text.
    prompt: |
      Answer the following clearly and briefly.

      {{{{input}}}}

  - id: improve
    name: Improve
    system: You are a careful editor.
    # {{{{stages.<id>.output}}}} is an earlier stage's full answer. With output: {{ format: json }},
    # {{{{stages.<id>.data.<path>}}}} reads a field of it, and skipIf / runIf / earlyExit can test it.
    prompt: |
      Improve this answer: fix mistakes, remove repetition, keep it short.
      Reply with the improved answer only.

      Question:
      {{{{input}}}}

      Answer:
      {{{{stages.draft.output}}}}
"""
