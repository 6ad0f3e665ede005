"""Named personas (healthchecks' hc/test.py style): alice runs pipelines, bob must never see her runs,
and carol is staff, who sees everyone's."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from executions.models import ApiToken, Execution
from executions.services import execution_create, pipeline_get


@dataclass
class Personas:
    alice: User
    bob: User
    carol: User
    alice_token: str
    bob_token: str


def make_personas() -> Personas:
    alice = User.objects.create_user("alice", password="alice-password-123")
    bob = User.objects.create_user("bob", password="bob-password-123")
    carol = User.objects.create_user("carol", password="carol-password-123", is_staff=True)
    return Personas(alice, bob, carol, ApiToken.issue(user=alice)[1], ApiToken.issue(user=bob)[1])


def alices_execution(p: Personas) -> Execution:
    return execution_create(pipeline=pipeline_get(ref="demo"), input="alice's question", user=p.alice)
