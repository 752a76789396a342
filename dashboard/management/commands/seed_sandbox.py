from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Seed the embedded sandbox API with deterministic models. A sandbox that has models "
        "(and the deletes made since) is replaced only with --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            type=int,
            default=None,
            help="number of models (default 64; 10000 for scale)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="only seed when the sandbox has no models (keeps deletes)",
        )
        mode.add_argument(
            "--reset",
            action="store_true",
            help="replace the sandbox's models, deletes included, with a fresh set",
        )

    def handle(
        self, *args: Any, size: int | None, if_empty: bool, reset: bool, **options: Any
    ) -> None:
        if size is not None and size < 1:
            raise CommandError("--size must be at least 1")
        if not settings.SANDBOX_ENABLED:
            reason = (
                f"OPENAI_API_KEY is set: the dashboard uses {settings.OPENAI_BASE_URL}"
                if settings.OPENAI_API_KEY
                else "SANDBOX_ENABLED is off"
            )
            self.stdout.write(f"{reason}; the embedded sandbox is off and was not seeded.")
            return
        # The sandbox app is installed only when enabled: import it once that is known.
        from dashboard.sandbox.models import SandboxModel
        from dashboard.sandbox.seed import DEFAULT_SIZE, reseed

        size = size or DEFAULT_SIZE
        count = SandboxModel.objects.count()
        if count and if_empty:
            self.stdout.write(f"Sandbox already has {count} models; left as is.")
            return
        if count and not reset:
            raise CommandError(
                f"The sandbox already has {count} models (with any deletes made since it was "
                f"seeded). Seeding replaces them all: add --reset to replace them with "
                f"{size} fresh models, or --if-empty to keep them."
            )
        seeded = reseed(size)
        if count:
            self.stdout.write(
                self.style.SUCCESS(f"Sandbox reset: {count} models replaced by {seeded}.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Sandbox seeded with {seeded} models."))
