from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import SandboxModel
from dashboard.sandbox import DEFAULT_SIZE, reseed


class Command(BaseCommand):
    help = "Reset the embedded sandbox API and seed it with deterministic models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=DEFAULT_SIZE,
            help=f"number of models (default {DEFAULT_SIZE}; 10000 for scale)",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="only seed when the sandbox has no models (keeps deletes)",
        )

    def handle(self, *args: Any, size: int, if_empty: bool, **options: Any) -> None:
        if size < 1:
            raise CommandError("--size must be at least 1")
        if if_empty and SandboxModel.objects.exists():
            count = SandboxModel.objects.count()
            self.stdout.write(f"Sandbox already has {count} models; left as is.")
            return
        count = reseed(size)
        self.stdout.write(self.style.SUCCESS(f"Sandbox seeded with {count} models."))
