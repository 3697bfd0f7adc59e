"""`nbcatalog schedule check|run-due|serve|run` and `nbcatalog history`.

The schedule file is ``--file``, else ``$NBCATALOG_SCHEDULES``, else
./schedules.yaml; runs, history and index.html go under ``--output``, else
``$NBCATALOG_OUTPUT``, else ./output. Exit codes: 0 all well, 1 a run failed,
2 a bad schedule file or option, 3 no run failed but a strict job's run found no
data (its host matched nothing, its tables are absent).

Example:
    $ nbcatalog schedule check
    $ nbcatalog schedule run-due --now 2026-03-02T06:00:00Z --json
    $ nbcatalog history --job crown-jewels --status failed
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from nbcatalog.errors import UsageError

FILE_OPTION = click.option(
    "--file",
    "-f",
    "schedule_file",
    metavar="PATH",
    help="schedule file [default: $NBCATALOG_SCHEDULES or ./schedules.yaml]",
)
OUTPUT_OPTION = click.option(
    "--output",
    "output",
    metavar="DIR",
    help="output root for runs, history and index.html [default: $NBCATALOG_OUTPUT or ./output]",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="print JSON")
FRESH_KERNEL_OPTION = click.option(
    "--fresh-kernel",
    "fresh_kernel",
    is_flag=True,
    help="start a new kernel for every run instead of reusing this process's warm ones",
)


def _run_function(fresh_kernel: bool) -> Any:
    """The run callable handed to the scheduler: None (warm pool) or fresh kernels."""
    if not fresh_kernel:
        return None
    import functools

    import nbcatalog

    return functools.partial(nbcatalog.run, fresh_kernel=True)


def _parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 time; e.g. 2026-03-02T06:00:00Z (no zone means UTC)",
            param_hint="--now",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _usage_error(exc: UsageError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _root(output: str | None) -> Path:
    from nbcatalog.history import output_root

    return Path(output) if output else output_root()


def _load(schedule_file: str | None):
    from nbcatalog.schedules.spec import load_schedule

    try:
        return load_schedule(schedule_file)
    except UsageError as exc:
        _usage_error(exc)


def _print_outcomes(outcomes: list, as_json: bool, root: Path) -> None:
    if as_json:
        click.echo(json.dumps([o.to_json() for o in outcomes], indent=2))
        return
    if not outcomes:
        click.echo("nothing due")
    for o in outcomes:
        params = ", ".join(f"{k}={v}" for k, v in sorted(o.parameters.items()))
        fire = o.fire_time.strftime("%Y-%m-%d %H:%M:%SZ") if o.fire_time else "-"
        line = f"{o.job} [{params or 'defaults'}] {fire}: {o.status}"
        if o.attempts > 1:
            line += f" after {o.attempts} attempts"
        if o.run_dir:
            line += f"  {root / o.run_dir}"
        click.echo(line)
        if o.diff and o.diff.get("summary"):
            click.echo(f"  since last run: {o.diff['summary']}")
        if o.error and o.status != "ok":
            click.echo(f"  {o.error}", err=True)
        if o.status == "no_data":
            policy = "strict job: counted as a failure" if o.strict else "strict: false"
            click.echo(f"  no data: {o.reason or 'no data'} ({policy})")


def _exit_for(outcomes: list) -> None:
    from nbcatalog.schedules.rundue import exit_code

    code = exit_code(outcomes)
    if code:
        sys.exit(code)


@click.group("schedule")
def schedule() -> None:
    """Scheduled HTML reports: check the schedule file, run what is due, serve."""


@schedule.command("check")
@FILE_OPTION
@click.option("--now", "now", metavar="TIME", help="show next fire times after TIME")
def check_command(schedule_file: str | None, now: str | None) -> None:
    """Validate the schedule file (fields, cron, time zones, notebooklets, parameters)."""
    from nbcatalog.schedules.firetimes import next_fire_time
    from nbcatalog.schedules.spec import check_schedule, schedule_path

    # Every problem of every job in one pass: a bad cron must not hide a typo elsewhere.
    spec, problems = check_schedule(schedule_file)
    if spec is None:
        click.echo(f"{schedule_path(schedule_file)}: {len(problems)} problem(s)", err=True)
        for line in problems:
            click.echo(line, err=True)
        sys.exit(2)
    after = _parse_now(now) or datetime.now(timezone.utc)
    click.echo(f"{spec.source}: {len(spec.jobs)} job(s) OK")
    for job in spec.jobs:
        nxt = next_fire_time(job.cron, job.timezone, after)
        state = "" if job.enabled else " (disabled)"
        click.echo(
            f"  {job.name}: {job.notebooklet} x{len(job.parameter_sets)} '{job.cron}' "
            f"{job.timezone}, next {nxt.isoformat()}{state}"
        )


@schedule.command("run-due")
@FILE_OPTION
@OUTPUT_OPTION
@click.option("--now", "now", metavar="TIME", help="pretend it is TIME (ISO-8601; default: now)")
@JSON_OPTION
@FRESH_KERNEL_OPTION
def run_due_command(
    schedule_file: str | None,
    output: str | None,
    now: str | None,
    as_json: bool,
    fresh_kernel: bool,
) -> None:
    """Run every job whose fire times fell since it last ran, then exit (for cron/systemd)."""
    from nbcatalog.schedules.rundue import run_due

    moment = _parse_now(now) or datetime.now(timezone.utc)
    spec = _load(schedule_file)
    root = _root(output)
    outcomes = run_due(spec, now=moment, output_dir=root, run=_run_function(fresh_kernel))
    _print_outcomes(outcomes, as_json, root)
    _exit_for(outcomes)


@schedule.command("serve")
@FILE_OPTION
@OUTPUT_OPTION
@click.option(
    "--now", "now", metavar="TIME", help="start the clock at TIME, then let it run (testing)"
)
@FRESH_KERNEL_OPTION
def serve_command(
    schedule_file: str | None, output: str | None, now: str | None, fresh_kernel: bool
) -> None:
    """Run due jobs and sleep until the next fire time, until SIGTERM/SIGINT."""
    from nbcatalog.schedules.serve import Clock, serve

    _load(schedule_file)  # fail fast (exit 2) on a bad file
    root = _root(output)

    def message(text: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%H:%M:%SZ")
        click.echo(f"[{stamp}] {text}", err=True)

    def outcome(o: Any) -> None:
        _print_outcomes([o], False, root)

    code = serve(
        schedule_file,
        output_dir=root,
        clock=Clock(_parse_now(now)),
        on_outcome=outcome,
        on_message=message,
        run=_run_function(fresh_kernel),
    )
    sys.exit(code)


@schedule.command("run")
@click.argument("job")
@FILE_OPTION
@OUTPUT_OPTION
@JSON_OPTION
@FRESH_KERNEL_OPTION
def run_command(
    job: str, schedule_file: str | None, output: str | None, as_json: bool, fresh_kernel: bool
) -> None:
    """Run JOB now for each of its parameter sets (recorded as manual)."""
    from nbcatalog.schedules.rundue import run_job_now

    spec = _load(schedule_file)
    root = _root(output)
    try:
        outcomes = run_job_now(spec, job, output_dir=root, run=_run_function(fresh_kernel))
    except UsageError as exc:
        _usage_error(exc)
    _print_outcomes(outcomes, as_json, root)
    _exit_for(outcomes)


@click.command("history")
@click.option("--job", "job", metavar="JOB", help="only runs of this scheduled job")
@click.option(
    "--status",
    "status",
    metavar="STATUS",
    help="only runs with this status (ok, no_data, failed, interrupted)",
)
@click.option("--template", "template", metavar="NAME", help="only runs of this notebooklet")
@click.option("--limit", "limit", type=click.IntRange(min=1), default=50, show_default=True)
@OUTPUT_OPTION
@JSON_OPTION
def history(
    job: str | None,
    status: str | None,
    template: str | None,
    limit: int,
    output: str | None,
    as_json: bool,
) -> None:
    """List runs (scheduled, manual, API, CLI), newest first."""
    from nbcatalog.history import list_runs, mark_abandoned

    root = _root(output)
    if mark_abandoned(root):  # a killed runner's run is abandoned, not running for ever
        from nbcatalog.schedules.index import write_index

        write_index(root)
    name = template.replace("-", "_") if template else None
    records = list_runs(root, job=job, status=status, template=name, limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], indent=2))
        return
    if not records:
        click.echo(f"no runs in {root}")
        return
    for r in records:
        params = ", ".join(
            f"{k}={v}" for k, v in sorted(r.parameters.items()) if k not in ("start", "end")
        )
        who = r.job or r.trigger or "-"
        click.echo(
            f"{r.started or '-':20}  {r.status:11}  {r.template:18}  {who:14}  "
            f"{params or '(defaults)'}  {root / r.run_dir}"
        )
        if r.error:
            click.echo(f"    {r.error.splitlines()[0]}")
        if r.reason:
            click.echo(f"    no data: {r.reason}")


@schedule.command("deliveries")
@click.option("--job", "job", metavar="JOB", help="only notifications of this job")
@click.option(
    "--status", "status", type=click.Choice(["sent", "failed"]), help="only sent or failed ones"
)
@OUTPUT_OPTION
@JSON_OPTION
def deliveries_command(
    job: str | None, status: str | None, output: str | None, as_json: bool
) -> None:
    """List the notifications sent (or not) for scheduled runs, oldest first."""
    from nbcatalog.history import list_deliveries

    root = _root(output)
    rows = [
        d
        for d in list_deliveries(root)
        if (job is None or d.job == job) and (status is None or d.status == status)
    ]
    if as_json:
        click.echo(json.dumps([d.to_json() for d in rows], indent=2))
        return
    if not rows:
        click.echo(f"no deliveries in {root}")
    for d in rows:
        tries = f"{d.attempts} attempt{'s' if d.attempts != 1 else ''}"
        click.echo(f"{d.at}  {d.status:6}  {d.channel:7}  {d.job or '-'}  {d.target}  ({tries})")
        click.echo(f"    {d.run_dir}")
        if d.error:
            click.echo(f"    {d.error.splitlines()[0]}")


COMMANDS: list[click.Command] = [schedule, history]
