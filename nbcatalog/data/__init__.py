"""Data access for templates: `connect(spec)` returns a `DataSource`.

Example:
    >>> from nbcatalog.data import connect
    >>> connect("duckdb:/tmp/demo.duckdb").tables()                     # doctest: +SKIP
"""

from nbcatalog.data.source import DataSource, connect

__all__ = ["DataSource", "connect"]
