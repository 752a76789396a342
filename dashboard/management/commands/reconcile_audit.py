from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.deletion import reconcile, reconcile_grace
from dashboard.upstreams import Budget

DEFAULT_SECONDS = 60.0


class Command(BaseCommand):
    help = (
        "Settle audit entries left pending (a crash mid-delete) or unknown (the API did not "
        "confirm) by looking their models up upstream. Run at start-up and periodically."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=float,
            default=None,
            help="only entries older than this many seconds (default: the longest a delete "
            f"can take, {reconcile_grace().total_seconds():g} s with the current settings)",
        )
        parser.add_argument(
            "--seconds",
            type=float,
            default=DEFAULT_SECONDS,
            help=f"stop looking models up after this long in all (default {DEFAULT_SECONDS:g})",
        )
        parser.add_argument(
            "--limit", type=int, default=500, help="at most this many entries per run"
        )

    def handle(
        self, *args: Any, grace: float | None, seconds: float, limit: int, **options: Any
    ) -> None:
        if seconds <= 0 or limit < 1 or (grace is not None and grace < 0):
            raise CommandError("--seconds and --limit must be positive, --grace not negative")
        wait = reconcile_grace() if grace is None else timedelta(seconds=grace)
        results = reconcile(grace=wait, budget=Budget(seconds), limit=limit)
        for result in results:
            entry = result.entry
            line = f"#{entry.pk} {entry.model_id}: {result.words}"
            self.stdout.write(self.style.SUCCESS(line) if result.settled else line)
        settled = sum(result.settled for result in results)
        left = len(results) - settled
        self.stdout.write(
            f"Reconciled {settled} audit entr{'y' if settled == 1 else 'ies'}; {left} left."
        )
