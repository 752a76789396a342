"""Placeholder for the lead's deletion-job views (replaced by theirs on merge): every job URL
answers 404 until then, so that the cleanup URLs can be included."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _not_yet(request: HttpRequest, alias: str, **kwargs: object) -> HttpResponse:
    raise Http404("Deletion jobs are not built yet.")


job_list = job_create = job_detail = job_drop = job_confirm = _not_yet
job_cancel = job_retry = job_ledger_export = _not_yet
