"""`nbcatalog web`: the catalogue and its reports in a small web app with a login.

Analysts browse the catalogue, run a notebooklet from a form made from its
parameters (checked exactly as the CLI checks them), follow it while it runs,
browse the history with status and findings, open reports and run folders, and
rerun a past run with other parameters. Runs go to the same output root and
history as the CLI and schedules.

One module one job: `settings` (options, config, logins), `passwords` (scrypt
hashes), `sessions` (sessions, login throttle), `csrf`, `middleware` (host
check, login gate, security headers), `files` (paths under the output root,
report headers), `forms` (the run form), `jobs` (the queue on warm kernels),
`insights` (findings and diffs), `render` (pages), `auth_views` and `pages`
(handlers), `app` (routes), `server` (uvicorn).

Example:
    $ nbcatalog web --port 8765            # prints a one-time token if no login is configured
"""

from __future__ import annotations
