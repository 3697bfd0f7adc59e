"""What an import did: rows read, stored, rejected (with file, line and reason), duplicates.

Every row read ends in exactly one bucket, so ``read == stored + rejected +
duplicates`` always holds and nothing is dropped silently. For text formats
`Rejection.line` is the 1-based line number; for JSON arrays, Parquet, pickle and
EVTX it is the 1-based record number (EVTX: the EventRecordID when known).

Example:
    >>> from nbcatalog.data.importers.report import FileReport, ImportReport
    >>> f = FileReport("auth.log", "syslog")
    >>> f.reject(3, "not a syslog line")
    >>> ImportReport([f]).rows_rejected
    1
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN_REJECTIONS = 5
KEPT_REJECTIONS = 10_000  # in memory; beyond this they are counted only


def printable(text: str) -> str:
    """Escape control characters and lone surrogates: reasons quote hostile data.

    >>> printable("bad\\x1b[2J name")
    'bad\\\\x1b[2J name'
    """
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


@dataclass(frozen=True)
class Rejection:
    """One row that was read but not stored, and why."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass
class FileReport:
    """The outcome for one file. `tables` maps table name -> rows stored there."""

    file: str
    format: str
    rows_read: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    already_imported: str | None = None  # description of the earlier import, if skipped
    rows_rejected: int = 0
    columns_kept_out: dict[str, list[str]] = field(default_factory=dict)  # table -> dropped
    columns_renamed: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> {a: b}
    notes: list[str] = field(default_factory=list)  # what was done to read the file

    def reject(self, line: int | None, reason: str) -> None:
        """Record one rejected row; the first `KEPT_REJECTIONS` keep their details."""
        self.rows_rejected += 1
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append(Rejection(self.file, line, printable(reason)))

    def warn(self, text: str) -> None:
        """Record a warning once (repeats of the same text are dropped)."""
        text = printable(text)
        if text not in self.warnings:
            self.warnings.append(text)

    def note(self, text: str) -> None:
        """Record what was done to read the file (renamed columns, ...), once."""
        text = printable(text)
        if text not in self.notes:
            self.notes.append(text)

    def summary(self, shown: int = SHOWN_REJECTIONS) -> str:
        """A few lines of text for a terminal."""
        if self.already_imported:
            return (
                f"{self.file} [{self.format}]: already imported "
                f"({self.already_imported}); nothing added"
            )
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.tables.items())) or "no table"
        lines = [
            f"{self.file} [{self.format}]: read {self.rows_read}, stored {self.rows_stored} "
            f"({tables}), rejected {self.rows_rejected}, duplicates {self.rows_duplicate}"
        ]
        lines += [f"  note: {n}" for n in self.notes]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  rejected {r}" for r in self.rejections[:shown]]
        if self.rows_rejected > shown:
            lines.append(f"  ... and {self.rows_rejected - shown} more rejected rows")
        return "\n".join(lines)


@dataclass
class ImportReport:
    """The outcome of one import call (one transaction) over several files."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_stored(self) -> int:
        return sum(f.rows_stored for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_duplicate(self) -> int:
        return sum(f.rows_duplicate for f in self.files)

    @property
    def rejections(self) -> list[Rejection]:
        """The rejected rows kept with their details (the first 10,000 per file)."""
        return [r for f in self.files for r in f.rejections]

    def summary(self, shown: int = SHOWN_REJECTIONS) -> str:
        """Per-file lines plus a total line."""
        parts = [f.summary(shown) for f in self.files]
        parts.append(
            f"total: read {self.rows_read}, stored {self.rows_stored}, "
            f"rejected {self.rows_rejected}, duplicates {self.rows_duplicate}"
        )
        return "\n".join(parts)
