from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles

DEMO_USERS = [("owner", OWNER), ("admin", ADMIN), ("support", SUPPORT)]
DEMO_PASSWORD = "demo"


class Command(BaseCommand):
    help = "Create the demo users owner/admin/support (password 'demo') — sandbox mode only."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.OPENAI_API_KEY:
            self.stdout.write(
                "OPENAI_API_KEY is set: no demo users outside sandbox mode. "
                "Use `manage.py createsuperuser` and the admin."
            )
            return
        ensure_roles()
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
            user.is_staff = role in (ADMIN, OWNER)  # Django admin: user management
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write(self.style.SUCCESS("Demo logins (sandbox mode):"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   {role}")
