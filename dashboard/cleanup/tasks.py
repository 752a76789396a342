"""The cleanup's background work (django.tasks on django-tasks-db, run by `db_worker`)."""

from __future__ import annotations

from typing import Any

from django.tasks import task

from . import jobs


@task()
def validate_job(job_pk: int) -> dict[str, Any]:
    """Check every item of a validating job (deletes nothing); see `jobs.validate`."""
    return {"job": job_pk, "outcome": jobs.validate(job_pk)}


@task()
def run_job(job_pk: int) -> dict[str, Any]:
    """Run, resume or watch a running job; see `jobs.Runner`."""
    return jobs.Runner(job_pk).run()
