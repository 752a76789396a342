"""Compare `modelsclient` with the official `openai` package, in the same run.

Run with `make bench` (installs the `bench` extra: openai==2.54.*). Both clients get the same
`httpx.MockTransport`, the same bodies and the same calls, so what differs is the client code.
Prints modelsclient / openai ratios against targets; always exits 0 (it informs, it does not gate).
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pydantic

import modelsclient

API_KEY = "sk-bench"
BASE_URL = "http://bench.local/v1"
PACKAGES = ("modelsclient", "openai")
IMPORT_RUNS = 9  # fresh interpreters per package, alternating
CALLS, CALL_REPEATS, WARMUP = 2_000, 5, 200
LIST_SIZE, LIST_REPEATS = 10_000, 7

MODEL_BODY = json.dumps(
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}
).encode()


def list_body(n: int) -> bytes:
    """A realistic `/models` body: fine-tunes, some with a shutdown date, one unknown field."""
    data = [
        {
            "id": f"ft:gpt-4o-mini:acme:suffix-{i}:abc{i:03d}",
            "object": "model",
            "created": 1_700_000_000 + i * 60,
            "owned_by": f"org-acme-{i % 7}",
            "shutdown_date": None if i % 3 else f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "region": "eu" if i % 2 else "us",  # unknown to both clients' types
        }
        for i in range(n)
    ]
    return json.dumps({"object": "list", "data": data}).encode()


def transport(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "application/json"}
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


def sync_client(package: str, body: bytes) -> Any:
    http = httpx.Client(transport=transport(body))
    if package == "openai":
        return openai.OpenAI(api_key=API_KEY, base_url=BASE_URL, http_client=http)
    return modelsclient.Client(api_key=API_KEY, base_url=BASE_URL, http_client=http)


def async_client(package: str, body: bytes) -> Any:
    http = httpx.AsyncClient(transport=transport(body))
    if package == "openai":
        return openai.AsyncOpenAI(api_key=API_KEY, base_url=BASE_URL, http_client=http)
    return modelsclient.AsyncClient(api_key=API_KEY, base_url=BASE_URL, http_client=http)


# Timed in a fresh interpreter: the import alone, and import + client + first call (which
# includes whatever either package defers until first use, e.g. modelsclient's pydantic types).
IMPORT_ONLY = "import time; t=time.perf_counter(); import {pkg}; print(time.perf_counter()-t)"
FIRST_CALL = """\
import time; t = time.perf_counter()
import httpx, {pkg}
body = {body!r}
headers = {{"content-type": "application/json"}}
mock = httpx.MockTransport(lambda r: httpx.Response(200, content=body, headers=headers))
c = {pkg}.{cls}(api_key="sk-bench", base_url="{url}", http_client=httpx.Client(transport=mock))
assert c.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
print(time.perf_counter() - t)
"""
CLIENT_CLASS = {"modelsclient": "Client", "openai": "OpenAI"}


def fresh_interpreter_ms(template: str) -> dict[str, float]:
    """Median ms over IMPORT_RUNS of a snippet run per package, alternating the order."""
    samples: dict[str, list[float]] = {p: [] for p in PACKAGES}
    for run in range(IMPORT_RUNS + 1):
        order = PACKAGES if run % 2 else PACKAGES[::-1]
        for pkg in order:
            code = template.format(pkg=pkg, cls=CLIENT_CLASS[pkg], body=MODEL_BODY, url=BASE_URL)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
            if run:  # the first round only warms the OS file cache and .pyc files
                samples[pkg].append(float(out.stdout))
    return {pkg: statistics.median(values) * 1e3 for pkg, values in samples.items()}


def per_call_sync(package: str) -> float:
    """Median µs per `models.retrieve()` over CALL_REPEATS rounds of CALLS calls."""
    with sync_client(package, MODEL_BODY) as c:
        for _ in range(WARMUP):
            c.models.retrieve("gpt-4o-mini")
        rounds = []
        for _ in range(CALL_REPEATS):
            start = time.perf_counter()
            for _ in range(CALLS):
                c.models.retrieve("gpt-4o-mini")
            rounds.append((time.perf_counter() - start) / CALLS)
    return statistics.median(rounds) * 1e6


async def _per_call_async(package: str) -> float:
    async with async_client(package, MODEL_BODY) as c:
        for _ in range(WARMUP):
            await c.models.retrieve("gpt-4o-mini")
        rounds = []
        for _ in range(CALL_REPEATS):
            start = time.perf_counter()
            for _ in range(CALLS):
                await c.models.retrieve("gpt-4o-mini")
            rounds.append((time.perf_counter() - start) / CALLS)
    return statistics.median(rounds) * 1e6


def per_call_async(package: str) -> float:
    return asyncio.run(_per_call_async(package))


def list_parse_ms(package: str, body: bytes) -> float:
    """Median ms for `list(client.models.list())` over a LIST_SIZE-model body."""
    with sync_client(package, body) as c:
        assert len(list(c.models.list())) == LIST_SIZE  # warm-up, and a sanity check
        rounds = []
        for _ in range(LIST_REPEATS):
            gc.collect()
            start = time.perf_counter()
            models = list(c.models.list())
            rounds.append(time.perf_counter() - start)
            assert models[-1].region in {"eu", "us"}  # the unknown field survives in both
    return statistics.median(rounds) * 1e3


def alternate(measure: Callable[[str], float]) -> dict[str, float]:
    """Run `measure` for both packages twice, in both orders, and keep the better of each."""
    results: dict[str, list[float]] = {p: [] for p in PACKAGES}
    for order in (PACKAGES, PACKAGES[::-1]):
        for pkg in order:
            results[pkg].append(measure(pkg))
    return {pkg: min(values) for pkg, values in results.items()}


Row = tuple[str, str, dict[str, float], float | None]  # metric, unit, values, target ratio


def report(rows: list[Row]) -> None:
    header = ("metric", "modelsclient", "openai", "ratio", "target", "result")
    lines = [header]
    for metric, unit, values, target in rows:
        ratio = values["modelsclient"] / values["openai"]
        verdict = "info" if target is None else ("PASS" if ratio <= target else "FAIL")
        lines.append(
            (
                metric,
                f"{values['modelsclient']:.1f} {unit}",
                f"{values['openai']:.1f} {unit}",
                f"{ratio:.2f}x",
                "-" if target is None else f"<= {target:.2f}x",
                verdict,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
    misses = [row[0] for row, line in zip(rows, lines[1:], strict=True) if line[-1] == "FAIL"]
    print()
    print(f"MISSED TARGETS: {', '.join(misses)}" if misses else "All targets met.")
    print(
        "Ratios are modelsclient / openai (lower is better).\n"
        "openai builds response models without validating them (its default); "
        "modelsclient validates them with pydantic."
    )


def main() -> int:
    print(
        f"Python {sys.version.split()[0]}  httpx {httpx.__version__}  "
        f"pydantic {pydantic.VERSION}  openai {openai.__version__}  "
        f"modelsclient {modelsclient.__version__}\n"
    )
    body = list_body(LIST_SIZE)  # built once, outside every timing

    def list_parse(package: str) -> float:
        return list_parse_ms(package, body)

    measures: list[tuple[str, str, Callable[[], dict[str, float]], float | None]] = [
        ("import", "ms", lambda: fresh_interpreter_ms(IMPORT_ONLY), 0.25),
        ("import + first call", "ms", lambda: fresh_interpreter_ms(FIRST_CALL), None),
        ("retrieve, sync", "us/call", lambda: alternate(per_call_sync), 0.5),
        ("retrieve, async", "us/call", lambda: alternate(per_call_async), 0.5),
        (f"list {LIST_SIZE:,} models", "ms", lambda: alternate(list_parse), 0.5),
    ]
    rows: list[Row] = []
    for metric, unit, measure, target in measures:
        print(f"measuring {metric} ...", flush=True)
        rows.append((metric, unit, measure(), target))
    print()
    report(rows)
    return 0  # informs, never fails the build


if __name__ == "__main__":
    raise SystemExit(main())
