"""Personas and runs for the page tests (healthchecks style: named users, no factory library).

alice runs pipelines, bob is another user who must see none of alice's runs, carol is staff (she may
see every run, and the admin)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from executions.models import Execution, ExecutionEvent, StageRun

PIPELINE_CONFIG = {
    "id": "web-test",
    "name": "Web test",
    "stages": [
        {"id": "first", "name": "First", "prompt": "{{input}}", "model": {"provider": "anthropic"}},
        {"id": "second", "name": "Second", "prompt": "{{stages.first.output}}", "model": {"provider": "anthropic"}},
    ],
}


@dataclass
class Personas:
    alice: User
    bob: User
    carol: User

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def people(db: None) -> Personas:
    return Personas(
        alice=User.objects.create_user("alice", password="alice-password-123"),
        bob=User.objects.create_user("bob", password="bob-password-123"),
        carol=User.objects.create_user("carol", password="carol-password-123", is_staff=True),
    )


def make_execution(
    user: User | None,
    *,
    status: str = "success",
    outputs: dict[str, str] | None = None,
    stage_status: dict[str, str] | None = None,
    pipeline_id: str = "web-test",
    input: str = "the input",
    created_at: datetime | None = None,
    **fields: Any,
) -> Execution:
    """A stored execution with its two stages, as a finished (or running) run leaves it."""
    outputs = outputs if outputs is not None else {"first": "Hello, world.", "second": "tok0 tok1 tok2 "}
    stage_status = stage_status or {}
    now = datetime.now(UTC)
    execution = Execution.objects.create(
        id=uuid.uuid4(),
        pipeline_id=pipeline_id,
        pipeline_name="Web test",
        pipeline_config={**PIPELINE_CONFIG, "id": pipeline_id},
        input=input,
        status=status,
        created_by=user,
        started_at=now - timedelta(seconds=3),
        ended_at=None if status in ("queued", "running") else now,
        **fields,
    )
    if created_at is not None:
        Execution.objects.filter(pk=execution.pk).update(created_at=created_at)
    for index, stage_id in enumerate(("first", "second")):
        text = outputs.get(stage_id, "")
        StageRun.objects.create(
            execution=execution,
            index=index,
            stage_id=stage_id,
            name=stage_id.title(),
            provider="anthropic",
            model="claude-haiku-4-5",
            status=stage_status.get(stage_id, "completed" if status == "success" else "pending"),
            started_at=now - timedelta(seconds=3),
            ended_at=now if status == "success" else None,
            output=text,
            output_length=len(text),
            cost=0.00012,
            cost_source="price-table",
            input_tokens=12,
            output_tokens=4,
            time_to_first_token_ms=120.0,
        )
    return execution


def add_events(execution: Execution, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stores wire events after the execution's last one (seq and ts filled in)."""
    stored = []
    seq = execution.last_seq
    for event in events:
        seq += 1
        full = {"executionId": str(execution.id), "seq": seq, "ts": int(time.time() * 1000), **event}
        ExecutionEvent.objects.create(execution=execution, seq=seq, type=full["type"], payload=full, ts=full["ts"])
        stored.append(full)
    Execution.objects.filter(pk=execution.pk).update(last_seq=seq)
    execution.last_seq = seq
    return stored


class _Extractor(HTMLParser):
    """The textContent of the elements matching ``attrs``, the way a browser parses them (a newline
    right after ``<pre>`` or ``<textarea>`` is dropped; character references are decoded)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, attrs: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.want = attrs
        self.depth = 0
        self.texts: list[list[str]] = []
        self.drop_newline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif all(dict(attrs).get(k) == v for k, v in self.want.items()):
            self.depth = 1
            self.texts.append([])
        self.drop_newline = tag in ("pre", "textarea")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.drop_newline and data.startswith("\n"):
            data = data[1:]
        self.drop_newline = False
        if self.depth:
            self.texts[-1].append(data)


def texts_of(html: str | bytes, **attrs: str) -> list[str]:
    """``texts_of(page, **{"data-testid": "stage-output"})`` → the text of every matching element."""
    parser = _Extractor({k.replace("_", "-"): v for k, v in attrs.items()})
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return ["".join(parts) for parts in parser.texts]
