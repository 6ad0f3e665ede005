"""The run form: what a person may ask of a pipeline from the portal, checked at the boundary."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from executions.engine.types import RUN_MODES

MAX_INPUT_CHARS = 1_000_000


class RunForm(forms.Form):
    input = forms.CharField(
        max_length=MAX_INPUT_CHARS,
        strip=False,  # the model gets the text exactly as typed
        widget=forms.Textarea(attrs={"rows": 7, "data-testid": "run-input"}),
        error_messages={"required": "Type the input the pipeline should work on."},
    )
    mode = forms.ChoiceField(
        choices=[("", "as the pipeline says"), *((m, m) for m in RUN_MODES)],
        required=False,
        help_text="Run every stage on an API model, an agent CLI or the local model.",
    )
    tool = forms.ChoiceField(choices=[("", "as the pipeline says")], required=False)

    def __init__(self, *args: Any, tools: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the agent CLIs installed and runnable on this server: the only ones offered
        self.tools = tools
        cast(forms.ChoiceField, self.fields["tool"]).choices = [
            ("", "as the pipeline says (claude)"),
            *((t, t) for t in tools),
        ]

    def clean_input(self) -> str:
        value: str = self.cleaned_data["input"]
        if not value.strip():
            raise forms.ValidationError("The input is only blank space; type what the pipeline should work on.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        mode, tool = data.get("mode") or "", data.get("tool") or ""
        if tool and mode not in ("", "cli"):
            self.add_error("tool", f"An agent tool goes with mode cli, not {mode}.")
        if mode == "cli" and not tool and "claude" not in self.tools:
            available = ", ".join(self.tools)
            self.add_error(
                "tool",
                f"Choose an agent tool: claude is not installed here (installed: {available})."
                if self.tools
                else "No agent CLI (claude, opencode, gemini) is installed on this server; choose another mode.",
            )
        return data

    @property
    def overrides(self) -> tuple[str | None, str | None]:
        mode, tool = self.cleaned_data.get("mode") or None, self.cleaned_data.get("tool") or None
        return (mode or ("cli" if tool else None)), tool
