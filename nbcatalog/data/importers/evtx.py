"""Windows .evtx files (plain or gzipped), read with python-evtx, record by record.

A damaged file yields what can be read, and every record the file announces is
accounted for as stored or rejected with a reason:

- a record whose content does not parse is rejected with its EventRecordID;
- a record whose header is damaged (signature, size) ends python-evtx's walk of
  the chunk; this reader looks for the next intact record header in the chunk
  (signature, a size repeated at the record's end) and carries on, rejecting the
  damaged record(s) by number;
- a file cut short (a log copied while Windows was writing it) has its last,
  partial chunk read as far as it goes, and every record the chunk header
  announces but the file no longer holds is rejected as lost.

python-evtx on its own silently skips a partial chunk and the rest of a chunk
after a damaged record header; this reader does not.

Example:
    >>> from nbcatalog.data.importers.report import FileReport
    >>> read_evtx("Security.evtx", FileReport("Security.evtx", "evtx"))  # doctest: +SKIP
    [Batch(table='SecurityEvent', ...)]
"""

from __future__ import annotations

import mmap
import shutil
import struct
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from Evtx.Evtx import ChunkHeader, FileHeader, Record

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.errors import UnreadableFileError
from nbcatalog.data.importers.evtx_render import TemplateCache
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import GZIP_MAGIC, gzip_damage, open_binary
from nbcatalog.data.importers.winevents import WinEvent, to_row

FILE_HEADER = 0x1000
CHUNK = 0x10000
CHUNK_HEADER = 0x200
RECORD_MAGIC = 0x00002A2A
RECORD_MIN = 0x1C  # header (24 bytes) + the size repeated at the end
RECORD_SIGNATURE = struct.pack("<I", RECORD_MAGIC)
MAX_RECORDS_IN_CHUNK = (CHUNK - CHUNK_HEADER) // RECORD_MIN
MAX_LOST_LISTED = 100_000


def read_evtx(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read every readable record of an .evtx file into SecurityEvent / Event batches."""
    rows: dict[str, tuple[list[dict], list[int | None]]] = {}
    with _mapped(path, report) as buf:
        for number, xml in _record_xml(path, buf, report):
            event = _parse(xml, number, report)
            if event is not None:
                name, row = to_row(event)
                rows.setdefault(name, ([], []))
                rows[name][0].append(row)
                rows[name][1].append(number)
    return [Batch.from_records(name, recs, lines) for name, (recs, lines) in rows.items()]


@contextmanager
def _mapped(path: Path, report: FileReport) -> Iterator[mmap.mmap]:
    """The file's bytes, memory-mapped; a gzipped .evtx is decompressed to a temporary file."""
    with open(path, "rb") as fh:
        gzipped = fh.read(2) == GZIP_MAGIC
        if not gzipped:
            if not fh.seek(0, 2):
                raise UnreadableFileError(f"{path}: not an EVTX file (it is empty)")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                yield buf
            return
    with tempfile.TemporaryFile() as plain:
        with open_binary(path, whole_lines=False) as packed:
            shutil.copyfileobj(packed, plain)
            damage = gzip_damage(packed)
        if damage is not None:
            report.warn(f"the gzip file {damage}; the .evtx inside is read as far as it goes")
        if not plain.tell():
            raise UnreadableFileError(f"{path}: the gzip file holds nothing readable")
        plain.flush()
        with mmap.mmap(plain.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            yield buf


def _record_xml(path: Path, buf: mmap.mmap, report: FileReport):
    size = len(buf)
    if buf[:8] != b"ElfFile\x00":
        raise UnreadableFileError(f"{path}: not an EVTX file (no 'ElfFile' signature)")
    if size < FILE_HEADER:
        raise UnreadableFileError(
            f"{path}: truncated EVTX file ({size} bytes, shorter than its 4096-byte header)"
        )
    header = FileHeader(buf, 0)
    if header.checksum() != header.calculate_checksum():
        report.warn("file header checksum does not match (records read anyway)")
    offset, index = FILE_HEADER, 0
    renderer = TemplateCache()
    while offset + CHUNK_HEADER <= size:
        partial = offset + CHUNK > size
        if buf[offset : offset + 8] != b"ElfChnk\x00":
            if any(buf[offset : min(offset + CHUNK, size)]):
                report.reject(
                    None, f"chunk {index} at byte {offset} has no chunk signature; skipped"
                )
            offset, index = offset + CHUNK, index + 1
            continue
        chunk = ChunkHeader(buf, offset)
        if not partial and chunk.header_checksum() != chunk.calculate_header_checksum():
            report.warn(f"chunk {index}: header checksum does not match (records read anyway)")
        yield from _chunk_xml(chunk, index, offset, size, partial, renderer, report)
        offset, index = offset + CHUNK, index + 1
    if FILE_HEADER < size and (size - FILE_HEADER) % CHUNK and offset < size:
        report.reject(
            None,
            f"file truncated at byte {size}: the last chunk has only {size - offset} bytes "
            "and its records are lost",
        )


def _chunk_xml(chunk, index, offset, size, partial, renderer, report: FileReport):
    """(record number, XML) for each record of one chunk; every other record is rejected."""
    first, last = chunk.log_first_record_number(), chunk.log_last_record_number()
    numbered = 0 < first <= last and last - first < MAX_RECORDS_IN_CHUNK
    if not numbered:
        report.warn(
            f"chunk {index}: its header's record numbers ({first}-{last}) are not plausible; "
            "records lost in it cannot be counted"
        )
    expected = first  # the number the next record should carry
    for record, skipped in _records(chunk, offset, size):
        number = record.record_num()
        if numbered and not first <= number <= last:
            number = expected  # the record's own number is damaged; its place tells it
        if skipped and numbered:
            for lost in range(expected, min(number, last + 1)):
                report.reject(lost, f"damaged record header in chunk {index}; record skipped")
        try:
            yield number, renderer.xml(record)
        except Exception as exc:  # python-evtx raises many types on damaged records
            report.reject(number, f"unreadable record: {type(exc).__name__}: {exc}")
        expected = number + 1
    if numbered and expected <= last:
        reason = (
            f"record lost: the file is truncated at byte {size}"
            if partial
            else f"record lost: damaged data at the end of chunk {index}"
        )
        if last - expected < MAX_LOST_LISTED:
            for lost in range(expected, last + 1):
                report.reject(lost, reason)


def _records(chunk: ChunkHeader, chunk_offset: int, size: int):
    """(Record, whether damaged bytes were skipped to reach it), in chunk order."""
    buf = chunk._buf
    free = chunk.next_record_offset()
    if not CHUNK_HEADER + RECORD_MIN <= free <= CHUNK:  # damaged header: search the whole chunk
        free = CHUNK
    end = min(chunk_offset + free, size)
    offset = chunk_offset + CHUNK_HEADER
    skipped = False
    while offset + RECORD_MIN <= end:
        length = _intact_record(buf, offset, end)
        if length:
            yield Record(buf, offset, chunk), skipped
            offset, skipped = offset + length, False
            continue
        found = buf.find(RECORD_SIGNATURE, offset + 1, end)
        if found < 0:
            return
        offset, skipped = found, True


def _intact_record(buf, offset: int, end: int) -> int:
    """The record's length if a record header at `offset` is intact, else 0."""
    magic, length = struct.unpack_from("<II", buf, offset)
    if magic != RECORD_MAGIC or not RECORD_MIN <= length <= CHUNK or offset + length > end:
        return 0
    if struct.unpack_from("<I", buf, offset + length - 4)[0] != length:
        return 0
    return length


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ET.Element | None) -> str | None:
    return None if element is None or element.text is None else element.text.strip()


def _parse(xml: str, number: int, report: FileReport) -> WinEvent | None:
    if "<!DOCTYPE" in xml or "<!ENTITY" in xml:
        report.reject(number, "record XML declares a DTD or entity; refused")
        return None
    try:
        root = ET.fromstring(xml)
    except (ET.ParseError, ValueError) as exc:
        report.reject(number, f"record XML does not parse: {exc}")
        return None
    system = _child(root, "System")
    if system is None:
        report.reject(number, "record has no System element")
        return None
    provider = _child(system, "Provider")
    created = _child(system, "TimeCreated")
    keywords = _text(_child(system, "Keywords"))
    return WinEvent(
        time=created.get("SystemTime") if created is not None else None,
        computer=_text(_child(system, "Computer")),
        channel=_text(_child(system, "Channel")),
        provider=provider.get("Name") if provider is not None else None,
        event_id=_text(_child(system, "EventID")),
        level=_text(_child(system, "Level")),
        task=_text(_child(system, "Task")),
        data=_event_data(root),
        keywords=_hex(keywords),
    )


def _hex(text: str | None) -> int | None:
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def _event_data(root: ET.Element) -> dict[str, str]:
    data: dict[str, str] = {}
    event_data = _child(root, "EventData")
    if event_data is not None:
        for i, item in enumerate(event_data, start=1):
            name = item.get("Name") or f"param{i}"
            data[name] = item.text or ""
        return data
    user_data = _child(root, "UserData")
    if user_data is not None and len(user_data):
        for item in user_data[0]:
            data[_local(item.tag)] = item.text or ""
    return data
