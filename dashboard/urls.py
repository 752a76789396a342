from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, register_converter

from . import accounts, audit, shutdowns, views
from .catalogue import views as catalogue_views
from .cleanup import request_views
from .converters import ModelIdConverter, UpstreamAliasConverter

register_converter(ModelIdConverter, "modelid")
register_converter(UpstreamAliasConverter, "upstream")

urlpatterns = [
    path("", views.index, name="index"),
    path("u/<upstream:alias>/models/", views.model_list, name="model-list"),
    path(
        "u/<upstream:alias>/models/export.csv",
        catalogue_views.model_export,
        {"fmt": "csv"},
        name="model-export-csv",
    ),
    path(
        "u/<upstream:alias>/models/export.json",
        catalogue_views.model_export,
        {"fmt": "json"},
        name="model-export-json",
    ),
    path("u/<upstream:alias>/copy-status/", views.model_list_status, name="model-list-status"),
    path("u/<upstream:alias>/models/<modelid:model_id>/", views.model_detail, name="model-detail"),
    path(
        "u/<upstream:alias>/models/<modelid:model_id>/delete/",
        views.model_delete,
        name="model-delete",
    ),
    path("u/<upstream:alias>/shutdowns/", shutdowns.shutdown_list, name="shutdown-list"),
    path("u/<upstream:alias>/shutdowns/select/", shutdowns.shutdown_select, name="shutdown-select"),
    path("u/<upstream:alias>/", include("dashboard.cleanup.urls")),
    # The URLs from before several upstreams lead to the default one.
    path("models/", views.legacy_redirect),
    path("models/<modelid:model_id>/", views.legacy_redirect),
    path("models/<modelid:model_id>/delete/", views.legacy_redirect, {"action": "delete"}),
    path("changes/", catalogue_views.changes_list, name="changes"),
    path("requests/", request_views.request_list, name="request-list"),
    path("requests/mine/", request_views.my_requests, name="my-requests"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("favicon.ico", views.favicon),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
if settings.SANDBOX_ENABLED:  # routed only when enabled; its views also refuse when off
    urlpatterns.append(path("sandbox/v1/", include("dashboard.sandbox.urls")))

handler403 = "dashboard.views.permission_denied"
