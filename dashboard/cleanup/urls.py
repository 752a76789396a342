"""Cleanup URLs, under `u/<upstream:alias>/` (each view checks the upstream and the role)."""

from __future__ import annotations

from django.urls import path

from . import request_views, selection_views, views

urlpatterns = [
    # Deletion jobs
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/new/", views.job_create, name="job-create"),
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>/check/", views.job_check, name="job-check"),
    path("jobs/<int:pk>/drop/", views.job_drop, name="job-drop"),
    path("jobs/<int:pk>/confirm/", views.job_confirm, name="job-confirm"),
    path("jobs/<int:pk>/cancel/", views.job_cancel, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/ledger.<str:fmt>", views.job_ledger_export, name="job-ledger-export"),
    # Selection
    path("selection/", selection_views.selection_review, name="selection-review"),
    path("selection/tick/", selection_views.selection_tick, name="selection-tick"),
    path("selection/matching/", selection_views.selection_matching, name="selection-matching"),
    path("selection/remove/", selection_views.selection_remove, name="selection-remove"),
    path("selection/clear/", selection_views.selection_clear, name="selection-clear"),
    # Requests
    path("requests/new/", request_views.request_create, name="request-create"),
    path("requests/<int:pk>/", request_views.request_detail, name="request-detail"),
    path("requests/<int:pk>/approve/", request_views.request_approve, name="request-approve"),
    path("requests/<int:pk>/reject/", request_views.request_reject, name="request-reject"),
    path("requests/<int:pk>/withdraw/", request_views.request_withdraw, name="request-withdraw"),
]
