"""The command line: `python -m modelsclient models list|retrieve ID|delete ID [--json]`.

```console
$ export OPENAI_API_KEY=sk-...   # also OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID
$ python -m modelsclient models list
$ python -m modelsclient models retrieve gpt-4o-mini --json
$ python -m modelsclient models delete ft:gpt-4o-mini:acme:suffix:abc123
```

Exit status: 0 on success, 1 on an API error, a missing key or a bad id (one line on stderr),
2 on a usage error. Piped into a reader that stops early (`| head`), it ends quietly with 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._client import Client
from ._exceptions import ModelsClientError
from ._version import __title__, __version__

if TYPE_CHECKING:
    from .types import Model

__all__ = ["main"]

_HEADER = ("ID", "OWNED BY", "CREATED", "SHUTDOWN")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=__title__,
        description="List, inspect and delete the models of an OpenAI-compatible API. "
        "Configured by OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and OPENAI_PROJECT_ID.",
    )
    parser.add_argument("--version", action="version", version=f"{__title__} {__version__}")
    resources = parser.add_subparsers(dest="resource", metavar="RESOURCE", required=True)
    models = resources.add_parser("models", help="the Models API")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON instead of text")
    actions.add_parser("list", parents=[as_json], help="list the available models")
    for name, text in (("retrieve", "show one model"), ("delete", "delete a fine-tuned model")):
        action = actions.add_parser(name, parents=[as_json], help=text)
        action.add_argument("id", metavar="ID", help="the model id, e.g. gpt-4o-mini")
    return parser


def _utc(created: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(created, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return str(created)  # out of range for a date: show what the server sent
    return moment.strftime("%Y-%m-%d %H:%M")


def _table(models: Iterable[Model]) -> str:
    rows = [_HEADER]
    rows += [(m.id, m.owned_by, _utc(m.created), m.shutdown_date or "-") for m in models]
    if len(rows) == 1:
        return "no models"
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def _text(value: object) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _key_values(fields: dict[str, Any]) -> str:
    width = max((len(key) for key in fields), default=0)
    lines = []
    for key, value in fields.items():
        shown = _text(value)
        if key == "created" and isinstance(value, int):
            shown = f"{value} ({_utc(value)} UTC)"
        lines.append(f"{key.ljust(width)}  {shown}")
    return "\n".join(lines)


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _run(args: argparse.Namespace) -> str:
    with Client() as client:
        if args.action == "list":
            models = list(client.models.list())  # every page, when the server pages
            return _json([m.to_dict() for m in models]) if args.json else _table(models)
        if args.action == "retrieve":
            model = client.models.retrieve(args.id)
            return _json(model.to_dict()) if args.json else _key_values(model.to_dict())
        result = client.models.delete(args.id)
        if args.json:
            return _json(result.to_dict())
        return f"{'deleted' if result.deleted else 'not deleted'} {result.id}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with `argv` (default: `sys.argv[1:]`); returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: keep argparse's status
        return exc.code if isinstance(exc.code, int) else 2
    try:
        output = _run(args)
    except (ModelsClientError, ValueError) as exc:  # APIError is a ModelsClientError
        message = " ".join(str(exc).split()) or type(exc).__name__
        key = os.environ.get("OPENAI_API_KEY")
        if key:  # a server may echo the key back in its error message
            message = message.replace(key, "[redacted]")
        print(f"error: {message}", file=sys.stderr)
        return 1
    try:
        print(output, flush=True)
    except BrokenPipeError:
        # The reader went away (`| head`): end quietly, as Python's documentation advises —
        # point stdout at devnull so the interpreter's final flush does not complain.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
