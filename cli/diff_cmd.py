"""`nbcatalog diff RUN_A RUN_B`: what changed from one run of a notebooklet to a later one.

RUN_A and RUN_B are run folders, or run ids (``20260102T060000Z-ab12cd``) looked up
under the output root (``--output``, ``NBCATALOG_OUTPUT``). RUN_A is the earlier
run. Text by default; ``--json`` prints the same dict run.json ``diff`` holds.

Example:
    $ nbcatalog diff 20260101T060000Z-9f8e7d 20260102T060000Z-ab12cd
    1 new related_alerts row since 06:00 UTC
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

_RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{4,32}$")


def resolve_run(value: str, root: Path) -> Path:
    """A run folder from a path or a run id under `root`; click.BadParameter otherwise."""
    path = Path(value).expanduser()
    if (path / "run.json").is_file():
        return path
    if _RUN_ID.match(value):
        found = sorted(p for p in root.glob(f"*/{value}") if (p / "run.json").is_file())
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise click.BadParameter(f"run id {value!r} is in more than one notebooklet folder")
        raise click.BadParameter(f"no run {value!r} under {root} (give its folder instead)")
    raise click.BadParameter(
        f"{value!r} is neither a run folder (with run.json) nor a run id such as "
        "20260102T060000Z-ab12cd"
    )


def _rows_text(kind: str, name: str, table: dict[str, Any]) -> list[str]:
    keys = table.get("keys") or []
    lines = []
    for row in table.get(kind) or []:
        if kind == "changed":
            key = ", ".join(f"{k}={v}" for k, v in (row.get("key") or {}).items())
            columns = (row.get("columns") or {}).items()
            moved = "; ".join(f"{c}: {a} -> {b}" for c, (a, b) in columns)
            lines.append(f"  {kind} {name} row {key}: {moved}")
        else:
            key = ", ".join(f"{k}={row.get(k)}" for k in keys)
            lines.append(f"  {kind} {name} row {key}")
    return lines


def diff_text(diff: dict[str, Any]) -> str:
    """The diff as lines for a terminal: summary, then each finding and row.

    Example:
        >>> diff_text({"previous": "a", "summary": "no change", "tables": {}}).splitlines()[0]
        'no change'
    """
    lines = [str(diff.get("summary") or "")]
    if diff.get("previous"):
        lines.append(f"compared: {diff.get('previous')} -> {diff.get('current')}")
    for kind in ("new", "changed", "gone"):
        for finding in diff.get(kind) or []:
            title = finding.get("title") or finding.get("key") or ""
            lines.append(f"  {kind} finding [{finding.get('severity', 'info')}] {title}")
    if diff.get("findings_compared") is False and diff.get("previous"):
        lines.append("  (findings not compared: a run recorded no findings list)")
    for name, table in (diff.get("tables") or {}).items():
        if table.get("note"):
            lines.append(f"  {name}: {table['note']}")
        for kind in ("new", "changed", "gone"):
            lines += _rows_text(kind, name, table)
    # Terminal output: a log field must not move the cursor or clear the screen.
    return "\n".join(re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "?", line) for line in lines)


@click.command("diff")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--output", "output_dir", type=click.Path(file_okay=False), help="output root")
@click.option("--json", "as_json", is_flag=True, help="print the diff as JSON")
def diff_command(run_a: str, run_b: str, output_dir: str | None, as_json: bool) -> None:
    """Show what changed from RUN_A (earlier) to RUN_B: findings and key-table rows."""
    from nbcatalog.history import output_root
    from nbcatalog.rundiff import diff_runs

    root = Path(output_dir) if output_dir else output_root()
    try:
        older = resolve_run(run_a, root)
        newer = resolve_run(run_b, root)
    except click.BadParameter as exc:
        raise click.UsageError(str(exc)) from None
    try:
        diff = diff_runs(older, newer).to_json()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(diff, indent=2, default=str, ensure_ascii=False))
    else:
        click.echo(diff_text(diff))


COMMANDS = [diff_command]
