from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand

from dashboard.demo import DEMO_PASSWORD, DEMO_USERS
from dashboard.roles import ADMIN, OWNER, ensure_roles


class Command(BaseCommand):
    help = "Create the demo users owner/admin/support (password 'demo') — sandbox mode only."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.OPENAI_API_KEY:
            leftovers = [
                user
                for user in User.objects.filter(username__in=[name for name, _ in DEMO_USERS])
                if user.check_password(DEMO_PASSWORD)
            ]
            for user in leftovers:  # made by an earlier sandbox run: never face a real API
                user.set_unusable_password()
                user.save(update_fields=["password"])
            if leftovers:
                order = [name for name, _ in DEMO_USERS]
                names = ", ".join(sorted((u.username for u in leftovers), key=order.index))
                self.stdout.write(f"Disabled the demo logins left from sandbox mode: {names}.")
            self.stdout.write(
                "OPENAI_API_KEY is set: no demo users outside sandbox mode. "
                "Use `manage.py createsuperuser` and the admin."
            )
            return
        ensure_roles()
        for username, role in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created or not user.has_usable_password():  # disabled by a real-API run
                user.set_password(DEMO_PASSWORD)
            user.is_staff = role in (ADMIN, OWNER)  # Django admin: user management
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write(self.style.SUCCESS("Demo logins (sandbox mode):"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   {role}")
