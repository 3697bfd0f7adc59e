"""`nbcatalog list`, `find`, `show`, `new` and `check`: browsing and writing templates.

Example:
    $ nbcatalog list --json
    $ nbcatalog find logon linux
    $ nbcatalog show host-summary
    $ nbcatalog new beacon_hunt --category network --dir ~/notebooklets
    $ nbcatalog check ~/notebooklets
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from nbcatalog.cli.completion import complete_template_name

from nbcatalog import catalog as catalog_module
from nbcatalog.errors import NbcatalogError
from nbcatalog.template import Template


def _reports_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn nbcatalog errors into a one-line message and their exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NbcatalogError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(exc.exit_code) from None

    return wrapper


def template_summary(template: Template) -> dict[str, Any]:
    """What `list --json` prints for one template (JSON-serialisable)."""
    return {
        "name": template.name,
        "title": template.title,
        "category": template.category,
        "description": template.description,
        "entity_types": template.entity_types,
        "keywords": template.keywords,
        "version": template.version,
        "origin": template.origin,
        "path": str(template.path),
        "overrides": list(template.shadows),
        "parameters": [
            {
                "name": p.name,
                "type": p.type,
                "default": "<redacted>" if p.secret and p.default else p.default,
                "help": p.help,
                "secret": p.secret,
                "entity_kind": p.entity_kind,
            }
            for p in template.parameters
            if p.type != "DataFrame" or p.default is None
        ],
        "options": {
            "default": template.default_options,
            "all": template.all_options,
            "descriptions": template.option_descriptions,
        },
        "sections": {s.id: s.title for s in template.sections},
        "results": template.results,
    }


def _warn_problems() -> None:
    for problem in catalog_module.catalog_problems():
        click.echo(f"warning: skipped {problem.path}: {problem.message}", err=True)


def _print_table(templates: list[Template]) -> None:
    rows = [(t.name, t.category or "-", t.title, t.origin) for t in templates]
    headers = ("NAME", "CATEGORY", "TITLE", "FROM")
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(3)]
    for row in [headers, *rows]:
        click.echo(
            "  ".join(str(cell).ljust(w) for cell, w in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    for t in templates:
        if t.shadows:
            click.echo(f"({t.name} from {t.origin} overrides {', '.join(t.shadows)})")


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@_reports_errors
def list_cmd(as_json: bool) -> None:
    """List every notebooklet and where it comes from."""
    templates = catalog_module.catalog()
    _warn_problems()
    if as_json:
        click.echo(json.dumps([template_summary(t) for t in templates], indent=2, default=str))
    elif templates:
        _print_table(templates)
    else:
        click.echo("no notebooklets found", err=True)


@click.command("find")
@click.argument("text", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@_reports_errors
def find_cmd(text: tuple[str, ...], as_json: bool) -> None:
    """Search names, titles, descriptions, keywords and entity types (best first)."""
    found = catalog_module.find(" ".join(text))
    if as_json:
        click.echo(json.dumps([template_summary(t) for t in found], indent=2, default=str))
    elif found:
        for t in found:
            click.echo(f"{t.name:<28} {t.category or '-':<10} {t.title}")
    else:
        click.echo(f"no notebooklet matches {' '.join(text)!r}", err=True)


@click.command("show")
@click.argument("name", shell_complete=complete_template_name)
@click.option(
    "--json", "as_json", is_flag=True, help="print the metadata as JSON (format in README)"
)
@_reports_errors
def show_cmd(name: str, as_json: bool) -> None:
    """Show a notebooklet's description, parameters, options, sections and results."""
    template = catalog_module.get_template(name)
    if as_json:
        click.echo(json.dumps(catalog_module.describe(template), indent=2, default=str))
    else:
        click.echo(catalog_module.help_text(template))


@click.command("new")
@click.argument("name")
@click.option("--category", "-c", required=True, help="host, account, network, url, ...")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="folder to write into [default: first NBCATALOG_PATH folder, else .]",
)
@click.option("--force", is_flag=True, help="overwrite an existing file")
@_reports_errors
def new_cmd(name: str, category: str, directory: Path | None, force: bool) -> None:
    """Write a template skeleton that follows the contract and runs on the demo store."""
    from nbcatalog.scaffold import new_template

    path = new_template(name, category, directory, force=force)
    click.echo(str(path))
    click.echo(
        f"next: edit it in Jupyter, then `nbcatalog check {path}`; add its folder "
        f"({path.parent.parent}) to NBCATALOG_PATH to run it by name",
        err=True,
    )


@click.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_reports_errors
def check_cmd(paths: tuple[Path, ...]) -> None:
    """Check templates against the contract (default: every template in the catalogue).

    Exit code 2 when any template has a problem; warnings (e.g. a template that
    never says when it found no data) are printed but do not fail the check.
    """
    from nbcatalog.scaffold import check_paths

    if paths:
        targets = list(paths)
    else:
        targets = [t.path for t in catalog_module.catalog()]
        targets += [p.path for p in catalog_module.catalog_problems() if p.path.is_file()]
    warnings: list = []
    files, problems = check_paths(targets, warnings)
    for problem in problems:
        click.echo(str(problem), err=True)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    bad = len({p.path for p in problems})
    click.echo(
        f"{len(files)} template(s) checked, {bad} with problems, {len(problems)} problem(s)"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    if problems:
        raise SystemExit(2)


COMMANDS: list[click.Command] = [list_cmd, find_cmd, show_cmd, new_cmd, check_cmd]
