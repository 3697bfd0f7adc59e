"""The error enrichment raises for input it cannot accept.

It is a `ParameterError` (so the CLI maps it to exit code 2) and a `ValueError`
(so plain Python callers can catch what they would expect from a parser).

Example:
    >>> from nbcatalog.enrich.errors import EnrichmentError
    >>> issubclass(EnrichmentError, ValueError)
    True
"""

from __future__ import annotations

from nbcatalog.errors import ParameterError


class EnrichmentError(ParameterError, ValueError):
    """A value, indicator type or enrichment setting that cannot be accepted."""


def shorten(value: object, limit: int = 60) -> str:
    """`repr` of a value cut to `limit` characters, so hostile or huge input stays readable.

    Example:
        >>> shorten("x" * 100, 10)
        "'xxxxxxxx…"
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
