"""The compare page (``/executions/compare/?ids=…``), the fragment it re-fetches while runs stream, and
the model race: one run per chosen model, opened on the compare page while they stream."""

from __future__ import annotations

import copy
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from executions.compare import MAX_RUNS, MIN_RUNS, CompareRefused, compare_executions, compare_ids_parse
from executions.engine.resolve import merge_model
from executions.engine.validate import format_issue, validate_pipeline
from executions.portal.forms import MAX_INPUT_CHARS, RunForm
from executions.portal.presenters import EXECUTION_LABELS
from executions.portal.views import OUTPUT_WINDOW, _entry_or_404, _runnable_tools, _stage_rows, output_window
from executions.services import execution_enqueue


def _comparison_or_error(request: HttpRequest, stage_ids: set[str] | None = None) -> Any:
    try:
        ids = compare_ids_parse(request.GET.getlist("ids"))
        return ids, compare_executions(user=request.user, ids=ids, stage_ids=stage_ids)
    except CompareRefused as refused:
        if refused.status == 404:
            raise Http404(refused.message) from None
        return None, refused


def _rows(comparison: Any) -> list[dict[str, Any]]:
    rows = []
    for row in comparison.stages:
        cells: list[dict[str, Any]] = []
        for run, cell in zip(comparison.runs, row.cells, strict=True):
            if cell is None:
                cells.append({"absent": True, "execution_id": run.id})
                continue
            shown, before = output_window(cell.text, len(cell.text))
            cells.append({"cell": cell, "shown": shown, "before": before, "metrics": cell.metrics()})
        rows.append({"row": row, "cells": cells})
    return rows


@login_required
@require_GET
def compare_page(request: HttpRequest) -> HttpResponse:
    ids, comparison = _comparison_or_error(request)
    if isinstance(comparison, CompareRefused):
        return render(request, "executions/compare.html", {"error": comparison.message}, status=400)
    runs = [
        {"state": run, "model": model, "active": run.is_active}
        for run, model in zip(comparison.runs, comparison.models, strict=True)
    ]
    context = {
        "runs": runs,
        "rows": _rows(comparison),
        "ids": ",".join(ids),
        "window": OUTPUT_WINDOW,
        "columns": len(runs),
        "labels": EXECUTION_LABELS,
    }
    return render(request, "executions/compare.html", context)


@login_required
@require_GET
def compare_stage(request: HttpRequest) -> HttpResponse:
    """One stage's metrics and diffs, for every run, as the page re-fetches them while runs stream."""
    stage_id = request.GET.get("stage", "")
    ids, comparison = _comparison_or_error(request, stage_ids={stage_id})
    if isinstance(comparison, CompareRefused):
        return HttpResponse(comparison.message, status=400, content_type="text/plain")
    if not comparison.stages:
        raise Http404("no such stage")
    context = {"entry": _rows(comparison)[0]}
    return render(request, "executions/partials/compare_stage_parts.html", context)


# --- the model race -----------------------------------------------------------------------------------


class RaceForm(forms.Form):
    input = forms.CharField(
        max_length=MAX_INPUT_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Type the input the pipeline should work on."},
    )
    models = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "anthropic claude-haiku-4-5\nopenai gpt-4o-mini"}),
        help_text=f"{MIN_RUNS} to {MAX_RUNS} models, one a line: provider, then the model's name.",
        error_messages={"required": f"Name {MIN_RUNS} to {MAX_RUNS} models, one a line: provider model."},
    )
    stage = forms.ChoiceField(choices=[("", "every stage")], required=False)

    def __init__(self, *args: Any, stage_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "every stage"), *((s, s) for s in stage_ids)]
        cast(forms.ChoiceField, self.fields["stage"]).choices = choices

    def clean_input(self) -> str:
        value: str = self.cleaned_data["input"]
        if not value.strip():
            raise forms.ValidationError("The input is only blank space; type what the pipeline should work on.")
        return value

    def clean_models(self) -> list[dict[str, str]]:
        models = []
        for number, line in enumerate(self.cleaned_data["models"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 2:
                raise forms.ValidationError(f"Line {number}: write the provider, then the model ({line.strip()!r}).")
            models.append({"provider": parts[0], "model": parts[1]})
        if not MIN_RUNS <= len(models) <= MAX_RUNS:
            raise forms.ValidationError(f"Name {MIN_RUNS} to {MAX_RUNS} models, not {len(models)}.")
        if len({(m["provider"], m["model"]) for m in models}) != len(models):
            raise forms.ValidationError("Each model may appear once.")
        return models


def race_pipeline(config: dict[str, Any], model: dict[str, str], stage_id: str) -> dict[str, Any]:
    """The pipeline with ``model`` on every stage (or on ``stage_id`` alone), validated like a file;
    raises ValueError with the problems."""
    race = copy.deepcopy(config)
    defaults = (race.get("defaults") or {}).get("model")
    for stage in race["stages"]:
        if not stage_id or stage["id"] == stage_id:
            stage["model"] = merge_model(merge_model(defaults, stage.get("model")), model)
    result = validate_pipeline(race)
    if not result.ok or result.config is None:
        raise ValueError("; ".join(format_issue(issue) for issue in result.issues))
    return result.config


@login_required
@require_POST
def pipeline_race(request: HttpRequest, pipeline_id: str) -> HttpResponse:
    entry = _entry_or_404(pipeline_id)
    stage_ids = [s["id"] for s in (entry.config or {}).get("stages", [])]
    form = RaceForm(request.POST, stage_ids=stage_ids)
    if entry.config is None:
        form.add_error(None, "This pipeline is invalid and cannot run until its problems are fixed.")
    pipelines: list[dict[str, Any]] = []
    if form.is_valid() and entry.config is not None:
        for model in form.cleaned_data["models"]:
            try:
                pipelines.append(race_pipeline(dict(entry.config), model, form.cleaned_data["stage"]))
            except ValueError as exc:
                form.add_error("models", f"{model['provider']} {model['model']}: {exc}")
    if not form.is_valid() or entry.config is None:
        context = {
            "entry": entry,
            "stages": _stage_rows(entry),
            "form": RunForm(tools=_runnable_tools()),
            "race_form": form,
        }
        return render(request, "executions/pipeline_detail.html", context, status=400)
    with transaction.atomic():
        executions = [
            execution_enqueue(pipeline=config, input=form.cleaned_data["input"], user=request.user)
            for config in pipelines
        ]
    ids = ",".join(str(e.id) for e in executions)
    return HttpResponseRedirect(f"{reverse('executions-compare')}?ids={ids}", status=303)
