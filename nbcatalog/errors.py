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


class MissingParameterError(ParameterError):
    """A required entity parameter (or every one of its alternatives) was not given.

    ``str(exc)`` names the Python keywords; `cli_message` names the command-line flags
    (``--host``) for the shell, where DataFrame parameters cannot be given.
    """

    def __init__(self, message: str, cli_message: str | None = None):
        super().__init__(message)
        self.cli_message = cli_message or message


class DataSourceError(UsageError):
    """A data-source spec or query that cannot be served."""


@dataclass
class RunFailure:
    """Where and how a run failed."""

    kind: str  # a CELL_FAILURE_KINDS, or "harvest", "report", "runner", "interrupted"
    cell_index: int | None
    section: str | None
    exception_type: str
    message: str


# Failures that happen inside a cell of the template (the others are the runner's steps).
CELL_FAILURE_KINDS = ("exception", "timeout", "dead-kernel")


class RunError(NbcatalogError):
    """A template run that failed; says which template, cell and section, and why.

    `notebook_path` is the partial notebook saved for inspection.
    """

    exit_code = 1

    def __init__(self, template: str, failure: RunFailure, notebook_path: Path | None):
        self.template = template
        self.failure = failure
        self.notebook_path = notebook_path
        cause = f"{failure.exception_type}: {failure.message}"
        if failure.kind in CELL_FAILURE_KINDS or failure.cell_index is not None:
            where = f"cell {failure.cell_index}" if failure.cell_index is not None else "a cell"
            if failure.section:
                where += f" (section {failure.section!r})"
            text = f"{template}: {failure.kind} in {where}: {cause}"
        else:  # after the cells ran (harvest, report) or around them (runner, interrupted)
            text = f"{template}: {failure.kind} failed: {cause}"
        if notebook_path is not None:
            text += f"\npartial notebook: {notebook_path}"
        super().__init__(text)


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (SIGINT): which cell was running, and the partial notebook.

    A KeyboardInterrupt, so code that catches ``Exception`` still lets it through;
    the CLI turns it into exit 130.

    Example:
        >>> failure = RunFailure("interrupted", 3, "waiting", "KeyboardInterrupt", "Ctrl-C")
        >>> str(RunInterrupted("slow", failure, None))
        "slow: interrupted in cell 3 (section 'waiting')"
    """

    def __init__(self, template: str, failure: RunFailure, notebook_path: Path | None):
        self.template = template
        self.failure = failure
        self.notebook_path = notebook_path
        where = f"cell {failure.cell_index}" if failure.cell_index is not None else "no cell"
        if failure.section:
            where += f" (section {failure.section!r})"
        text = f"{template}: interrupted in {where}"
        if notebook_path is not None:
            text += f"\npartial notebook: {notebook_path}"
        super().__init__(text)
