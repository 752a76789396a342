"""Concurrent wrong guesses for real: several processes, several threads each, one database.

Each process signs nothing in; it runs the login form (the code the login view runs) in
threads that start together, and prints how each guess ended. The caller sums the lines.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from .processes import REPO_ROOT

# Processes start Django at their own pace; a "go" file releases every thread at once.
GUESSER = textwrap.dedent(
    """
    import os, sys, threading, time
    from pathlib import Path
    from django.contrib.auth.signals import user_login_failed
    from django.db import connection
    from django.test import RequestFactory
    from dashboard.accounts import ThrottledAuthenticationForm

    sync = Path(os.environ["RACE_DIR"])
    me, threads = os.environ["RACE_PROCESS"], int(os.environ["RACE_THREADS"])
    checked, ended, lock = [], [], threading.Lock()
    user_login_failed.connect(lambda **kw: checked.append(1), weak=False)

    def guess(number):
        username = os.environ["RACE_USERNAME"].format(process=me, thread=number)
        request = RequestFactory().post("/login/", REMOTE_ADDR=os.environ["RACE_ADDRESS"])
        while not (sync / "go").exists():
            time.sleep(0.005)
        form = ThrottledAuthenticationForm(
            request, data={"username": username, "password": "wrong-guess-123"}
        )
        try:
            form.is_valid()
            codes = [error.code for error in form.errors.as_data().get("__all__", [])]
            outcome = codes[0] if codes else "signed-in"
        except Exception as exc:  # reported, so that a crash is never a "no check"
            outcome = "error:" + type(exc).__name__ + ":" + " ".join(str(exc).split())
        with lock:
            ended.append(outcome)
        connection.close()

    workers = [threading.Thread(target=guess, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    (sync / f"ready-{me}").touch()
    for worker in workers:
        worker.join()
    for code in ended:
        print("ended", code)
    print("checked", len(checked))
    """
)


def race(
    env: dict[str, str],
    sync_dir: Path,
    *,
    username: str,
    address: str,
    processes: int = 4,
    threads: int = 10,
) -> Counter[str]:
    """Run processes × threads guesses at once; how they ended, plus "checked" passwords."""
    sync_dir.mkdir(parents=True, exist_ok=True)
    common = {
        **env,
        "RACE_DIR": str(sync_dir),
        "RACE_THREADS": str(threads),
        "RACE_USERNAME": username,
        "RACE_ADDRESS": address,
    }
    running = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", GUESSER],
            cwd=REPO_ROOT,
            env={**common, "RACE_PROCESS": str(number)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(processes)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(sync_dir.glob("ready-*"))) < processes:
            assert time.monotonic() < deadline, "the guessing processes did not start"
            assert all(p.poll() is None for p in running), [p.communicate() for p in running]
            time.sleep(0.02)
        (sync_dir / "go").touch()
        tally: Counter[str] = Counter()
        for process in running:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            for line in out.splitlines():
                word, value = line.split(" ", 1)
                if word == "ended":
                    tally[value] += 1
                elif word == "checked":
                    tally["checked"] += int(value)
        return tally
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the dashboard's own variables, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "SANDBOX_", "DJANGO_", "LOGIN_", "CACHE_URL"))
    }
    return {**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings", **extra}
