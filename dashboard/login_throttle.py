"""Failed sign-ins, throttled per (username, address) and per address, with a growing wait.

A stranger who knows an owner's username can only slow down sign-ins from the stranger's own
address: nothing is counted per username alone, so the owner's address is never locked.

Each attempt first *reserves* a slot in both counters, in one short transaction whose first
statement is an `UPDATE … SET count = count + 1` (atomic on SQLite and PostgreSQL, in threads
and across processes); only then is the password checked. A reservation that reaches the limit
sets the wait at once, so however many guesses arrive together, at most `limit` passwords are
checked. A failure keeps its slot; a success forgets the pair and gives the address its slot back.

Windows: failures are counted over `LOGIN_LOCKOUT_SECONDS` from the first one. Reaching the
limit means waiting `LOGIN_LOCKOUT_SECONDS`; each further failure after a wait doubles it, up
to `LOGIN_LOCKOUT_MAX_SECONDS`. A counter quiet for `LOGIN_LOCKOUT_SECONDS` (and not waiting)
starts again from zero. No cache is involved, so the windows are these on every cache backend.

Why not django-axes: it can lock per username+address and per address, but it checks the limit
before counting (a burst of concurrent guesses all get their password checked, jazzband/
django-axes#592, "won't fix"), its cache handler's count is not atomic (#784), and its cool-off
does not grow with further failures.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import LoginFailure

ADDRESS_ONLY = ""  # the username digest of the per-address counter


def now() -> datetime.datetime:
    """The clock (tests move it)."""
    return timezone.now()


@dataclass(frozen=True)
class Slot:
    """One reserved attempt in one counter."""

    pk: int
    count: int  # this attempt's number in the window
    previous_lock: datetime.datetime | None  # None or already over when the slot was taken
    locked: bool  # this reservation started a wait


@dataclass(frozen=True)
class Attempt:
    """Both slots of a sign-in attempt whose password may now be checked."""

    pair: Slot
    address: Slot


@dataclass(frozen=True)
class Refusal:
    """No slot: wait until `until`. `scope` says which counter refused."""

    scope: str  # "user+address" or "address"
    until: datetime.datetime

    @property
    def seconds(self) -> int:
        return max(1, int((self.until - now()).total_seconds() + 0.999))


def username_digest(username: str) -> str:
    """What is stored instead of the typed name (which may be a mistyped password)."""
    return hashlib.sha256(username.casefold().encode()).hexdigest()[:32]


def begin(username: str, address: str) -> Attempt | Refusal:
    """Reserve a slot per (username, address), then per address; or say how long to wait."""
    address = address[:64]
    pair = _reserve(username_digest(username), address, settings.LOGIN_FAILURE_LIMIT)
    if isinstance(pair, datetime.datetime):
        return Refusal("user+address", pair)
    per_address = _reserve(ADDRESS_ONLY, address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)
    if isinstance(per_address, datetime.datetime):
        _give_back(pair)  # this attempt never reached the password
        return Refusal("address", per_address)
    return Attempt(pair, per_address)


def succeeded(attempt: Attempt) -> None:
    """The password was right: forget the pair's failures, return the address's slot."""
    LoginFailure.objects.filter(pk=attempt.pair.pk).delete()
    _give_back(attempt.address)
    _forget_quiet_counters()


def wait_seconds(count: int, limit: int) -> int:
    """The wait started by the `count`-th attempt: none below the limit, then doubling."""
    if count < limit:
        return 0
    base: int = settings.LOGIN_LOCKOUT_SECONDS
    cap: int = max(base, settings.LOGIN_LOCKOUT_MAX_SECONDS)
    doublings = min(count - limit, 32)  # 2**32 windows exceed any cap
    return int(min(base * 2**doublings, cap))


def _reserve(digest: str, address: str, limit: int) -> Slot | datetime.datetime:
    """A slot in the counter for (digest, address), or the time its wait ends."""
    window = datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    for _ in range(3):  # the row may vanish (a success, pruning) between the two steps
        at = now()
        row, _created = LoginFailure.objects.get_or_create(
            username_digest=digest, address=address, defaults={"first_failure": at}
        )
        rows = LoginFailure.objects.filter(pk=row.pk)
        not_waiting = Q(locked_until=None) | Q(locked_until__lte=at)
        with transaction.atomic():
            # Writes first: SQLite then takes its write lock at once (waiting its busy
            # timeout), and PostgreSQL holds the row until commit; the read below sees ours.
            rows.filter(_quiet(at, window)).update(count=0, first_failure=at, locked_until=None)
            taken = rows.filter(not_waiting).update(count=F("count") + 1)
            current = rows.first()
            if current is None:
                continue  # vanished: make it again
            if not taken:
                if current.locked_until is not None and current.locked_until > at:
                    return current.locked_until
                continue  # its wait was taken back meanwhile: try again
            previous_lock = current.locked_until
            wait = wait_seconds(current.count, limit)
            if wait:
                rows.update(locked_until=at + datetime.timedelta(seconds=wait))
            return Slot(current.pk, current.count, previous_lock, locked=bool(wait))
    raise RuntimeError("login failure counter kept vanishing")  # pragma: no cover


def _give_back(slot: Slot) -> None:
    """Undo a reservation that was not a failure. If it started a wait, no one else has
    reserved since (they were refused), so the wait it started is removed as well."""
    rows = LoginFailure.objects.filter(pk=slot.pk, count__gt=0)
    if slot.locked:
        rows.update(count=F("count") - 1, locked_until=slot.previous_lock)
    else:
        rows.update(count=F("count") - 1)


def _quiet(at: datetime.datetime, window: datetime.timedelta) -> Q:
    """Counters whose window is over and which have not waited within the last window."""
    return Q(first_failure__lte=at - window) & (
        Q(locked_until=None) | Q(locked_until__lte=at - window)
    )


def _forget_quiet_counters() -> None:
    window = datetime.timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    LoginFailure.objects.filter(_quiet(now(), window)).delete()
