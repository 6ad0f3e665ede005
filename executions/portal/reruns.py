"""The portal's re-runs ("Iterate on a run"): re-run an ended run from a stage, or edit a stage's prompt,
system text and model and re-run from it. Thin views: parse, authorise (another user's run is 404),
call ``execution_rerun``, then go to the new run's page (303), or show the refusal inline (400/409)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import yaml
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from executions.engine.resolve import merge_model
from executions.models import Execution
from executions.portal.forms import MAX_INPUT_CHARS
from executions.portal.views import _execution_or_404
from executions.reruns import RerunRefused, execution_rerun, rerun_plan


class StageEditForm(forms.Form):
    """A stage's prompt, system text and model (a YAML mapping), prefilled with what the run ran."""

    prompt = forms.CharField(
        max_length=MAX_INPUT_CHARS,
        strip=False,  # the model gets the template exactly as typed
        widget=forms.Textarea(attrs={"rows": 10, "data-testid": "edit-prompt", "class": "mono"}),
        error_messages={"required": "A stage needs a prompt."},
    )
    system = forms.CharField(
        max_length=MAX_INPUT_CHARS,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-testid": "edit-system"}),
    )
    model = forms.CharField(
        max_length=10_000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "data-testid": "edit-model", "class": "mono"}),
        help_text="YAML, as in a pipeline file: provider, model, maxTokens, temperature …",
    )

    def clean_model(self) -> dict[str, Any] | None:
        text: str = self.cleaned_data["model"]
        if not text.strip():
            return None
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"The model is not valid YAML: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                "The model must be a mapping, e.g. provider: anthropic and model: claude-haiku-4-5."
            )
        return value


def _stage_config(execution: Execution, stage_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the stage as the run ran it, what the edit form shows for it); 404 for a stage it has not."""
    config = execution.pipeline_config or {}
    stage = next((s for s in config.get("stages", []) if s.get("id") == stage_id), None)
    if stage is None:
        raise Http404("no such stage")
    defaults = config.get("defaults") or {}
    model = merge_model(defaults.get("model"), stage.get("model"))
    shown = {
        "prompt": stage.get("prompt", ""),
        "system": stage.get("system", defaults.get("system")) or "",
        "model": model,
    }
    return stage, shown


#: the order a stage's model reads in, whatever order the database kept its keys in (PostgreSQL's jsonb
#: sorts them by length)
MODEL_KEY_ORDER = ("provider", "model", "tool", "baseURL", "maxTokens", "temperature")


def _model_text(model: dict[str, Any]) -> str:
    ordered = {k: model[k] for k in MODEL_KEY_ORDER if k in model} | {k: v for k, v in sorted(model.items())}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True).strip() if model else ""


def _edits(form: StageEditForm, shown: dict[str, Any]) -> dict[str, Any]:
    """What the person changed, and only that (an unchanged field stays the pipeline's own)."""
    data = form.cleaned_data
    edits: dict[str, Any] = {}
    if data["prompt"] != shown["prompt"]:
        edits["prompt"] = data["prompt"]
    if data["system"] != shown["system"]:
        edits["system"] = data["system"]
    if data["model"] is not None and data["model"] != shown["model"]:
        edits["model"] = data["model"]
    return edits


def _edit_page(
    request: HttpRequest,
    execution: Execution,
    stage_id: str,
    form: StageEditForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    stage, _ = _stage_config(execution, stage_id)
    context = {
        "execution": execution,
        "stage_id": stage_id,
        "stage_name": stage.get("name", stage_id),
        "form": form,
        "error": error,
    }
    return render(request, "executions/rerun_edit.html", context, status=status)


def _to_new_run(request: HttpRequest, execution: Execution) -> HttpResponse:
    url = reverse("execution-detail", args=[execution.id])
    if getattr(request, "htmx", False):
        # A button that posted through htmx (the page's stream renders it without a form token):
        # htmx follows HX-Redirect itself, and a 303 it would follow in the background instead.
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url, status=303)


@login_required
@require_POST
def execution_rerun_view(request: HttpRequest, execution_id: UUID) -> HttpResponse:
    """``fromStage`` (a stage id, or none: every stage again) → the new run's page."""
    parent = _execution_or_404(request, execution_id)
    from_stage = request.POST.get("fromStage", "").strip() or None
    try:
        execution = execution_rerun(parent=parent, user=request.user, from_stage=from_stage)
    except RerunRefused as refused:
        if getattr(request, "htmx", False):
            # htmx swaps no error answer; the page's script toasts its text (stagecast.js).
            return HttpResponse(refused.message, status=refused.status, content_type="text/plain")
        stage_id = from_stage or parent.pipeline_config["stages"][0]["id"]
        _, shown = _stage_config(parent, stage_id)
        form = StageEditForm(initial={**shown, "model": _model_text(shown["model"])})
        return _edit_page(request, parent, stage_id, form, error=refused.message, status=refused.status)
    return _to_new_run(request, execution)


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit_view(request: HttpRequest, execution_id: UUID, stage_id: str) -> HttpResponse:
    """GET: the stage's prompt, system and model, prefilled; POST: re-run from it with the edits."""
    parent = _execution_or_404(request, execution_id)
    _, shown = _stage_config(parent, stage_id)
    if request.method == "GET":
        form = StageEditForm(initial={**shown, "model": _model_text(shown["model"])})
        error = ""
        try:
            rerun_plan(parent=parent, from_stage=stage_id)
        except RerunRefused as refused:
            error = refused.message  # said before the person types anything
        return _edit_page(request, parent, stage_id, form, error=error)
    form = StageEditForm(request.POST)
    if not form.is_valid():
        return _edit_page(request, parent, stage_id, form, status=400)
    edits = _edits(form, shown)
    try:
        execution = execution_rerun(
            parent=parent,
            user=request.user,
            from_stage=stage_id,
            stages={stage_id: edits} if edits else None,
        )
    except RerunRefused as refused:
        return _edit_page(request, parent, stage_id, form, error=refused.message, status=refused.status)
    return _to_new_run(request, execution)
