"""Finding runs whose worker died: their lease lapsed while the row still says running.

Beat runs this every 10 s (pipelines_site/celery.py); each such run is ended by
:func:`executions.services.execution_interrupt`, which keeps every chunk it streamed.
"""

from __future__ import annotations

from executions.live.relay import lease_lapsed, sync_redis
from executions.models import Execution, ExecutionStatus
from executions.services import execution_interrupt


def executions_interrupt_stale() -> list[str]:
    """Marks every running execution without a live lease as interrupted; returns their ids."""
    client = sync_redis()
    done = []
    for execution_id in Execution.objects.filter(status=ExecutionStatus.RUNNING).values_list("id", flat=True):
        if lease_lapsed(str(execution_id), client) and execution_interrupt(execution_id=str(execution_id)):
            done.append(str(execution_id))
    return done
