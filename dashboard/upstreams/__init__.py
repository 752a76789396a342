"""The upstream APIs: configured like `DATABASES` (one alias each), one client per alias, the
bounded way pages call them, what their answers are trusted with, and errors in words.

```python
from dashboard.upstreams import call_within_budget, describe_error, get_upstream

upstream = get_upstream("default")
model = call_within_budget(lambda c: c.models.retrieve("gpt-4o"), upstream=upstream)
```
"""

from __future__ import annotations

from .budget import MAX_LIST_PAGES, MIN_ATTEMPT_SECONDS, Budget, NoAnswer, call_within_budget
from .clients import NotConfiguredError, get_client
from .config import DEFAULT, SANDBOX, Upstream, api_keys, get_upstream, upstreams
from .errors import UpstreamProblem, describe_error, never_sent, scrub
from .trust import GuardedTransport, RedirectRefused, ResponseTooLarge

__all__ = [
    "DEFAULT",
    "MAX_LIST_PAGES",
    "MIN_ATTEMPT_SECONDS",
    "SANDBOX",
    "Budget",
    "GuardedTransport",
    "NoAnswer",
    "NotConfiguredError",
    "RedirectRefused",
    "ResponseTooLarge",
    "Upstream",
    "UpstreamProblem",
    "api_keys",
    "call_within_budget",
    "describe_error",
    "get_client",
    "get_upstream",
    "never_sent",
    "scrub",
    "upstreams",
]
