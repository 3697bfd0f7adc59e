"""`nbcatalog batch NAME …`: one notebooklet for many entities (`nbcatalog.run_many`).

The entities come from files: ``--PARAM-file FILE`` gives one value per line of
that parameter (``--host-file hosts.txt``; blank lines and ``#`` comments are
skipped; several such files are read side by side, line i of each making run i),
or ``--csv FILE`` gives a CSV whose header names the parameters (an empty cell
leaves that parameter at its default). The template's other options
(``--last``, ``--source``, ``--option`` and its own parameters) apply to every
run. Executors: ``--workers N`` threads with warm kernels (default: the number
of cores), or Dask with ``--scheduler ADDRESS`` (or a scheduler file) or
``--dask-local N`` worker processes. Exit codes: 0 every run finished (ok, or
no_data without ``--strict``), 1 some failed (the summary names them), 2 bad
usage or parameters, 3 ``--strict`` and some run found no data, 130 stopped by
Ctrl-C (Dask workers shut down first).

Example:
    $ nbcatalog batch host-summary --host-file hosts.txt --last 24h --workers 2 --html
    $ nbcatalog batch account-summary --csv accounts.csv --dask-local 4 --json
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from nbcatalog.cli.completion import (
    TemplateDispatch,
    complete_template_args,
    complete_template_name,
)
from nbcatalog.cli.run_cmd import strict_option
from nbcatalog.cli.template_options import (
    cli_options,
    option_flag,
    output_options,
    raw_from_cli,
)

from nbcatalog.errors import NbcatalogError, ParameterError, UsageError
from nbcatalog.runstate import INTERRUPTED_EXIT, NO_DATA_EXIT

FILE_SUFFIX = "_file"


def _file_parameters(template: Any) -> list[str]:
    """The parameters a ``--PARAM-file`` can give: the template's own (not DataFrames)."""
    standard = {"start", "end", "last", "data_source", "options"}
    return [o.name for o in cli_options(template) if o.name not in standard]


def _csv_parameters(template: Any) -> list[str]:
    """The columns a ``--csv`` file may have: every option of `nbcatalog run NAME`."""
    return [o.name for o in cli_options(template)]


def read_values(path: str | Path) -> list[str]:
    """One value per line; blank lines and lines starting with ``#`` are skipped.

    Example:
        >>> p = Path(tempfile.mkdtemp()) / "hosts.txt"            # doctest: +SKIP
        >>> _ = p.write_text("WKSTN-001\\n\\n# dc\\nWIN-DC01\\n")  # doctest: +SKIP
        >>> read_values(p)                                         # doctest: +SKIP
        ['WKSTN-001', 'WIN-DC01']
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text ({exc.reason}); give one value per line"
        ) from None
    values = [line.strip() for line in text.splitlines()]
    return [v for v in values if v and not v.startswith("#")]


def read_csv(path: str | Path, accepted: list[str]) -> list[dict[str, str]]:
    """Parameter sets from a CSV whose header names parameters (``host`` or ``--host``).

    Empty cells are left out, so that parameter keeps its default.

    Example:
        >>> read_csv("hosts.csv", ["host", "last"])                # doctest: +SKIP
        [{'host': 'WKSTN-001'}, {'host': 'WIN-DC01', 'last': '24h'}]
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise UsageError(f"{path}: not a CSV file: {exc}") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise UsageError(f"{path} is empty; give a header row of parameter names, then values")
    header = [h.strip().lstrip("-").replace("-", "_") for h in rows[0]]
    unknown = [h for h in header if h not in accepted]
    if unknown or len(set(header)) != len(header):
        what = (
            f"unknown column(s) {', '.join(map(repr, unknown))}" if unknown else "a repeated column"
        )
        raise UsageError(f"{path}: {what}; columns name parameters: {', '.join(accepted)}")
    sets = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise UsageError(f"{path} line {number}: {len(row)} cells for {len(header)} columns")
        values = {h: cell.strip() for h, cell in zip(header, row, strict=False) if cell.strip()}
        sets.append(values)
    if not sets:
        raise UsageError(f"{path} has a header but no rows")
    return sets


def param_sets_from_files(
    files: dict[str, str], csv_path: str | None, accepted: list[str]
) -> list[dict[str, str]]:
    """The batch's parameter sets from ``--PARAM-file`` files or one ``--csv`` file."""
    if csv_path and files:
        raise UsageError("give either --csv or --PARAM-file files, not both")
    if csv_path:
        return read_csv(csv_path, accepted)
    if not files:
        raise UsageError(
            "no entities: give a file of values, e.g. --host-file hosts.txt, or --csv FILE"
        )
    columns = {name: read_values(path) for name, path in files.items()}
    lengths = {name: len(values) for name, values in columns.items()}
    for name, count in lengths.items():
        if count == 0:
            raise UsageError(f"{files[name]} holds no values for {option_flag(name)}")
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{files[n]}: {c}" for n, c in lengths.items())
        raise UsageError(f"the value files are read side by side, so need as many lines ({shown})")
    count = next(iter(lengths.values()))
    return [{name: columns[name][i] for name in columns} for i in range(count)]


def _batch_options() -> list[click.Parameter]:
    return [
        click.Option(
            ["--csv", "--params-csv", "csv_path"],
            type=click.Path(exists=True, dir_okay=False),
            help="CSV of parameter sets, a header row naming the parameters",
        ),
        click.Option(
            ["--workers", "workers"],
            type=click.IntRange(min=1),
            help="runs at once on this machine [default: number of cores]",
        ),
        click.Option(
            ["--scheduler", "scheduler"],
            metavar="ADDRESS",
            help="run on a Dask cluster: tcp://HOST:PORT or a scheduler file",
        ),
        click.Option(
            ["--dask-local", "dask_local"],
            type=click.IntRange(min=1),
            metavar="N",
            help="run on a local Dask cluster of N worker processes",
        ),
        click.Option(
            ["--retries", "retries"],
            type=click.IntRange(min=0),
            default=1,
            show_default=True,
            help="more attempts for a run that fails",
        ),
        click.Option(["--html", "html"], is_flag=True, help="also write each run's report.html"),
        click.Option(
            ["--fresh-kernel", "fresh_kernel"],
            is_flag=True,
            help="start a new kernel for every run instead of reusing warm ones (slower)",
        ),
        *output_options(timeout_help="fail a run that takes longer than this"),
        strict_option(),
    ]


def _file_options(template: Any) -> list[click.Parameter]:
    return [
        click.Option(
            [option_flag(name) + "-file", name + FILE_SUFFIX],
            type=click.Path(exists=True, dir_okay=False),
            metavar="FILE",
            help=f"values of {option_flag(name)}, one per line: one run each",
        )
        for name in _file_parameters(template)
    ]


def _human_summary(summary: dict[str, Any]) -> str:
    lines = []
    for row in summary["results"]:
        if row["status"] == "failed":
            lines.append(
                f"  FAILED {row['key']} after {row['attempts']} attempt(s): {row['error']}"
            )
            if row.get("run_dir"):
                lines.append(f"         run folder: {row['run_dir']}")
        elif row["status"] == "no_data":
            lines.append(f"  NO DATA {row['key']}: {row.get('reason') or 'no data'}")
            lines.append(f"          run folder: {row['run_dir']}")
    lines.append(f"batch summary: {summary['index']}")
    lines.append(
        f"{summary['template']}: {summary['ok']} of {summary['runs']} run(s) ok, "
        f"{summary['no_data']} no_data, {summary['failed']} failed, in "
        f"{summary['duration']:.1f} s ({summary['executor']} executor)"
    )
    return "\n".join(lines)


def _fail(exc: NbcatalogError | ValueError, as_json: bool) -> None:
    click.echo(f"error: {exc}", err=True)
    if as_json:
        click.echo(json.dumps({"status": "usage-error", "error": str(exc)}, indent=2))
    sys.exit(2)


def _callback(template: Any) -> Callable[..., None]:
    def callback(**values: Any) -> None:
        from nbcatalog.batch import run_many

        as_json = bool(values.get("json_out"))
        files = {
            name: values[name + FILE_SUFFIX]
            for name in _file_parameters(template)
            if values.get(name + FILE_SUFFIX)
        }
        common = raw_from_cli(template, values)
        try:
            sets = param_sets_from_files(files, values.get("csv_path"), _csv_parameters(template))
            batch = run_many(
                str(template.path),
                sets,
                workers=values.get("workers"),
                scheduler=values.get("scheduler"),
                dask_local=values.get("dask_local"),
                retries=values["retries"],
                output_dir=values.get("output"),
                html=bool(values.get("html")),
                timeout=values.get("timeout"),
                quiet=bool(values.get("quiet")) or as_json,
                fresh_kernel=bool(values.get("fresh_kernel")),
                **common,
            )
        except (UsageError, ParameterError) as exc:
            _fail(exc, as_json)
        except KeyboardInterrupt:  # Ctrl-C: workers are shut down by run_many; no traceback
            click.echo(
                "error: batch interrupted; runs that finished are in the history "
                "(nbcatalog history), the others are marked interrupted",
                err=True,
            )
            sys.exit(INTERRUPTED_EXIT)
        summary = batch.summary()
        click.echo(json.dumps(summary, indent=2) if as_json else _human_summary(summary))
        if summary["failed"]:
            sys.exit(1)
        if values.get("strict") and summary["no_data"]:
            sys.exit(NO_DATA_EXIT)
        sys.exit(0)

    return callback


def batch_template_command(template: Any) -> click.Command:
    """The click command running one template as a batch, options made from its parameters.

    Example:
        >>> from nbcatalog.catalog import get_template
        >>> cmd = batch_template_command(get_template("host_summary"))   # doctest: +SKIP
        >>> "host_file" in [p.name for p in cmd.params]                  # doctest: +SKIP
        True
    """
    return click.Command(
        f"batch {template.name}",
        params=_file_options(template) + cli_options(template) + _batch_options(),
        callback=_callback(template),
        help=f"Run {template.title} once per entity.\n\n"
        "Entities come from --PARAM-file files (one value per line) or --csv; the other "
        "options apply to every run.",
        context_settings={"help_option_names": ["-h", "--help"]},
    )


@click.command(
    "batch",
    cls=TemplateDispatch,
    build=lambda t: batch_template_command(t),
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
    help="Run the notebooklet NAME once per entity listed in a file; "
    "`nbcatalog batch NAME --help` lists its options.\n\nExit codes: 0 all runs finished, "
    "1 some failed, 2 bad usage, 3 --strict and some run found no data.",
)
@click.argument("name", required=False, shell_complete=complete_template_name)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, shell_complete=complete_template_args)
@click.pass_context
def batch_command(ctx: click.Context, name: str | None, args: tuple[str, ...]) -> None:
    """Find the template, then parse the options made from its parameters."""
    if name is None or name in ("-h", "--help"):
        click.echo(ctx.get_help())
        click.echo("\nExample:\n  nbcatalog batch host-summary --host-file hosts.txt --last 24h")
        ctx.exit(0 if name else 2)
    from nbcatalog.runner import find_template
    from nbcatalog.template import TemplateError

    try:
        template = find_template(name)
    except (UsageError, TemplateError) as exc:
        _fail(exc, "--json" in args)
    sub = batch_template_command(template)
    with sub.make_context(f"batch {name}", list(args), parent=ctx.parent) as sub_ctx:
        sub.invoke(sub_ctx)


COMMANDS: list[click.Command] = [batch_command]
