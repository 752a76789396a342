"""Run what pages queued: django-tasks-db's worker, once through the queue, in this process."""

from __future__ import annotations

from django.core.management import call_command
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from dashboard.catalogue.tasks import refresh_catalogue


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def queued_refreshes() -> int:
    return DBTaskResult.objects.filter(
        task_path=refresh_catalogue.module_path, status=TaskResultStatus.READY
    ).count()
