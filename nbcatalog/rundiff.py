"""Run-to-run diff: what changed between two runs of the same notebooklet and parameters.

Two things are compared. Findings (run.json ``findings``, the shared findings
contract) are matched by their ``key``: a key only in the newer run is *new*, one
only in the older run is *gone*, one in both whose severity, count or title moved
is *changed*. Key tables are matched row by row on the columns the template
declares in its metadata, ``"diff_keys": {"related_alerts": ["SystemAlertId"]}``:
rows whose key is only in the newer run are new, only in the older run gone, and
rows whose other columns differ are changed.

A run's tables are read from what its folder kept: ``data/<name>.parquet`` (the
report writes one per result), else the notebook's scraps. The result is a
`RunDiff`; its `to_json` is what run.json ``diff``, ``--json`` and notifications
carry. Every value in it came from logs: whoever shows it escapes it.

Example:
    >>> d = diff_snapshots(
    ...     Snapshot("a", findings=[{"key": "x", "severity": "low", "title": "X"}]),
    ...     Snapshot("b", findings=[{"key": "x", "severity": "low", "title": "X"},
    ...                             {"key": "y", "severity": "high", "title": "Y"}]),
    ... )
    >>> [f["key"] for f in d.new], d.summary
    (['y'], '1 new finding')
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from nbcatalog.runfolder import RUN_JSON

# Rows kept per kind (new, gone, changed) and table in run.json; the counts stay exact.
MAX_ROWS = 50
_FINDING_FIELDS = ("severity", "count", "title")

TableLoader = Callable[[str], "pd.DataFrame | None"]


@dataclass
class Snapshot:
    """One side of a diff: a run's id, time, findings (None: none recorded) and tables."""

    run_id: str | None
    when: str | None = None  # ISO time the run covered up to (fire time or end)
    findings: list[dict[str, Any]] | None = None
    load_table: TableLoader = field(default=lambda name: None)
    template: str | None = None


@dataclass
class TableDiff:
    """New, gone and changed rows of one key table (rows as plain JSON dicts)."""

    keys: list[str]
    new: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"new": 0, "gone": 0, "changed": 0})
    note: str | None = None  # why this table could not be compared

    def to_json(self) -> dict[str, Any]:
        """A plain dict: keys, rows (at most MAX_ROWS per kind), exact counts, note."""
        return {
            "keys": self.keys,
            "new": self.new,
            "gone": self.gone,
            "changed": self.changed,
            "counts": dict(self.counts),
            "note": self.note,
        }


@dataclass
class RunDiff:
    """What changed from `previous` to `current`: findings and key-table rows.

    Example:
        >>> RunDiff(previous="a", current="b").summary
        'no change'
    """

    previous: str | None
    current: str | None
    since: str | None = None  # when the previous run covered up to
    current_time: str | None = None  # when this run covered up to
    new: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, TableDiff] = field(default_factory=dict)
    findings_compared: bool = False  # both runs recorded a findings list

    @property
    def summary(self) -> str:
        """One line: ``2 new findings, 1 new related_alerts row since 06:00 UTC``."""
        return summary_text(self.to_json(with_summary=False))

    @property
    def has_changes(self) -> bool:
        """True when any finding or key-table row is new, gone or changed."""
        if self.new or self.gone or self.changed:
            return True
        return any(sum(t.counts.values()) for t in self.tables.values())

    def to_json(self, *, with_summary: bool = True) -> dict[str, Any]:
        """run.json's ``diff``: previous run id, new/gone/changed findings, tables, summary."""
        data: dict[str, Any] = {
            "previous": self.previous,
            "current": self.current,
            "since": self.since,
            "current_time": self.current_time,
            "findings_compared": self.findings_compared,
            "new": self.new,
            "gone": self.gone,
            "changed": self.changed,
            "tables": {name: t.to_json() for name, t in self.tables.items()},
        }
        if with_summary:
            data["summary"] = summary_text(data)
        return data

    def _repr_html_(self) -> str:
        from nbcatalog.report_layout import since_html

        return since_html(self.to_json())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def since_label(since: str | None, now: str | None = None) -> str:
    """``06:00 UTC`` when `since` is on the same (UTC) day as `now`, else the date too.

    Example:
        >>> since_label("2026-01-02T06:00:00Z", "2026-01-02T18:00:00Z")
        '06:00 UTC'
        >>> since_label("2026-01-01T06:00:00Z", "2026-01-02T06:00:00Z")
        '2026-01-01 06:00 UTC'
    """
    then = _parse_time(since)
    if then is None:
        return str(since or "")
    later = _parse_time(now) or datetime.now(timezone.utc)
    if then.date() == later.date():
        return then.strftime("%H:%M UTC")
    return then.strftime("%Y-%m-%d %H:%M UTC")


def _parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def summary_text(diff: Mapping[str, Any], now: str | None = None) -> str:
    """The diff in one line, most telling first: findings, then key-table rows.

    Example:
        >>> summary_text({"previous": "r1", "since": None, "new": [{}, {}], "gone": [],
        ...               "changed": [], "tables": {}})
        '2 new findings'
        >>> summary_text({"previous": None})
        'first run: nothing to compare with'
    """
    if not diff.get("previous"):
        return "first run: nothing to compare with"
    parts = []
    for kind in ("new", "gone", "changed"):
        n = len(diff.get(kind) or [])
        if n:
            parts.append(f"{_plural(n, f'{kind} finding')}")
    for name, table in (diff.get("tables") or {}).items():
        counts = table.get("counts") or {}
        for kind in ("new", "gone", "changed"):
            n = int(counts.get(kind) or 0)
            if n:
                parts.append(f"{n} {kind} {name} row" + ("" if n == 1 else "s"))
    text = ", ".join(parts) or "no change"
    since = diff.get("since")
    if since:
        text += f" since {since_label(since, now or diff.get('current_time'))}"
    return text


def _plain(value: Any) -> Any:
    """A cell as JSON: timestamps as ISO text, NaN/NaT as None, numpy scalars as Python."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)):
        try:
            return _plain(value.item())
        except (ValueError, TypeError):
            pass
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime,)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _row(frame: pd.DataFrame, index: Any) -> dict[str, Any]:
    return {str(c): _plain(v) for c, v in frame.loc[index].items()}


def _key_of(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    return json.dumps([row.get(k) for k in keys], default=str)


def diff_table(
    old: pd.DataFrame | None, new: pd.DataFrame | None, keys: Sequence[str]
) -> TableDiff:
    """New, gone and changed rows of `new` against `old`, matched on the `keys` columns.

    Example:
        >>> a = pd.DataFrame({"Id": ["1", "2"], "Sev": ["low", "low"]})
        >>> b = pd.DataFrame({"Id": ["2", "3"], "Sev": ["high", "low"]})
        >>> t = diff_table(a, b, ["Id"])
        >>> t.counts, t.changed[0]["columns"]
        ({'new': 1, 'gone': 1, 'changed': 1}, {'Sev': ['low', 'high']})
    """
    result = TableDiff(keys=list(keys))
    frames = {"old": old, "new": new}
    for side, frame in frames.items():
        if frame is None:
            frames[side] = pd.DataFrame(columns=list(keys))
        missing = [k for k in keys if k not in frames[side].columns]
        if missing and len(frames[side]):
            result.note = f"the {side} run's table has no column {', '.join(missing)}"
            return result
    old_rows = _rows_by_key(frames["old"], keys)
    new_rows = _rows_by_key(frames["new"], keys)
    for key, row in new_rows.items():
        if key not in old_rows:
            result.counts["new"] += 1
            if len(result.new) < MAX_ROWS:
                result.new.append(row)
            continue
        before = old_rows[key]
        moved = {
            c: [before.get(c), row.get(c)]
            for c in row
            if c in before and before.get(c) != row.get(c)
        }
        if moved:
            result.counts["changed"] += 1
            if len(result.changed) < MAX_ROWS:
                result.changed.append({"key": {k: row.get(k) for k in keys}, "columns": moved})
    for key, row in old_rows.items():
        if key not in new_rows:
            result.counts["gone"] += 1
            if len(result.gone) < MAX_ROWS:
                result.gone.append(row)
    return result


def _rows_by_key(frame: pd.DataFrame, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for index in frame.index:
        row = _row(frame, index)
        rows.setdefault(_key_of(row, keys), row)  # a repeated key: its first row stands
    return rows


def _finding_key(finding: Mapping[str, Any]) -> str:
    key = finding.get("key")
    if key not in (None, ""):
        return str(key)
    # No stable key: the section and title identify it as well as anything can.
    return f"{finding.get('section', '')}:{finding.get('title', '')}"


def diff_findings(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> tuple[list[dict], list[dict], list[dict]]:
    """(new, gone, changed) findings of `new` against `old`, matched by ``key``.

    A changed finding carries ``before``: the old values of the fields that moved.

    Example:
        >>> n, g, c = diff_findings([{"key": "a", "count": 1}], [{"key": "a", "count": 3}])
        >>> c[0]["before"]
        {'count': 1}
    """
    before = {_finding_key(f): f for f in old}
    after = {_finding_key(f): f for f in new}
    added = [dict(f) for k, f in after.items() if k not in before]
    gone = [dict(f) for k, f in before.items() if k not in after]
    changed = []
    for key, finding in after.items():
        if key in before:
            moved = {
                name: before[key].get(name)
                for name in _FINDING_FIELDS
                if before[key].get(name) != finding.get(name)
            }
            if moved:
                changed.append({**dict(finding), "before": moved})
    return added, gone, changed


def diff_snapshots(
    previous: Snapshot, current: Snapshot, diff_keys: Mapping[str, Sequence[str]] | None = None
) -> RunDiff:
    """Compare two runs' findings and the key tables named in `diff_keys`.

    Example:
        >>> diff_snapshots(Snapshot("a"), Snapshot("b")).summary
        'no change'
    """
    result = RunDiff(
        previous=previous.run_id,
        current=current.run_id,
        since=previous.when,
        current_time=current.when,
    )
    if previous.findings is not None and current.findings is not None:
        result.findings_compared = True
        result.new, result.gone, result.changed = diff_findings(previous.findings, current.findings)
    for name, keys in (diff_keys or {}).items():
        keys = [keys] if isinstance(keys, str) else [str(k) for k in keys]
        old, new = previous.load_table(name), current.load_table(name)
        if old is None and new is None:
            continue  # neither run has this table (an option that was off, say)
        table = diff_table(old, new, keys)
        if old is None:
            table.note = "the previous run kept no copy of this table"
            table.new, table.counts = [], {"new": 0, "gone": 0, "changed": 0}
        result.tables[name] = table
    return result


# --- run folders ---------------------------------------------------------------------


def read_run_info(run_dir: str | Path) -> dict[str, Any]:
    """A run folder's run.json; a clear ValueError when it is missing or not JSON.

    Example:
        >>> read_run_info("output/host_summary/20260101T060000Z-ab12cd")["status"]
        ...                                                          # doctest: +SKIP
        'ok'
    """
    path = Path(run_dir) / RUN_JSON
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{run_dir}: no run.json here (is this a run folder?)") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(info, dict):
        raise ValueError(f"{path}: run.json must hold a JSON object")
    return info


class _FolderScraps:
    """A run folder's tables and scraps, each read once and only when asked for."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._scraps: dict[str, Any] | None = None
        self._tables: dict[str, Any] = {}

    def scraps(self) -> dict[str, Any]:
        if self._scraps is None:
            notebook = self.run_dir / "notebook.ipynb"
            self._scraps = {}
            if notebook.is_file():
                from nbcatalog.harvest import harvest

                try:
                    self._scraps = harvest(notebook).data
                except Exception:  # noqa: BLE001 - an unreadable notebook: nothing to compare
                    self._scraps = {}
        return self._scraps

    def table(self, name: str) -> pd.DataFrame | None:
        from nbcatalog.report_data import as_frame

        if name not in self._tables:
            parquet = self.run_dir / "data" / f"{name}.parquet"
            if parquet.is_file():  # the report's copy: no need to decode the notebook
                self._tables[name] = pd.read_parquet(parquet)
            else:
                self._tables[name] = as_frame(self.scraps().get(name))
        return self._tables[name]


def _folder_findings(
    info: Mapping[str, Any], scraps: Callable[[], Mapping[str, Any]]
) -> list[dict[str, Any]] | None:
    findings = info.get("findings")
    if not isinstance(findings, list):
        # A run made before the runner copied findings: the template's own scrap.
        findings = scraps().get("findings") if "findings" in (info.get("results") or {}) else None
    if isinstance(findings, list):
        return [dict(f) for f in findings if isinstance(f, Mapping)]
    return None


def run_when(info: Mapping[str, Any]) -> str | None:
    """The time a run covered up to: its schedule fire time, else its range end."""
    labels = info.get("labels") or {}
    return labels.get("fire_time") or info.get("end") or info.get("started")


def folder_snapshot(run_dir: str | Path) -> Snapshot:
    """A run folder as one side of a diff (tables read only when compared).

    Example:
        >>> folder_snapshot("output/host_summary/20260101T060000Z-ab12cd").run_id
        ...                                                          # doctest: +SKIP
        '20260101T060000Z-ab12cd'
    """
    folder = Path(run_dir)
    info = read_run_info(folder)
    stored = _FolderScraps(folder)
    return Snapshot(
        run_id=str(info.get("run_id") or folder.name),
        when=run_when(info),
        findings=_folder_findings(info, stored.scraps),
        load_table=stored.table,
        template=info.get("template"),
    )


def template_diff_keys(template_name: str | None) -> dict[str, list[str]]:
    """The ``diff_keys`` a template declares in its metadata ({} when unknown).

    Example:
        >>> template_diff_keys("host_summary")["related_alerts"]
        ['SystemAlertId']
    """
    if not template_name:
        return {}
    from nbcatalog.catalog import get_template
    from nbcatalog.errors import UsageError

    try:
        declared = get_template(template_name).metadata.get("diff_keys") or {}
    except UsageError:
        return {}
    if not isinstance(declared, Mapping):
        return {}
    return {
        str(name): [keys] if isinstance(keys, str) else [str(k) for k in keys]
        for name, keys in declared.items()
    }


def diff_runs(previous_dir: str | Path, current_dir: str | Path) -> RunDiff:
    """Compare two run folders of the same notebooklet (older first).

    Raises ValueError naming the problem when a folder is not a run or the two
    runs are of different notebooklets.

    Example:
        >>> diff_runs("output/host_summary/A", "output/host_summary/B").summary
        ...                                                          # doctest: +SKIP
        '1 new related_alerts row since 06:00 UTC'
    """
    old, new = folder_snapshot(previous_dir), folder_snapshot(current_dir)
    if old.template != new.template:
        raise ValueError(
            f"runs of different notebooklets ({old.template} and {new.template}); "
            "a diff compares two runs of the same notebooklet"
        )
    return diff_snapshots(old, new, template_diff_keys(new.template))
