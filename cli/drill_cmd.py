"""`nbcatalog drill RUN_DIR [NAME]`: a run's drill-downs from a shell.

With no NAME it lists what the run's template offers. A drill-down that runs a
companion template runs it (or, with ``--print``, prints the equivalent
``nbcatalog run`` command); one that works on the run's data prints its table.

What a drill-down does comes from the installed catalogue template of the run's
name, never from the run folder (which may come from anyone): the folder supplies
only parameter values and result rows. When that template changed since the run
(content hash), drill refuses: rerun the template, or pass ``--allow-changed``. A
drill-down that needs a row or a value and gets none exits 2 listing the accepted
values.

Example:
    $ nbcatalog drill output/account_summary/20261128T040646Z-2c84bb
    $ nbcatalog drill output/account_summary/20261128T040646Z-2c84bb pick_ip --row 203.0.113.77
    $ nbcatalog drill output/host_summary/... expand_events --param event_ids=4720,4732 --print
    $ nbcatalog drill output/account_summary/... pick_asn --param asn=COMCAST-7922
"""

from __future__ import annotations

import json
from typing import Any

import click

from nbcatalog.errors import NbcatalogError, RunError, UsageError


def _row(text: str | None) -> Any:
    if text is None:
        return None
    return int(text) if text.lstrip("-").isdigit() else text


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    from nbcatalog.drilldowns import shown

    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {shown(pair)}: write NAME=VALUE, e.g. event_ids=4720,4732")
        params[key.strip()] = value
    return params


@click.command("drill")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("name", required=False)
@click.option("--row", metavar="VALUE", help="the row to drill into: a value or a position")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="extra keyword")
@click.option("--print", "print_only", is_flag=True, help="print the nbcatalog run command")
@click.option(
    "--allow-changed",
    is_flag=True,
    help="use the installed template's drill-downs even if it changed since the run",
)
@click.option("--html", is_flag=True, help="also write the companion run's report.html")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar")
def drill_command(
    run_dir: str,
    name: str | None,
    row: str | None,
    params: tuple[str, ...],
    print_only: bool,
    allow_changed: bool,
    html: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """List or run the drill-downs of the run in RUN_DIR."""
    from nbcatalog.cli.run_cmd import _fail, _human_summary

    from nbcatalog.batch import results_from_run_dir
    from nbcatalog.drilldowns import (
        TemplateChangedError,
        listing,
        run_drilldown,
        run_template,
        shell_command,
        specs_for,
    )

    try:
        res = _load_run(run_dir, results_from_run_dir)
        if name is None:
            table = listing(res)
            try:
                run_template(res, allow_changed=allow_changed)
            except TemplateChangedError as exc:
                click.echo(f"note: {exc}", err=True)
            if as_json:
                click.echo(json.dumps(table.to_dict("records"), indent=2))
            elif table.empty:
                click.echo(f"{res.template} declares no drill-downs")
            else:
                for rec in table.to_dict("records"):
                    click.echo(
                        f"{rec['Name']} ({rec['Kind']}: {rec['Runs']}): {rec['Description']}"
                    )
            return
        kwargs = _params(params)
        spec = specs_for(res).get(name)
        if print_only:
            click.echo(shell_command(res, name, _row(row), allow_changed=allow_changed, **kwargs))
            return
        if spec is not None and spec.kind == "template":
            out = run_drilldown(
                res,
                name,
                _row(row),
                run=_shell_runner(html=html, quiet=quiet or as_json),
                allow_changed=allow_changed,
                **kwargs,
            )
            summary = out.to_json_summary()
            click.echo(json.dumps(summary, indent=2) if as_json else _human_summary(summary))
            return
        out = run_drilldown(res, name, _row(row), allow_changed=allow_changed, **kwargs)
        _echo_value(out, as_json)
    except RunError as exc:
        _fail(exc, as_json, 1)
    except (NbcatalogError, ValueError) as exc:
        _fail(exc, as_json, 2)


def _load_run(run_dir: str, load: Any) -> Any:
    """The run's Results; a folder that cannot be read is a usage error (exit 2)."""
    from nbcatalog.drilldowns import shown

    try:
        return load(run_dir)
    except NbcatalogError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged or hostile folder: say so, no traceback
        raise UsageError(
            f"{run_dir} is not a run folder nbcatalog can read "
            f"({type(exc).__name__}: {shown(exc)}): it needs run.json and notebook.ipynb "
            "as nbcatalog run wrote them"
        ) from exc


def _shell_runner(*, html: bool, quiet: bool):
    def run(template: str, **params: Any):
        from nbcatalog.runner import run as run_template

        params.pop("silent", None)
        return run_template(
            template, html=html, quiet=quiet, silent=True, fresh_kernel=True, **params
        )

    return run


def _echo_value(value: Any, as_json: bool) -> None:
    import pandas as pd

    from nbcatalog.results import json_safe

    if isinstance(value, pd.DataFrame):
        if as_json:
            click.echo(json.dumps(json_safe(value.to_dict("records")), indent=2))
        else:
            click.echo(value.to_string(max_rows=200, max_colwidth=80))
        return
    if type(value).__module__.startswith("ipywidgets"):
        table, needs = getattr(value, "table", None), getattr(value, "needs", "")
        if not isinstance(table, pd.DataFrame) or not needs:
            raise UsageError("this drill-down is interactive: call it from a notebook (res.NAME())")
        # A browser: the table it would offer (not with --json: one JSON document, the
        # error), then exit 2 naming the values it accepts.
        if not as_json:
            from nbcatalog.nblib.browse import text_table

            click.echo(text_table(table))
        raise UsageError(needs)
    records = getattr(value, "records", None)
    if as_json and callable(records):  # a browsed item or a timeline: its rows
        click.echo(json.dumps(json_safe(records()), indent=2, default=str))
        return
    click.echo(json.dumps(json_safe(value), indent=2) if as_json else str(value))


COMMANDS: list[click.Command] = [drill_command]
