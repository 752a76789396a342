"""The detail page's usage chart: bars of requests per day, as geometry for a server-rendered
SVG (templates/usage/model_usage.html draws it; colours come from CSS, so dark mode works)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

BAR = 4  # SVG units per day (3 bar, 1 gap)
HEIGHT = 60


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    requests: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    peak: int  # the most requests on one day
    first: datetime.date
    last: datetime.date

    @property
    def peak_text(self) -> str:
        return f"{self.peak:,}"

    @property
    def used_days(self) -> list[Bar]:
        """The days with requests, newest first (the table under the chart)."""
        return [bar for bar in reversed(self.bars) if bar.requests]


def chart(days: list[tuple[datetime.date, int]]) -> Chart:
    """Bars scaled to the busiest day; a day with any request is at least one unit high."""
    peak = max((requests for _, requests in days), default=0)
    bars = []
    for n, (day, requests) in enumerate(days):
        height = max(1, round(requests / peak * HEIGHT)) if requests else 0
        bars.append(Bar(day, requests, n * BAR, HEIGHT - height, height))
    first = days[0][0] if days else datetime.date.min
    last = days[-1][0] if days else datetime.date.min
    return Chart(bars, len(days) * BAR, HEIGHT, peak, first, last)
