"""`nbcatalog run NAME …` and `nbcatalog report NAME …`: run a notebooklet from a shell.

The options after NAME come from that template's parameters (``--host``,
``--account``, …, see `nbcatalog.cli.template_options`), plus ``--last``,
``--start``, ``--end``, ``--option``, ``--source`` and the run's own ``--output``,
``--timeout``, ``--html``, ``--pdf``, ``--json``, ``--quiet``, ``--strict``. ``nbcatalog run NAME
--help`` lists them. The last line printed is the run's state: ``ok``, or ``no_data``
and what was missing. Exit codes: 0 the run finished (ok, or no_data without
``--strict``), 1 the run failed, 2 bad usage or parameters (a required entity
missing too; ``--pdf`` with no Chromium to print with, before anything runs), 3
``--strict`` and the run found no data, 130 stopped by Ctrl-C (the message names
the cell that was running and the partial notebook).

Example:
    $ nbcatalog run host-summary --host WKSTN-042 --last 24h --json
    $ nbcatalog report account-summary --account bob
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from nbcatalog.cli.completion import (
    TemplateDispatch,
    complete_template_args,
    complete_template_name,
)
from nbcatalog.cli.template_options import cli_options, output_options, raw_from_cli

from nbcatalog.errors import NbcatalogError, RunError, UsageError
from nbcatalog.findings_model import headline_lines
from nbcatalog.runstate import INTERRUPTED_EXIT, NO_DATA, NO_DATA_EXIT, status_line

KERNEL_NOTE = (
    "Each run starts a fresh kernel: one run per process would not reuse a warm "
    "kernel, and a fresh one imports only what the template needs. For many runs use "
    "`nbcatalog batch` or `nbcatalog.run` in one process (warm kernels)."
)


def _run_options(force_html: bool) -> list[click.Parameter]:
    options: list[click.Parameter] = list(
        output_options(timeout_help="fail the run when it takes longer than this")
    )
    if not force_html:
        options.insert(
            2, click.Option(["--html", "html"], is_flag=True, help="also write report.html")
        )
    options.append(strict_option())
    options.append(
        click.Option(
            ["--pdf", "pdf"],
            is_flag=True,
            help="also print the report to report.pdf with headless Chromium (the HTML report too)",
        )
    )
    return options


def strict_option() -> click.Option:
    """``--strict``: a run that found no data exits 3 (run, report and batch take it)."""
    return click.Option(
        ["--strict", "strict"],
        is_flag=True,
        help="exit 3 when the run finds no data (the entity matched nothing or its tables "
        "are absent), so a scheduled job with a mistyped host does not stay green",
    )


def _human_summary(summary: dict[str, Any]) -> str:
    parts = []
    for name, value in summary["results"].items():
        if isinstance(value, dict) and value.get("type") in ("DataFrame", "Series"):
            parts.append(f"{name} ({value['rows']} rows)")
        else:
            text = json.dumps(value, ensure_ascii=False)
            parts.append(f"{name}={text if len(text) <= 40 else text[:37] + '...'}")
    lines = [
        f"results: {', '.join(parts) or 'none'}",
        f"run folder: {summary['run_dir']}",
    ]
    if summary.get("report"):
        lines.append(f"report: {summary['report']}")
    if summary.get("pdf"):
        lines.append(f"pdf: {summary['pdf']}")
    # What the run concluded, most severe first; log text in titles made terminal-safe.
    lines += headline_lines(summary.get("findings"), summary["status"])
    no_data = summary.get("no_data") or {}
    # Last, where `tail -1` of a cron log finds it: the state, and why when no_data.
    lines.append(
        status_line(
            summary["template"], summary["status"], summary["duration"], no_data.get("reason", "")
        )
    )
    return "\n".join(lines)


def _fail(exc: NbcatalogError | ValueError, as_json: bool, code: int) -> None:
    # A missing entity is told with the shell's flags (--host), not Python's keywords.
    click.echo(f"error: {getattr(exc, 'cli_message', exc)}", err=True)
    if as_json:
        info: dict[str, Any] = {"status": "failed" if code == 1 else "usage-error"}
        info["error"] = str(exc)
        if isinstance(exc, RunError):
            info["error"] = {
                "kind": exc.failure.kind,
                "cell_index": exc.failure.cell_index,
                "section": exc.failure.section,
                "exception_type": exc.failure.exception_type,
                "message": exc.failure.message,
            }
            info["notebook"] = str(exc.notebook_path) if exc.notebook_path else None
            info["run_dir"] = str(exc.notebook_path.parent) if exc.notebook_path else None
        click.echo(json.dumps(info, indent=2))
    sys.exit(code)


def _interrupted(exc: KeyboardInterrupt, as_json: bool) -> None:
    """Exit 130 (128 + SIGINT) naming the running cell and the partial notebook."""
    from nbcatalog.errors import RunInterrupted

    text = str(exc) if isinstance(exc, RunInterrupted) else "interrupted before the run started"
    click.echo(f"error: {text}", err=True)
    if as_json:
        info: dict[str, Any] = {"status": "interrupted", "error": text}
        if isinstance(exc, RunInterrupted) and exc.notebook_path is not None:
            info.update(
                cell_index=exc.failure.cell_index,
                section=exc.failure.section,
                notebook=str(exc.notebook_path),
                run_dir=str(exc.notebook_path.parent),
            )
        click.echo(json.dumps(info, indent=2))
    sys.exit(INTERRUPTED_EXIT)


def _template_callback(template: Any, force_html: bool) -> Callable[..., None]:
    def callback(**values: Any) -> None:
        from nbcatalog.runner import run
        from nbcatalog.template import TemplateError

        as_json = bool(values.get("json_out"))
        strict = bool(values.get("strict"))
        raw = raw_from_cli(template, values)
        pdf = bool(values.get("pdf"))
        if pdf:
            from nbcatalog.pdf import PdfError, find_chromium

            try:  # before the run: no PDF possible is a usage error, not a wasted run
                find_chromium()
            except PdfError as exc:
                _fail(exc, as_json, 2)
        try:
            res = run(
                str(template.path),
                # Recorded, so the history and the index show a strict no_data as failed.
                labels={"strict": True} if strict else None,
                output_dir=values.get("output"),
                timeout=values.get("timeout"),
                html=force_html or bool(values.get("html")) or pdf,
                quiet=bool(values.get("quiet")) or as_json,
                silent=True,
                # One run per process: a fresh kernel importing only what the template
                # needs is as fast as a pool started for a single use (which imports
                # every preloaded module and resets the kernel for nobody), and does
                # less work: host_logons_summary took 16.7-17.3 s fresh vs 17.2-18.0 s
                # pooled on a loaded 2-core machine. Long-lived callers use the pool.
                fresh_kernel=True,
                **raw,
            )
        except KeyboardInterrupt as exc:  # Ctrl-C: which cell, the partial notebook; no traceback
            _interrupted(exc, as_json)
        except RunError as exc:
            _fail(exc, as_json, 1)
        except UsageError as exc:
            _fail(exc, as_json, 2)
        except TemplateError as exc:  # the template file changed under us and is now unreadable
            _fail(exc, as_json, 2)
        except NbcatalogError as exc:  # e.g. no kernel could start: the run failed
            _fail(exc, as_json, 1)
        summary = res.to_json_summary()
        pdf_error = None
        if pdf:
            from nbcatalog.pdf import PdfError, print_pdf

            try:
                summary["pdf"] = str(print_pdf(res.report_path))
            except PdfError as exc:
                pdf_error = exc
        click.echo(json.dumps(summary, indent=2) if as_json else _human_summary(summary))
        if pdf_error is not None:
            click.echo(f"error: the run finished but its PDF did not: {pdf_error}", err=True)
            sys.exit(1)
        if strict and res.status == NO_DATA:
            sys.exit(NO_DATA_EXIT)

    return callback


def template_command(template: Any, *, command: str, force_html: bool = False) -> click.Command:
    """The click command running one template, its options made from its parameters.

    Example:
        >>> from nbcatalog.catalog import get_template
        >>> cmd = template_command(get_template("host_summary"), command="run")  # doctest: +SKIP
        >>> [p.name for p in cmd.params][:2]                                      # doctest: +SKIP
        ['host', 'start']
    """
    doc = template.description or template.title
    return click.Command(
        f"{command} {template.name}",
        params=cli_options(template) + _run_options(force_html),
        callback=_template_callback(template, force_html),
        help=f"{template.title}\n\n{doc}\n\n{KERNEL_NOTE}",
        context_settings={"help_option_names": ["-h", "--help"]},
    )


def _dispatch(command: str, force_html: bool) -> click.Command:
    verb = "Write an HTML report of" if force_html else "Run"

    @click.command(
        command,
        cls=TemplateDispatch,
        build=lambda t: template_command(t, command=command, force_html=force_html),
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
        help=f"{verb} the notebooklet NAME; `nbcatalog {command} NAME --help` lists its "
        "parameters.\n\nNAME is a catalogue name (host_summary or host-summary) or the "
        f"path of a template notebook.\n\n{KERNEL_NOTE}",
    )
    @click.argument("name", required=False, shell_complete=complete_template_name)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED, shell_complete=complete_template_args)
    @click.pass_context
    def dispatch(ctx: click.Context, name: str | None, args: tuple[str, ...]) -> None:
        if name is None or name in ("-h", "--help"):
            click.echo(ctx.get_help())
            click.echo(
                f"\nExample:\n  nbcatalog {command} host-summary --host WKSTN-042 --last 24h"
            )
            ctx.exit(0 if name else 2)
        from nbcatalog.runner import find_template
        from nbcatalog.template import TemplateError

        try:
            template = find_template(name)
        except UsageError as exc:
            _fail(exc, "--json" in args, 2)
        except TemplateError as exc:
            _fail(exc, "--json" in args, 2)
        sub = template_command(template, command=command, force_html=force_html)
        # Parent is the `nbcatalog` group, so usage reads "nbcatalog run NAME [OPTIONS]".
        with sub.make_context(f"{command} {name}", list(args), parent=ctx.parent) as sub_ctx:
            sub.invoke(sub_ctx)

    return dispatch


run_command = _dispatch("run", force_html=False)
report_command = _dispatch("report", force_html=True)

COMMANDS: list[click.Command] = [run_command, report_command]
