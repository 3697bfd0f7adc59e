"""Files of run folders, served only from under the output root, with safe headers.

A path from a URL is accepted only when every part is a plain name (no ``..``, no
``.``, no hidden names, no backslash or NUL, not absolute), it points into a run
folder (``<template>/<run id>/`` holding run.json), and its real path, symlinks
followed, is still under the output root. Anything else is "not found", so the
answer does not tell what exists elsewhere.

HTML reports are served with a Content-Security-Policy that lets them show
inline styles and ``data:`` images, and run only the inline scripts whose hashes
the report's own policy lists (its tables and charts), in a sandbox without
same-origin and with no fetch; notebooks, run.json and data files are downloads.

Example:
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> inside(root, "../etc/passwd") is None
    True
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.responses import FileResponse, Response

RUN_JSON = "run.json"
REPORT_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
# A report names its own scripts by hash in its CSP meta tag (nbcatalog.report_assets).
_REPORT_META_CSP = re.compile(
    rb'<meta http-equiv="Content-Security-Policy" content="([^"]{1,20000})"', re.IGNORECASE
)
_SCRIPT_HASH = re.compile(r"'sha256-[A-Za-z0-9+/]{43}='")
_HEAD_BYTES = 256 * 1024  # the meta tag is in the head, before any data
# Run ids and template folder names as nbcatalog.runfolder makes them.
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}")
_MEDIA_TYPES = {
    ".ipynb": "application/x-ipynb+json",
    ".json": "application/json",
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv",
}


def _plain_parts(relative: str) -> list[str] | None:
    if not relative or "\\" in relative or "\x00" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(not _PLAIN.fullmatch(part) or part.endswith(".") for part in parts):
        return None  # also refuses "", ".", ".." and hidden names (".report.html.tmp")
    return parts


def inside(root: Path, relative: str) -> Path | None:
    """The existing path `relative` names under `root`, or None when it would leave root.

    Example:
        >>> inside(Path("/srv/out"), "/etc/passwd") is None
        True
    """
    parts = _plain_parts(relative)
    if parts is None:
        return None
    real_root = root.resolve()
    try:
        target = real_root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    return target if target.is_relative_to(real_root) else None


def run_folder(root: Path, template: str, run_id: str) -> Path | None:
    """The run folder ``<root>/<template>/<run_id>`` when it is one (holds run.json).

    Example:
        >>> run_folder(Path("/srv/out"), "..", "x") is None
        True
    """
    folder = inside(root, f"{template}/{run_id}")
    if folder is None or not folder.is_dir() or not (folder / RUN_JSON).is_file():
        return None
    return folder


def run_file(root: Path, relative: str) -> Path | None:
    """A regular file inside a run folder under `root`, or None.

    Example:
        >>> run_file(Path("/srv/out"), "history.sqlite") is None    # not in a run folder
        True
    """
    parts = _plain_parts(relative)
    if parts is None or len(parts) < 3:
        return None
    folder = run_folder(root, parts[0], parts[1])
    target = inside(root, relative)
    if folder is None or target is None or not target.is_file():
        return None
    return target if target.is_relative_to(folder) else None


def listed_files(root: Path, folder: Path) -> list[tuple[str, int]]:
    """(path relative to root, size) of each servable file in a run folder, sorted.

    Example:
        >>> listed_files(root, root / "host_summary" / run_id)     # doctest: +SKIP
        [('host_summary/2026…/notebook.ipynb', 283979), ...]
    """
    real_root = root.resolve()
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder.parent.parent).as_posix()
        served = run_file(real_root, relative)
        if served is not None:
            found.append((relative, served.stat().st_size))
    return found


def report_csp(path: Path) -> str:
    """The policy a report is served under: `REPORT_CSP`, plus the report's own script hashes.

    Only ``'sha256-…'`` sources from the report's ``script-src`` are taken, and the
    sandbox keeps an opaque origin (``allow-scripts`` without ``allow-same-origin``)
    with no fetch, so even a crafted report in a run folder cannot act as the app.

    Example:
        >>> report_csp(Path("/nonexistent.html")) == REPORT_CSP
        True
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return REPORT_CSP
    meta = _REPORT_META_CSP.search(head)
    directives = meta[1].decode("ascii", "replace").split(";") if meta else []
    sources = next((d.split()[1:] for d in directives if d.split()[:1] == ["script-src"]), [])
    hashes = [s for s in sources if _SCRIPT_HASH.fullmatch(s)]
    if not hashes:
        return REPORT_CSP
    policy = REPORT_CSP.replace("; sandbox", "; sandbox allow-scripts")
    return f"{policy}; script-src {' '.join(hashes)}; connect-src 'none'"


def file_response(path: Path) -> Response:
    """A report shown under its CSP, or any other file as a download.

    Example:
        >>> file_response(run / "report.html").headers["content-security-policy"][:18]
        ...                                                           # doctest: +SKIP
        "default-src 'none'"
    """
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    if path.suffix.lower() in (".html", ".htm"):
        headers["Content-Security-Policy"] = report_csp(path)
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
    headers["Content-Security-Policy"] = DOWNLOAD_CSP
    media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
    return FileResponse(
        path,
        media_type=media_type,
        headers=headers,
        filename=path.name,
        content_disposition_type="attachment",
    )
