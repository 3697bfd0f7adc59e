"""Small template notebooks for tests, written with nbformat (no conftest magic).

Example:
    >>> path = write_template(tmp_path, "probe", category="host")   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbcatalog.scaffold import build_notebook, write_notebook

PARAMETERS = """\
host: str = ""  # host name, or the start of one
days: int = 3  # how many days of detail
ratio: float = 0.5  # share of events to sample
verbose: bool = False  # print more
tags: list = []  # labels to add
api_token: str = ""  # token for the lookup service
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
options: list = ["summary", "timeline"]  # parts to show
"""

SECTIONS = [
    ("summary", "## Summary", ['import scrapbook as sb\nsb.glue("summary", {"host": host})']),
    ("timeline", "## Timeline", ['sb.glue("timeline_rows", 0)']),
]


def metadata(name: str, category: str = "host", **extra: Any) -> dict[str, Any]:
    """Contract metadata for a test template; `extra` overrides or adds keys."""
    meta: dict[str, Any] = {
        "name": name,
        "title": name.replace("_", " ").title(),
        "category": category,
        "description": f"Test notebooklet {name}.",
        "entity_types": ["host"],
        "keywords": ["test"],
        "options": {
            "default": ["summary", "timeline"],
            "other": ["geo"],
            "descriptions": {"geo": "where the IP addresses are"},
        },
        "tables": ["SecurityAlert"],
        "version": "1.0",
        "entity_kinds": {"host": "host"},
    }
    meta.update(extra)
    return meta


def write_template(
    directory: Path,
    name: str,
    *,
    category: str = "host",
    parameters: str = PARAMETERS,
    sections: list | None = None,
    **meta: Any,
) -> Path:
    """Write `<directory>/<category>/<name>.ipynb` and return its path."""
    nb = build_notebook(
        metadata(name, category, **meta),
        parameters,
        SECTIONS if sections is None else sections,
    )
    path = Path(directory) / category / f"{name}.ipynb"
    write_notebook(nb, path)
    return path
