"""The catalogue: every upstream's model list mirrored in the database.

`sync.sync_models` stores one fetched list (rewriting only what changed and recording drift),
`sync.refresh` fetches and syncs under a cross-process lease with backoff, `queries` answers
the list page from the database, and `tasks` runs refreshes and pruning on `django.tasks`.
"""
