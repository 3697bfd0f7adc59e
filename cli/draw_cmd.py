"""`nbcatalog draw RUN...`: draw the charts a run left undrawn into its notebook.

A run nobody looked at (``silent=True``, a batch, a script keeping only tables)
saves its charts as stand-ins that say how to draw them (`nbcatalog.lazycharts`).
This draws them into ``notebook.ipynb``, rewritten atomically; a notebook already
drawn is left as it is. RUN is a run folder or a run id under the output root
(``--output``, ``NBCATALOG_OUTPUT``). Exit code 1 when a notebook could not be
read (it is left untouched), 2 when RUN names no run.

Example:
    $ nbcatalog draw output/host_logons_summary/20261206T101500Z-ab12cd
    output/host_logons_summary/20261206T101500Z-ab12cd/notebook.ipynb: 5 charts drawn
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

NOTEBOOK = "notebook.ipynb"


@click.command("draw")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.option("--output", "output_dir", type=click.Path(file_okay=False), help="output root")
def draw_command(runs: tuple[str, ...], output_dir: str | None) -> None:
    """Draw the charts a run left undrawn (a silent or batch run) into its notebook.ipynb."""
    from nbcatalog.cli.diff_cmd import resolve_run

    from nbcatalog.drilldowns import shown
    from nbcatalog.history import output_root

    root = Path(output_dir) if output_dir else output_root()
    notebooks = []
    for value in runs:  # every RUN is checked before any notebook is touched
        try:
            folder = resolve_run(value, root)
        except click.BadParameter as exc:
            raise click.UsageError(str(exc)) from None
        notebook = folder / NOTEBOOK
        if not notebook.is_file():
            raise click.UsageError(
                f"run {shown(str(folder))} kept no {NOTEBOOK} "
                "(a scheduled report's notebook is deleted unless its formats list 'notebook')"
            )
        notebooks.append(notebook)

    from nbcatalog.lazycharts import draw_file

    failed = 0
    for notebook in notebooks:
        try:
            drawn = draw_file(notebook)
        except Exception as exc:  # unreadable or unwritable: that file stays as it was
            failed += 1
            click.echo(f"error: {notebook}: not drawn ({type(exc).__name__}: {exc})", err=True)
            continue
        said = f"{drawn} chart{'s' if drawn != 1 else ''} drawn" if drawn else "nothing to draw"
        click.echo(f"{notebook}: {said}")
    if failed:
        sys.exit(1)
