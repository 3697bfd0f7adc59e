"""Scheduled notebooklet runs: schedule file, fire times, claims, run-due, serve, index.

Modules, one job each: `spec` (the YAML schedule file), `firetimes` (cron and
time zones), `claims` (at-most-once in SQLite), `rundue` (decide and run what is
due), `serve` (the long-running loop), `index` (output/index.html),
`retention` (removing old runs). The run history itself is `nbcatalog.history`.

Example:
    >>> from nbcatalog.schedules.spec import load_schedule
    >>> from nbcatalog.schedules.rundue import run_due
    >>> run_due(load_schedule("schedules.yaml"), now=datetime.now(timezone.utc))  # doctest: +SKIP
"""
