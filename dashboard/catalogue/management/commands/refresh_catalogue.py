"""`manage.py refresh_catalogue [--upstream ALIAS] [--enqueue] [--force]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dashboard.catalogue import conf
from dashboard.catalogue.sync import refresh
from dashboard.catalogue.tasks import fetch_for, request_refresh


class Command(BaseCommand):
    help = "Fetch an upstream's model list and sync the catalogue now (or queue it for a worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--upstream", default=conf.DEFAULT_UPSTREAM, help="upstream alias")
        parser.add_argument(
            "--enqueue", action="store_true", help="queue a refresh for db_worker instead"
        )
        parser.add_argument("--force", action="store_true", help="ignore the failure backoff")

    def handle(self, *args: Any, upstream: str, enqueue: bool, force: bool, **options: Any) -> None:
        if enqueue:
            self.stdout.write(f"{upstream}: {request_refresh(upstream)}")
            return
        outcome = refresh(upstream, fetch_for(upstream), force=force)
        if isinstance(outcome, str):
            self.stdout.write(f"{upstream}: {outcome}")
        elif outcome.error:
            self.stderr.write(f"{upstream}: refresh failed: {outcome.error}")
        else:
            self.stdout.write(
                f"{upstream}: {outcome.seen} models; {outcome.appeared} appeared, "
                f"{outcome.reappeared} reappeared, {outcome.changed} changed, "
                f"{outcome.disappeared} disappeared, {outcome.skipped} skipped."
            )
