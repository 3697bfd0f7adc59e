"""Print a report to PDF with headless Chromium (Debian's ``chromium`` package).

The report's print stylesheet shows the static PNG charts and the tables' own
first rows (with the note naming the data files), repeats table headers on each
page and keeps rows whole. Chromium runs headless with a throwaway profile and no
network use: the page fetches nothing (its CSP forbids it) and Chromium's own
background requests are switched off.

Example:
    >>> print_pdf("output/host_summary/20240501T000000Z-ab12cd/report.html")  # doctest: +SKIP
    PosixPath('output/host_summary/20240501T000000Z-ab12cd/report.pdf')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from nbcatalog.errors import UsageError
from nbcatalog.runfolder import write_bytes

PDF_NAME = "report.pdf"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 180
INSTALL_HINT = (
    "printing a PDF needs headless Chromium: install Debian's package "
    "(apt-get install chromium), or set NBCATALOG_CHROMIUM to its path"
)


class PdfError(UsageError):
    """No Chromium to print with, or Chromium failed to print (the message says which)."""


def find_chromium() -> str:
    """The Chromium to print with: ``$NBCATALOG_CHROMIUM``, else the first on PATH.

    Raises PdfError naming what to install when there is none.

    Example:
        >>> find_chromium()                       # doctest: +SKIP
        '/usr/bin/chromium'
    """
    configured = os.environ.get("NBCATALOG_CHROMIUM")
    if configured:
        if shutil.which(configured):
            return str(shutil.which(configured))
        raise PdfError(f"NBCATALOG_CHROMIUM={configured!r} is not an executable; {INSTALL_HINT}")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(f"no Chromium found on PATH ({', '.join(CHROMIUM_NAMES)}); {INSTALL_HINT}")


def print_pdf(report: str | os.PathLike, pdf: str | os.PathLike | None = None) -> Path:
    """Print the HTML `report` to `pdf` (default: ``report.pdf`` beside it), atomically.

    Example:
        >>> print_pdf(run_dir / "report.html")    # doctest: +SKIP
        PosixPath('.../report.pdf')
    """
    report = Path(report).resolve()
    if not report.is_file():
        raise PdfError(f"no report to print at {report}")
    target = Path(pdf) if pdf is not None else report.with_name(PDF_NAME)
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="nbcatalog-pdf-") as work:
        out = Path(work) / "out.pdf"
        command = [
            chromium,
            "--headless",
            "--no-sandbox",  # root (CI, containers) cannot use Chromium's sandbox
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-pdf-header-footer",
            f"--user-data-dir={work}/profile",
            f"--print-to-pdf={out}",
            report.as_uri(),
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise PdfError(f"Chromium took over {TIMEOUT_SECONDS} s to print {report}") from exc
        if not out.is_file() or out.stat().st_size == 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
            raise PdfError(
                f"Chromium ({chromium}) did not print {report} (exit {done.returncode})"
                + (": " + " | ".join(detail) if detail else "")
            )
        return write_bytes(target, out.read_bytes())
