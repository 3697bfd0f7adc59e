"""Reading hostile text files: bounded lines, BOMs, UTF-16, stray Latin-1 bytes, gzip.

Every line is at most `MAX_LINE_BYTES` long; a longer one is rejected (and the
rest of it skipped) instead of being read into memory. UTF-8 is expected; a line
that is not valid UTF-8 is decoded as Latin-1 and counted in a warning, so no
byte is lost and nothing passes unnoticed. A UTF-16 file (byte-order mark, or the
NUL pattern PowerShell's `>` leaves) is decoded as UTF-16. Gzip-compressed files
(rotated `auth.log.2.gz`) are read transparently.

Example:
    >>> from pathlib import Path
    >>> from nbcatalog.data.importers.report import FileReport
    >>> p = Path("/tmp/nbcatalog-textio-example.log")
    >>> _ = p.write_bytes(b"caf\\xe9\\nok\\n")
    >>> report = FileReport(str(p), "syslog")
    >>> list(iter_lines(p, report))
    [(1, 'café'), (2, 'ok')]
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from nbcatalog.data.importers.report import FileReport

MAX_LINE_BYTES = 1 << 20
HEAD_BYTES = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"


def open_binary(path: str | os.PathLike) -> BinaryIO:
    """Open `path` for reading bytes, decompressing gzip transparently."""
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if fh.read(2) == GZIP_MAGIC:
        fh.close()
        return gzip.open(path, "rb")  # type: ignore[return-value]
    fh.seek(0)
    return fh


def read_head(path: str | os.PathLike, size: int = HEAD_BYTES) -> bytes:
    """The first `size` (decompressed) bytes of a file, for format detection."""
    with open_binary(path) as fh:
        return fh.read(size)


def text_encoding(head: bytes) -> str:
    """'utf-16' when the head says so (BOM or NUL pattern), else 'utf-8'."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:200]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4 and sample[0] != 0:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4 and sample[1] != 0:
        return "utf-16-be"
    return "utf-8"


def head_text(head: bytes) -> str:
    """Decode a file head for detection, whatever its encoding (lossy is fine here)."""
    encoding = text_encoding(head)
    if encoding.startswith("utf-16"):
        return head.decode(encoding, errors="replace").lstrip("\ufeff")
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def iter_lines(path: str | os.PathLike, report: FileReport) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without line ending) for each line of a text file.

    Over-long lines are rejected into `report`; encoding fallbacks become warnings.
    """
    encoding = text_encoding(read_head(path, 512))
    with open_binary(path) as raw:
        if encoding.startswith("utf-16"):
            yield from _utf16_lines(raw, encoding, report)
        else:
            yield from _utf8_lines(raw, report)


def iter_json_lines(path: str | os.PathLike, report: FileReport) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for each non-blank line of a JSON-lines file.

    A line that is not valid JSON is rejected into `report` ("not valid JSON: ...")
    and skipped; the caller decides which values it can use.

    Example:
        >>> from pathlib import Path
        >>> from nbcatalog.data.importers.report import FileReport
        >>> p = Path("/tmp/nbcatalog-textio-json-example.jsonl")
        >>> _ = p.write_text('{"a": 1}\\n\\n{broken\\n[2]\\n', encoding="utf-8")
        >>> list(iter_json_lines(p, FileReport(str(p), "sentinel-json")))
        [(1, {'a': 1}), (4, [2])]
    """
    for number, text in iter_lines(path, report):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except (ValueError, RecursionError) as exc:
            report.reject(number, f"not valid JSON: {exc}")


def _utf8_lines(raw: BinaryIO, report: FileReport) -> Iterator[tuple[int, str]]:
    latin1_lines: list[int] = []
    for number, data in _bounded_lines(raw, report):
        if number == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
            latin1_lines.append(number)
        yield number, text
    if latin1_lines:
        report.warn(
            f"{len(latin1_lines)} line(s) were not valid UTF-8 and were read as Latin-1 "
            f"(first: line {latin1_lines[0]})"
        )


def _bounded_lines(raw: BinaryIO, report: FileReport) -> Iterator[tuple[int, bytes]]:
    number = 0
    while True:
        data = raw.readline(MAX_LINE_BYTES + 1)
        if not data:
            return
        number += 1
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            # Skip the rest of this line without holding it in memory.
            while True:
                more = raw.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            report.reject(number, f"line is longer than {MAX_LINE_BYTES} bytes")
            continue
        yield number, data.rstrip(b"\r\n")


def _utf16_lines(raw: BinaryIO, encoding: str, report: FileReport) -> Iterator[tuple[int, str]]:
    report.warn(f"file is {encoding.upper()} encoded (read as such)")
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None)
    bad: list[int] = []
    number = 0
    limit = MAX_LINE_BYTES // 2
    while True:
        line = text.readline(limit + 1)
        if not line:
            break
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            while True:
                more = text.readline(limit)
                if not more or more.endswith("\n"):
                    break
            report.reject(number, f"line is longer than {MAX_LINE_BYTES} bytes")
            continue
        if number == 1:
            line = line.lstrip("\ufeff")
        if "\ufffd" in line:
            bad.append(number)
        yield number, line.rstrip("\r\n")
    text.detach()
    if bad:
        report.warn(
            f"{len(bad)} line(s) had bytes invalid in {encoding.upper()}, shown as U+FFFD "
            f"(first: line {bad[0]})"
        )
