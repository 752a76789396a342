"""`manage.py prune_catalogue [--days N]`: delete old change records and sync runs now."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from dashboard.catalogue import conf, drift


class Command(BaseCommand):
    help = "Delete catalogue change records and sync runs older than the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, help="days to keep (default: CATALOGUE_CHANGE_RETENTION_DAYS)"
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        keep = datetime.timedelta(days=days) if days is not None else conf.retention()
        changes, runs = drift.prune(timezone.now() - keep)
        self.stdout.write(f"Deleted {changes} change records and {runs} sync runs.")
