from django.urls import path, register_converter

from executions.api import compare as api_compare
from executions.api import reruns
from executions.api import views as api
from executions.live import sse
from executions.portal import compare as page_compare
from executions.portal import reruns as page_reruns
from executions.portal import stream as page_stream
from executions.portal import views


class PipelineIdConverter:
    # Only ids reach the loader from a request, never a path (ARCHITECTURE.md: no request names a file).
    regex = "[a-z0-9-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PipelineIdConverter, "pipeline")

api_urlpatterns = [
    path("health", api.health, name="api-health"),
    path("pipelines", api.pipelines, name="api-pipelines"),
    path("pipelines/<pipeline:pipeline_id>", api.pipeline_detail, name="api-pipeline"),
    path("pipelines/<pipeline:pipeline_id>/run", api.pipeline_run, name="api-pipeline-run"),
    path("executions", api.executions, name="api-executions"),
    # Before executions/<id>: "compare" is no execution id.
    path("executions/compare", api_compare.executions_compare, name="api-executions-compare"),
    path("executions/<str:execution_id>", api.execution_detail, name="api-execution"),
    path("executions/<str:execution_id>/events", sse.execution_events, name="api-execution-events"),
    path("executions/<str:execution_id>/stages/<str:stage_id>/output", api.stage_output, name="api-stage-output"),
    path("executions/<str:execution_id>/cancel", api.execution_cancel_view, name="api-execution-cancel"),
    path("executions/<str:execution_id>/rerun", reruns.execution_rerun_view, name="api-execution-rerun"),
]

# The portal's pages (login required; another user's execution is 404), mounted at the site root.
page_urlpatterns = [
    path("", views.pipeline_list, name="pipeline-list"),
    path("pipelines/<pipeline:pipeline_id>/", views.pipeline_detail, name="pipeline-detail"),
    path("pipelines/<pipeline:pipeline_id>/run", views.pipeline_run, name="pipeline-run"),
    path("pipelines/<pipeline:pipeline_id>/race", page_compare.pipeline_race, name="pipeline-race"),
    path("executions/", views.execution_list, name="execution-list"),
    path("executions/compare/", page_compare.compare_page, name="executions-compare"),
    path("executions/compare/stage", page_compare.compare_stage, name="executions-compare-stage"),
    path("executions/<uuid:execution_id>/", views.execution_detail, name="execution-detail"),
    path("executions/<uuid:execution_id>/cancel", views.execution_cancel_view, name="execution-cancel"),
    path("executions/<uuid:execution_id>/stream", page_stream.execution_stream, name="execution-stream"),
    path("executions/<uuid:execution_id>/rerun", page_reruns.execution_rerun_view, name="execution-rerun"),
    path("executions/<uuid:execution_id>/stages/<str:stage_id>/edit", page_reruns.stage_edit_view, name="stage-edit"),
    path("executions/<uuid:execution_id>/stages/<str:stage_id>/", views.stage_text, name="stage-text"),
    path("executions/<uuid:execution_id>/stages/<str:stage_id>/output", views.stage_output, name="stage-output"),
    path("executions/<uuid:execution_id>/stages/<str:stage_id>/view", views.stage_view, name="stage-view"),
]
