"""The ways an import call fails as a whole (the store is left untouched).

A bad row is not an error: it is a `Rejection` in the report. These are for
files that cannot be imported at all.

Example:
    >>> from nbcatalog.data.importers.errors import ImportFormatError
    >>> ImportFormatError("unknown format 'xml'").exit_code
    2
"""

from __future__ import annotations

from nbcatalog.errors import NbcatalogError, UsageError


class ImportFormatError(UsageError):
    """Unknown or unsupported format, unknown table, or a table that cannot be inferred."""


class UnreadableFileError(NbcatalogError):
    """A file that is missing, unreadable, or too damaged to read at all (exit code 1)."""

    exit_code = 1


class UnusableFileError(NbcatalogError):
    """A file that was read but gives the store nothing it can use (exit code 1).

    Every row of a non-empty file was rejected, or its rows lack a column their
    table cannot do without. The file is not recorded as imported, so importing
    it again after a fix (another --format or --table, renamed columns) works.
    """

    exit_code = 1
