"""Scheduled jobs: work domains register (every N minutes, daily at a local time, at moments they store), run by
`govops worker` exactly once per due time, recorded, retried with backoff, listed by `govops jobs` and /admin/jobs."""
