"""The errors nbcatalog raises, and the CLI exit code each one maps to.

`UsageError` and its subclasses are caught before any kernel starts (exit 2);
`RunError` is a template that failed while running (exit 1).

Example:
    >>> from nbcatalog.errors import ParameterError
    >>> ParameterError("unknown parameter 'hots'; did you mean 'host'?").exit_code
    2
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class NbcatalogError(Exception):
    """Base class of every error nbcatalog raises on purpose."""

    exit_code = 1


class UsageError(NbcatalogError):
    """Bad input from the caller: nothing was run."""

    exit_code = 2


class UnknownTemplateError(UsageError):
    """No template of that name; the message lists the closest names."""


class ParameterError(UsageError):
    """A parameter value, name, option or time range that cannot be accepted."""


class DataSourceError(UsageError):
    """A data-source spec or query that cannot be served."""


@dataclass
class RunFailure:
    """Where and how a run failed."""

    kind: str  # "exception", "timeout" or "dead-kernel"
    cell_index: int | None
    section: str | None
    exception_type: str
    message: str


class RunError(NbcatalogError):
    """A template run that failed; says which template, cell and section, and why.

    `notebook_path` is the partial notebook saved for inspection.
    """

    exit_code = 1

    def __init__(self, template: str, failure: RunFailure, notebook_path: Path | None):
        self.template = template
        self.failure = failure
        self.notebook_path = notebook_path
        where = f"cell {failure.cell_index}" if failure.cell_index is not None else "a cell"
        if failure.section:
            where += f" (section {failure.section!r})"
        text = f"{template}: {failure.kind} in {where}: {failure.exception_type}: {failure.message}"
        if notebook_path is not None:
            text += f"\npartial notebook: {notebook_path}"
        super().__init__(text)
