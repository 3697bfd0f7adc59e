"""One folder per run, and atomic writes of the files in it.

Layout: ``<output>/<template>/<UTC yyyymmddTHHMMSSZ>-<short id>/`` holding
``notebook.ipynb``, ``run.json``, ``report.html`` and ``data/*.parquet``.
Every file is written to a temporary file in the same folder and moved into place
with `os.replace`, so a reader never sees half a file.

Example:
    >>> import tempfile
    >>> from nbcatalog.runfolder import new_run_dir, write_json
    >>> d = new_run_dir(tempfile.mkdtemp(), "host_summary")
    >>> write_json(d / "run.json", {"status": "ok"}).read_text()
    '{\\n  "status": "ok"\\n}\\n'
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

NOTEBOOK = "notebook.ipynb"
RUN_JSON = "run.json"
REPORT = "report.html"

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def new_run_dir(
    output_dir: str | os.PathLike, template_name: str, *, now: dt.datetime | None = None
) -> Path:
    """Create and return a fresh run folder for `template_name` under `output_dir`."""
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    safe_name = _SAFE.sub("_", template_name).strip("._") or "template"
    parent = Path(output_dir).expanduser().absolute() / safe_name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    while True:
        run_dir = parent / f"{stamp}-{secrets.token_hex(3)}"
        try:
            run_dir.mkdir()
        except FileExistsError:  # same second, same random id: draw again
            continue
        return run_dir


def write_bytes(path: str | os.PathLike, payload: bytes) -> Path:
    """Write `payload` to `path` atomically (temp file in the same folder + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write `data` as indented JSON atomically (dates and paths as text)."""
    return write_text(path, json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def write_notebook(path: str | os.PathLike, nb: Any) -> Path:
    """Write an nbformat notebook atomically."""
    import nbformat

    return write_text(path, nbformat.writes(nb))
