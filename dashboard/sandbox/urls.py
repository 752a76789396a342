"""`/sandbox/v1/…` (included by the project's URLconf only when SANDBOX_ENABLED)."""

from __future__ import annotations

from django.urls import path

from . import fine_tuning_views, usage_views, views

app_name = "sandbox"
urlpatterns = [
    path("models", views.models_collection, name="models"),
    # The server decodes %2F before routing, so an id with "/" arrives as several segments.
    path("models/<path:model_id>", views.model_item, name="model"),
    path("fine_tuning/jobs", fine_tuning_views.jobs_collection, name="fine-tuning-jobs"),
    path("fine_tuning/jobs/<str:job_id>", fine_tuning_views.job_item, name="fine-tuning-job"),
    path(
        "fine_tuning/jobs/<str:job_id>/checkpoints",
        fine_tuning_views.job_checkpoints,
        name="fine-tuning-job-checkpoints",
    ),
    path("organization/usage/completions", usage_views.usage_completions, name="usage-completions"),
    path(
        "organization/projects/<str:project_id>/api_keys",
        usage_views.project_api_keys,
        name="project-api-keys",
    ),
    path("<path:path>", views.unknown_url, name="unknown-url"),
]
