"""The Celery app: `celery -A pipelines_site worker` runs executions; beat (`-B` on one machine, its own
service in docker-compose) finds runs whose worker died."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pipelines_site.settings")

app = Celery("pipelines_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    # A dead worker's lease lapses after 15 s; checking every 10 s marks its run interrupted within 25 s.
    "reap-interrupted-executions": {"task": "executions.reap_interrupted", "schedule": 10.0},
}
