from __future__ import annotations

import datetime
import time

from django import template

register = template.Library()


@register.filter
def ago(timestamp: int | float | None) -> str:
    """Unix seconds as "3 days ago" / "in 2 months"."""
    if timestamp is None:
        return ""
    delta = time.time() - float(timestamp)
    future = delta < 0
    seconds = abs(delta)
    for unit, size in (
        ("year", 31536000),
        ("month", 2592000),
        ("day", 86400),
        ("hour", 3600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def _moment(timestamp: int | float | None) -> datetime.datetime | None:
    """Unix seconds as a UTC datetime; None when absent or outside what datetime can hold
    (`created` comes from upstream and may be any integer)."""
    if timestamp is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(float(timestamp), tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


@register.filter
def utc(timestamp: int | float | None) -> str:
    """Unix seconds as `2025-01-31 14:05:09 UTC`."""
    moment = _moment(timestamp)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


@register.filter
def iso(timestamp: int | float | None) -> str:
    moment = _moment(timestamp)
    return moment.isoformat() if moment else ""


def days_left(day: datetime.date, today: datetime.date | None = None) -> int:
    """Whole days from today (UTC) to `day`: negative once it has passed."""
    return (day - (today or datetime.datetime.now(tz=datetime.UTC).date())).days


@register.filter
def stops_words(day: datetime.date | None) -> str:
    """A stop date as "in 12 days" / "today" / "stopped 3 days ago" (UTC days)."""
    if day is None:
        return ""
    days = days_left(day)
    if days == 0:
        return "stops today"
    if days > 0:
        return f"in {days} day{'' if days == 1 else 's'}"
    return f"stopped {-days} day{'' if days == -1 else 's'} ago"


@register.filter
def days_until(day: datetime.date | None) -> int | None:
    """Whole days from today (UTC) to `day`, negative once past; None without a day."""
    return None if day is None else days_left(day)


@register.filter
def stops_days(days: int) -> str:
    """Days left (negative: past) as "in 3 days" / "today" / "3 days ago"."""
    if days == 0:
        return "today"
    count = abs(days)
    text = f"{count} day{'' if count == 1 else 's'}"
    return f"in {text}" if days > 0 else f"{text} ago"
