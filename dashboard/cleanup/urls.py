"""Cleanup URLs, under `u/<upstream:alias>/` (each view checks the upstream and the role)."""

from __future__ import annotations

from django.urls import path

from . import views

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
]
