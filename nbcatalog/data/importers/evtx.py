"""Windows .evtx files, read with python-evtx, record by record.

A damaged file yields what can be read: a record that does not parse is
rejected with its EventRecordID; a file cut short (a log copied while Windows
was writing it) has its last, partial chunk read as far as it goes, and every
record the chunk header announces but the file no longer holds is rejected as
lost. python-evtx on its own silently skips a partial chunk; this reader does not.

Example:
    >>> from nbcatalog.data.importers.report import FileReport
    >>> read_evtx("Security.evtx", FileReport("Security.evtx", "evtx"))  # doctest: +SKIP
    [Batch(table='SecurityEvent', ...)]
"""

from __future__ import annotations

import mmap
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

from Evtx.Evtx import ChunkHeader, FileHeader, Record

from nbcatalog.data.importers.batch import Batch
from nbcatalog.data.importers.errors import UnreadableFileError
from nbcatalog.data.importers.evtx_render import TemplateCache
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.winevents import WinEvent, to_row

FILE_HEADER = 0x1000
CHUNK = 0x10000
CHUNK_HEADER = 0x200
RECORD_MAGIC = 0x00002A2A
MAX_LOST_LISTED = 100_000


def read_evtx(path: Path, report: FileReport, table: str | None = None) -> list[Batch]:
    """Read every readable record of an .evtx file into SecurityEvent / Event batches."""
    rows: dict[str, tuple[list[dict], list[int | None]]] = {}
    with open(path, "rb") as fh:
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            for number, xml in _record_xml(path, buf, report):
                event = _parse(xml, number, report)
                if event is not None:
                    name, row = to_row(event)
                    rows.setdefault(name, ([], []))
                    rows[name][0].append(row)
                    rows[name][1].append(number)
    return [Batch.from_records(name, recs, lines) for name, (recs, lines) in rows.items()]


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
        last = None
        for record in _records(chunk, offset, size):
            last = record.record_num()
            try:
                yield last, renderer.xml(record)
            except Exception as exc:  # python-evtx raises many types on damaged records
                report.reject(last, f"unreadable record: {type(exc).__name__}: {exc}")
        if partial:
            _reject_lost(chunk, last, size, report)
        offset, index = offset + CHUNK, index + 1
    if FILE_HEADER < size and (size - FILE_HEADER) % CHUNK and offset < size:
        report.reject(
            None,
            f"file truncated at byte {size}: the last chunk has only {size - offset} bytes "
            "and its records are lost",
        )


def _records(chunk: ChunkHeader, chunk_offset: int, size: int):
    end = min(chunk_offset + min(chunk.next_record_offset(), CHUNK), size)
    offset = chunk_offset + CHUNK_HEADER
    while offset + 0x1C <= end:
        magic, length = struct.unpack_from("<II", chunk._buf, offset)
        if magic != RECORD_MAGIC or not 0x1C <= length <= CHUNK or offset + length > size:
            return
        yield Record(chunk._buf, offset, chunk)
        offset += length


def _reject_lost(chunk: ChunkHeader, last: int | None, size: int, report: FileReport) -> None:
    first, final = chunk.log_first_record_number(), chunk.log_last_record_number()
    start = (last + 1) if last is not None else first
    lost = final - start + 1
    if 0 < lost <= MAX_LOST_LISTED:
        for number in range(start, final + 1):
            report.reject(number, f"record lost: the file is truncated at byte {size}")


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
    return WinEvent(
        time=created.get("SystemTime") if created is not None else None,
        computer=_text(_child(system, "Computer")),
        channel=_text(_child(system, "Channel")),
        provider=provider.get("Name") if provider is not None else None,
        event_id=_text(_child(system, "EventID")),
        level=_text(_child(system, "Level")),
        task=_text(_child(system, "Task")),
        data=_event_data(root),
    )


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
