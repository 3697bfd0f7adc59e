"""The two ways an import call fails as a whole (the store is left untouched).

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
