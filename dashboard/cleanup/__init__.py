"""Owner cleanup: selections across pages, deletion jobs checked before they act, four-eyes
deletion requests (see `jobs` for a job's life and how it survives a dead worker)."""
