"""Importers of the log formats analysts hold, into the embedded store.

Formats: Sentinel / Log Analytics exports (CSV, JSON, Parquet, pandas pickle),
Microsoft Defender advanced hunting results (portal CSV, saved API answers),
Windows .evtx and winlogbeat/nxlog JSON, Linux syslog / auth.log, Zeek conn.log.
One module per format family; `run` ties them together in one transaction,
`ledger` keeps re-imports from adding anything, `report` says what happened.

Example:
    >>> from nbcatalog.data.importers import import_paths
    >>> report = import_paths(["Security.evtx"], db="case.duckdb")  # doctest: +SKIP
    >>> report.rows_stored, report.rows_rejected                     # doctest: +SKIP
    (1520, 0)
"""

from __future__ import annotations

from nbcatalog.data.importers.detect import FORMATS, detect_format
from nbcatalog.data.importers.errors import (
    ImportFormatError,
    UnreadableFileError,
    UnusableFileError,
)
from nbcatalog.data.importers.report import FileReport, ImportReport, Rejection
from nbcatalog.data.importers.run import import_paths, plan

__all__ = [
    "FORMATS",
    "FileReport",
    "ImportFormatError",
    "ImportReport",
    "Rejection",
    "UnreadableFileError",
    "UnusableFileError",
    "detect_format",
    "import_paths",
    "plan",
]
