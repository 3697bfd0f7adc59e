"""Reading hostile text files: bounded lines, BOMs, UTF-16, stray Latin-1 bytes, gzip.

Every line is at most `MAX_LINE_BYTES` long; a longer one is rejected (and the
rest of it skipped) instead of being read into memory. UTF-8 is expected; a line
that is not valid UTF-8 is decoded as Latin-1 and counted in a warning, so no
byte is lost and nothing passes unnoticed. A UTF-16 file (byte-order mark, or the
NUL pattern PowerShell's `>` leaves) is decoded as UTF-16. Gzip-compressed files
(rotated `auth.log.2.gz`, `conn.00:00:00-01:00:00.log.gz`) are read transparently,
whatever their name; a gzip file cut short or damaged yields every line before the
damage, and the loss is rejected in the report instead of failing the import.

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
import io
import json
import os
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from nbcatalog.data.importers.report import FileReport

MAX_LINE_BYTES = 1 << 20
HEAD_BYTES = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib reads the gzip header and trailer itself
_READ = 1 << 16


def open_binary(path: str | os.PathLike, whole_lines: bool = True) -> BinaryIO:
    """Open `path` for reading bytes, decompressing gzip transparently.

    A damaged gzip file gives the bytes before the damage: with `whole_lines`, up to
    the last line end (text formats); without, every byte (binary formats).

    Example:
        >>> import gzip
        >>> from pathlib import Path
        >>> p = Path("/tmp/nbcatalog-textio-example.log.gz")
        >>> _ = p.write_bytes(gzip.compress(b"hello\\n"))
        >>> with open_binary(p) as fh:
        ...     fh.read(), gzip_damage(fh)
        (b'hello\\n', None)
    """
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller
    if fh.read(2) == GZIP_MAGIC:
        fh.seek(0)
        return io.BufferedReader(_GzipStream(fh, whole_lines), _READ)  # type: ignore[return-value]
    fh.seek(0)
    return fh


def gzip_damage(fh: BinaryIO) -> str | None:
    """What was wrong with the gzip data behind `fh` (read to its end), else None."""
    raw = getattr(fh, "raw", None)
    return raw.damage if isinstance(raw, _GzipStream) else None


class _GzipStream(io.RawIOBase):
    """Gzip decompression that hands out every whole line before damage, then stops.

    Python's `gzip` module raises on a cut-short file before returning the lines
    already decompressed in its buffer; a rotated log copied while it was being
    compressed would lose its good part too. The bytes after the last line end are
    held back until the stream is known to be whole, so damage never yields half a
    line as if it were a record. Several gzip members one after the other
    (`cat a.gz b.gz`) are one stream, as gzip(1) reads them.
    """

    def __init__(self, fh: BinaryIO, whole_lines: bool = True):
        self._fh = fh
        self._whole_lines = whole_lines
        self._z = zlib.decompressobj(_GZIP_WBITS)
        self._ready = b""  # safe to hand out
        self._held = b""  # after the last line end: handed out once the stream is whole
        self._done = False
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._ready and not self._done:
            self._fill()
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size

    def close(self) -> None:
        self._fh.close()
        super().close()

    def _fill(self) -> None:
        if self._z.eof:
            self._next_member()
            return
        data = self._z.unconsumed_tail or self._fh.read(_READ)
        if not data:
            self._stop("is cut short (the file ends inside the compressed data)")
            return
        self._decompress(data)

    def _decompress(self, data: bytes) -> None:
        try:
            out = self._z.decompress(data, _READ)  # bounded: no zip bomb in memory
        except zlib.error as exc:
            # Deflate notices damage late (at worst at the member's checksum): what it
            # gave out just before may already be garbled.
            self._stop(f"is damaged ({exc}); the lines read just before it may be garbled")
            return
        held = self._held + out
        cut = held.rfind(b"\n") + 1
        if not self._whole_lines or len(held) - cut > MAX_LINE_BYTES:  # too long: rejected anyway
            cut = len(held)
        self._ready, self._held = held[:cut], held[cut:]

    def _next_member(self) -> None:
        rest = self._z.unused_data
        if len(rest) < 2:
            rest += self._fh.read(_READ)
        if rest[:2] == GZIP_MAGIC:
            self._z = zlib.decompressobj(_GZIP_WBITS)
            self._decompress(rest)
            return
        if rest.strip(b"\0") or self._fh.read(_READ).strip(b"\0"):
            self.damage = "has bytes after its end that are not gzip data (ignored)"
        self._ready, self._held, self._done = self._held, b"", True

    def _stop(self, damage: str) -> None:
        if self._held:
            damage += "; the line it cut in the middle was dropped"
        self._held, self._done, self.damage = b"", True, damage


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
    last = 0
    with open_binary(path) as raw:
        if encoding.startswith("utf-16"):
            lines = _utf16_lines(raw, encoding, report)
        else:
            lines = _utf8_lines(raw, report)
        for last, text in lines:
            yield last, text
        damage = gzip_damage(raw)
    if damage is not None:
        _report_gzip_damage(damage, last, report)


def _report_gzip_damage(damage: str, last: int, report: FileReport) -> None:
    if damage.endswith("(ignored)"):
        report.warn(f"the gzip file {damage}")
    else:
        report.reject(None, f"everything after line {last} is lost: the gzip file {damage}")


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
