"""The sandbox's demo accounts: usable only while the dashboard talks to its sandbox."""

from __future__ import annotations

from .roles import ADMIN, OWNER, SUPPORT

DEMO_USERS = [("owner", OWNER), ("admin", ADMIN), ("support", SUPPORT)]
DEMO_USERNAMES = frozenset(name for name, _ in DEMO_USERS)
DEMO_PASSWORD = "demo"
