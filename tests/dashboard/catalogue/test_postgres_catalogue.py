"""The catalogue on PostgreSQL: sync, list queries and the refresh lease on a real server.

Reuses the throwaway cluster of tests/dashboard/postgres.py (skipped where PostgreSQL's
binaries are absent); the dashboard runs in subprocesses with DATABASE_URL pointing at it.
"""

from __future__ import annotations

import subprocess

from tests.dashboard.postgres import Cluster, cluster, prepared  # noqa: F401

SYNC_AND_LIST = """
    import time
    from dashboard import listing
    from dashboard.catalogue import queries
    from dataclasses import replace
    from dashboard.catalogue.models import CatalogueModel, Change
    from dashboard.catalogue.sync import sync_models
    from dashboard.listing import SORTS, ListQuery, Row

    def items(changed_every=0):
        out = []
        for i in range(3000):
            model = {
                "id": f"ft:gpt-4o-mini:Org{i % 7}:s{i % 5}:J{i:05d}" if i % 4 else f"Base-ß-{i}",
                "object": "model",
                "created": None if i % 13 == 0 else 1_700_000_000 + i * 3600,
                "owned_by": "system" if i % 4 == 0 else f"org-{i % 7}",
                "shutdown_date": None if i % 3 else f"2027-0{i % 9 + 1}-01",
            }
            if i == 1:
                model |= {"note": "nul\\x00inside", "score": float("nan")}
            if changed_every and i % changed_every == 0:
                model["shutdown_date"] = "2030-01-01"
            out.append(model)
        return out

    first = sync_models("pg", items())
    print("first", first.status, first.appeared, first.skipped)
    second = sync_models("pg", items(changed_every=30))
    print("second", second.changed, second.unchanged, second.rows_written,
          Change.objects.filter(upstream="pg", kind="changed").count())
    stops = dict(CatalogueModel.objects.filter(upstream="pg").values_list("model_id", "stops_on"))
    rows = [replace(Row.from_api(m), stops_on=stops[m["id"]]) for m in items(changed_every=30)]
    now = time.time()
    mismatches = []
    for filters in ({}, {"q": "j000"}, {"q": "STRASSE"}, {"owner": "org-3"},
                    {"kind": "fine-tuned", "base": "gpt-4o-mini", "age": "365"},
                    {"stops": "90"}, {"stops": "past", "kind": "base"}):
        for sort in [f"{d}{c}" for c in SORTS for d in ("", "-")]:
            for page in (1, 3, 999):
                query = ListQuery(**filters, sort=sort, page=page, per_page=50)
                got = queries.list_page("pg", query, now)
                want = listing.apply(rows, query, now)
                if ([r.id for r in got.page.rows], got.page.total) != (
                    [r.id for r in want.rows], want.total
                ) or got.facets != listing.facets(rows, query, now):
                    mismatches.append((filters, sort, page))
    print("mismatches", mismatches)
"""

LEASE_RACE = """
    import datetime, threading
    from django.db import connections
    from dashboard.catalogue.models import UpstreamState
    from dashboard.catalogue.sync import claim_lease, ensure_state, release_lease

    ensure_state("race")
    start = threading.Barrier(8)
    outcomes = []

    def claim():
        start.wait()
        outcomes.append(claim_lease("race"))
        connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    granted = [o for o in outcomes if isinstance(o, datetime.datetime)]
    print("granted", len(granted), "busy", outcomes.count("busy"))
    release_lease("race", granted[0])
    print("released", UpstreamState.objects.get(upstream="race").refresh_lease_until)
"""

EXPORT = """
    import csv, io, json
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from dashboard.catalogue.sync import sync_models

    settings.ALLOWED_HOSTS = ["testserver"]
    sync_models("default", [
        {"id": f"ft:gpt-4o-mini:acme:s{i % 3}:J{i:05d}", "created": 1_700_000_000 + i}
        for i in range(7500)
    ])
    want = [f"ft:gpt-4o-mini:acme:s1:J{i:05d}" for i in reversed(range(7500)) if i % 3 == 1]
    browser = Client()
    browser.force_login(User.objects.get(username="support"))
    for fmt in ("csv", "json"):
        response = browser.get(f"/u/default/models/export.{fmt}", {"q": "S1"})
        chunks = list(response.streaming_content)
        body = b"".join(chunks).decode()
        if fmt == "csv":
            got = [row[0] for row in list(csv.reader(io.StringIO(body)))[1:]]
        else:
            got = [item["id"] for item in json.loads(body)]
        print(fmt, response.status_code, len(chunks), got == want)
"""


def test_sync_and_the_list_queries_work_on_postgresql(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    assert prepared["migrate"].returncode == 0, prepared["migrate"].stderr

    lines = cluster.shell(SYNC_AND_LIST)

    assert lines == ["first succeeded 3000 0", "second 100 2900 100 100", "mismatches []"]


def test_eight_connections_racing_for_the_refresh_lease_get_it_once_on_postgresql(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    assert cluster.shell(LEASE_RACE) == ["granted 1 busy 7", "released None"]


def test_an_export_streams_more_rows_than_a_chunk_in_the_lists_order_on_postgresql(
    cluster: Cluster,  # noqa: F811
    prepared: dict[str, subprocess.CompletedProcess[str]],  # noqa: F811
) -> None:
    assert prepared["migrate"].returncode == 0, prepared["migrate"].stderr

    lines = cluster.shell(EXPORT)

    assert lines == ["csv 200 2501 True", "json 200 2501 True"]
