"""The organization's Usage API, as `openai.types.admin.organization` names it."""

from __future__ import annotations

from .usage_completions_response import UsageCompletionsResponse

__all__ = ["UsageCompletionsResponse"]
