"""`/sandbox/v1/…` (included by the project's URLconf only when SANDBOX_ENABLED)."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "sandbox"
urlpatterns = [
    path("models", views.models_collection, name="models"),
    # The server decodes %2F before routing, so an id with "/" arrives as several segments.
    path("models/<path:model_id>", views.model_item, name="model"),
    path("<path:path>", views.unknown_url, name="unknown-url"),
]
