"""`manage.py serve [addrport]`: the web server and the task worker as one command.

What `make run` starts: `runserver --noreload` and `db_worker` as two child processes, each in
its own process group so that a Ctrl-C reaches them once, from here (a second SIGINT would make
the worker abandon the task it is running). SIGINT and SIGTERM are forwarded to both; when
either child ends, the other is stopped too; a child that does not stop within
--grace seconds is killed. On Linux the children also die with this process (a `kill -9` here
leaves no orphans).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child receives when its parent dies


def _die_with_parent() -> None:
    """In the child before exec: on Linux, SIGTERM when the supervisor dies (even by kill -9)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no prctl: signals still forwarded
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


class Command(BaseCommand):
    help = (
        "Run the web server (runserver --noreload) and the task worker (db_worker) together; "
        "Ctrl-C stops both. For development: production runs gunicorn and db_worker apart."
    )
    requires_system_checks: list[str] = []  # runserver checks in its own process

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--grace",
            type=float,
            default=30.0,
            help="seconds a child may take to stop before it is killed (default 30)",
        )
        parser.add_argument(
            "--worker-interval",
            type=float,
            default=1.0,
            help="seconds the worker waits between polls of an empty queue (default 1)",
        )

    def handle(self, *args: Any, addrport: str, grace: float, **options: Any) -> None:
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        commands = {
            "web": [*manage, "runserver", addrport, "--noreload"],
            "worker": [
                *manage,
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                str(options["worker_interval"]),
            ],
        }
        children: dict[str, subprocess.Popen[bytes]] = {}
        stopping: list[int] = []

        def forward(signum: int, frame: FrameType | None) -> None:
            stopping.append(signum)
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            for name, command in commands.items():
                if stopping:  # Ctrl-C while starting: start no more
                    break
                children[name] = subprocess.Popen(
                    command, process_group=0, preexec_fn=_die_with_parent
                )
                self.stderr.write(f"serve: {name} started (pid {children[name].pid})")
            ended = self._wait_for_any(children)
            on_its_own = not stopping
            if on_its_own:
                self.stderr.write(f"serve: {ended} exited; stopping the other")
                forward(signal.SIGTERM, None)
            self._wait_all(children, grace)
        finally:
            for child in children.values():  # an error above: never leave one running
                if child.poll() is None:
                    child.kill()
                    child.wait()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        codes = {name: child.returncode for name, child in children.items()}
        self.stderr.write(f"serve: stopped ({', '.join(f'{n} {c}' for n, c in codes.items())})")
        if on_its_own:  # a child that ends unasked is a failure, whatever its code
            code = codes[ended]
            sys.exit(code if code and code > 0 else 1)

    @staticmethod
    def _wait_for_any(children: dict[str, subprocess.Popen[bytes]]) -> str:
        """The name of the first child to end (after a forwarded signal, or on its own)."""
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    return name
            time.sleep(0.1)

    def _wait_all(self, children: dict[str, subprocess.Popen[bytes]], grace: float) -> None:
        deadline = time.monotonic() + grace
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"serve: {name} did not stop within {grace:g} s; killing it")
                child.kill()
                child.wait()
