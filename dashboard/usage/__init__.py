"""Usage: the Usage API's completions usage per model, day and API key, read incrementally in
the background with an upstream's admin key; "last used" on the list, a chart on the detail page.

```python
from dashboard.usage import request_usage_read, summary

request_usage_read("default")  # queued unless running, backing off, or no admin key
```
"""
