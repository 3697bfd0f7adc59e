"""A minimal writer of real EVTX bytes, so importer tests need no downloaded sample.

Follows the documented layout (libevtx's "Windows XML Event Log format"): a
4096-byte file header ("ElfFile", CRC32 of its first 120 bytes), 64 KiB chunks
("ElfChnk", CRC32 of the event records and of the chunk header), and event
records ("**\\0\\0", size, record id, FILETIME, binary XML, size again). Each
record carries a template instance with its template definition resident, and
the event's values as typed substitutions, as Windows writes them: the first
event of a shape (same EventData names) in a chunk carries the template
definition, later ones refer back to it. String and template hash tables are
left empty, which readers do not need.

Example:
    >>> from datetime import datetime, timezone
    >>> ev = EvtxEvent(4624, datetime(2026, 11, 27, 10, tzinfo=timezone.utc), "WKSTN-042")
    >>> evtx_bytes([ev])[:8]
    b'ElfFile\\x00'
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

FILE_HEADER = 0x1000
CHUNK = 0x10000
CHUNK_HEADER = 0x200
EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
WSTRING, UINT8, UINT16, UINT64, FILETIME, HEX64 = 0x01, 0x04, 0x06, 0x0A, 0x11, 0x15
EPOCH_1601 = datetime(1601, 1, 1, tzinfo=timezone.utc)
# System/Keywords as Windows writes them: "Classic" plus the audit outcome for Security.
AUDIT_SUCCESS, AUDIT_FAILURE, CLASSIC = 0x8020000000000000, 0x8010000000000000, 0x8000000000000000


@dataclass
class EvtxEvent:
    """One event to write; `data` becomes <EventData><Data Name=...>."""

    event_id: int
    time: datetime
    computer: str
    channel: str = "Security"
    provider: str = "Microsoft-Windows-Security-Auditing"
    level: int = 0
    task: int = 12544
    data: dict[str, str] = field(default_factory=dict)
    keywords: int | None = None  # default: audit failure for 4625, success for other Security

    def keyword_mask(self) -> int:
        if self.keywords is not None:
            return self.keywords
        if self.channel != "Security":
            return CLASSIC
        return AUDIT_FAILURE if self.event_id == 4625 else AUDIT_SUCCESS


def _name_hash(name: str) -> int:
    value = 0
    for char in name:
        value = (value * 65599 + ord(char)) & 0xFFFFFFFF
    return value & 0xFFFF


def _filetime(when: datetime) -> int:
    delta = when.astimezone(timezone.utc) - EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


class _Fragment:
    """Binary XML written at a known chunk offset (name offsets are chunk-relative)."""

    def __init__(self, base: int):
        self.base = base
        self.buf = bytearray()

    def pos(self) -> int:
        return self.base + len(self.buf)

    def name(self, text: str) -> None:
        encoded = text.encode("utf-16-le")
        self.buf += struct.pack("<IHH", 0, _name_hash(text), len(text)) + encoded + b"\0\0"

    def element(self, tag: str, attrs=(), content=None) -> None:
        """`attrs`: (name, ("text", str) | ("sub", index, type)); content likewise or a callable."""
        start = len(self.buf)
        self.buf += struct.pack("<BHII", 0x41 if attrs else 0x01, 0xFFFF, 0, self.pos() + 11)
        self.name(tag)
        if attrs:
            list_start = len(self.buf)
            self.buf += b"\0\0\0\0"
            for i, (attr, value) in enumerate(attrs):
                more = i < len(attrs) - 1
                self.buf += struct.pack("<BI", 0x46 if more else 0x06, self.pos() + 5)
                self.name(attr)
                self._value(value)
            struct.pack_into("<I", self.buf, list_start, len(self.buf) - list_start - 4)
        if content is None:
            self.buf += b"\x03"
        else:
            self.buf += b"\x02"
            content(self) if callable(content) else self._value(content)
            self.buf += b"\x04"
        struct.pack_into("<I", self.buf, start + 3, len(self.buf) - start - 7)

    def _value(self, value) -> None:
        if value[0] == "text":
            text = value[1]
            self.buf += struct.pack("<BBH", 0x05, WSTRING, len(text)) + text.encode("utf-16-le")
        else:
            self.buf += struct.pack("<BHB", 0x0D, value[1], value[2])


def _substitutions(ev: EvtxEvent, record_id: int) -> list[tuple[int, bytes]]:
    def text(value: str) -> tuple[int, bytes]:
        return WSTRING, value.encode("utf-16-le")

    subs = [
        text(ev.provider),
        (UINT16, struct.pack("<H", ev.event_id)),
        (UINT8, struct.pack("<B", ev.level)),
        (UINT16, struct.pack("<H", ev.task)),
        (FILETIME, struct.pack("<Q", _filetime(ev.time))),
        (UINT64, struct.pack("<Q", record_id)),
        text(ev.channel),
        text(ev.computer),
        (HEX64, struct.pack("<Q", ev.keyword_mask())),
    ]
    return subs + [text(v) for v in ev.data.values()]


def _record_xml(ev: EvtxEvent, record_id: int, base: int, templates: dict) -> bytes:
    """Fragment header, template instance (+ definition if new in the chunk), substitutions."""
    frag = _Fragment(base)
    frag.buf += b"\x0f\x01\x01\x00"
    shape = tuple(ev.data)
    if shape in templates:
        template_id, template_offset = templates[shape]
        frag.buf += struct.pack("<BBII", 0x0C, 0x01, template_id, template_offset)
        _append_substitutions(frag, ev, record_id)
        return bytes(frag.buf)
    template_offset = frag.pos() + 10
    template_id = len(templates) + 1
    templates[shape] = (template_id, template_offset)
    frag.buf += struct.pack("<BBII", 0x0C, 0x01, template_id, template_offset)
    header_at = len(frag.buf)
    frag.buf += struct.pack("<II", 0, template_id) + b"\x11" * 12 + b"\0\0\0\0"
    body_start = len(frag.buf)
    frag.buf += b"\x0f\x01\x01\x00"

    def system(f: _Fragment) -> None:
        f.element("Provider", [("Name", ("sub", 0, WSTRING))])
        f.element("EventID", content=("sub", 1, UINT16))
        f.element("Level", content=("sub", 2, UINT8))
        f.element("Task", content=("sub", 3, UINT16))
        f.element("Keywords", content=("sub", 8, HEX64))
        f.element("TimeCreated", [("SystemTime", ("sub", 4, FILETIME))])
        f.element("EventRecordID", content=("sub", 5, UINT64))
        f.element("Channel", content=("sub", 6, WSTRING))
        f.element("Computer", content=("sub", 7, WSTRING))

    def event_data(f: _Fragment) -> None:
        for i, name in enumerate(ev.data, start=9):
            f.element("Data", [("Name", ("text", name))], ("sub", i, WSTRING))

    def event(f: _Fragment) -> None:
        f.element("System", content=system)
        if ev.data:
            f.element("EventData", content=event_data)

    frag.element("Event", [("xmlns", ("text", EVENT_NS))], event)
    frag.buf += b"\x00"
    struct.pack_into("<I", frag.buf, header_at + 20, len(frag.buf) - body_start)
    _append_substitutions(frag, ev, record_id)
    return bytes(frag.buf)


def _append_substitutions(frag: _Fragment, ev: EvtxEvent, record_id: int) -> None:
    subs = _substitutions(ev, record_id)
    frag.buf += struct.pack("<I", len(subs))
    for typ, value in subs:
        frag.buf += struct.pack("<HBB", len(value), typ, 0)
    for _, value in subs:
        frag.buf += value


def _record(ev: EvtxEvent, record_id: int, chunk_offset: int, templates: dict) -> bytes:
    xml = _record_xml(ev, record_id, chunk_offset + 0x18, templates)
    size = 0x18 + len(xml) + 4
    head = struct.pack("<IIQQ", 0x00002A2A, size, record_id, _filetime(ev.time))
    return head + xml + struct.pack("<I", size)


def _chunk(events: list[EvtxEvent], first_id: int) -> bytes:
    body = bytearray()
    last_offset = CHUNK_HEADER
    templates: dict = {}  # EventData shape -> (template id, chunk offset of its definition)
    for i, ev in enumerate(events):
        record = _record(ev, first_id + i, CHUNK_HEADER + len(body), templates)
        if CHUNK_HEADER + len(body) + len(record) > CHUNK:
            raise ValueError("too many events for one chunk; use records_per_chunk")
        last_offset = CHUNK_HEADER + len(body)
        body += record
    last_id = first_id + len(events) - 1
    free = CHUNK_HEADER + len(body)
    header = bytearray(CHUNK_HEADER)
    struct.pack_into("<8sQQQQIII", header, 0, b"ElfChnk\x00", first_id, last_id, first_id, last_id,
                     0x80, last_offset, free)  # fmt: skip
    struct.pack_into("<I", header, 0x34, zlib.crc32(bytes(body)))
    struct.pack_into("<I", header, 0x78, 0)
    struct.pack_into("<I", header, 0x7C, zlib.crc32(bytes(header[:0x78]) + bytes(header[0x80:])))
    return bytes(header) + bytes(body) + b"\0" * (CHUNK - free)


def evtx_bytes(events: list[EvtxEvent], records_per_chunk: int = 100) -> bytes:
    """The bytes of an .evtx file holding `events` (record ids 1, 2, …)."""
    groups = [events[i : i + records_per_chunk] for i in range(0, len(events), records_per_chunk)]
    chunks = []
    next_id = 1
    for group in groups:
        chunks.append(_chunk(group, next_id))
        next_id += len(group)
    header = bytearray(FILE_HEADER)
    struct.pack_into("<8sQQQIHHHH", header, 0, b"ElfFile\x00", 0, max(len(chunks) - 1, 0),
                     next_id, 0x80, 1, 3, 0x1000, len(chunks))  # fmt: skip
    struct.pack_into("<I", header, 0x7C, zlib.crc32(bytes(header[:0x78])))
    return bytes(header) + b"".join(chunks)


def write_evtx(path: str | Path, events: list[EvtxEvent], records_per_chunk: int = 100) -> Path:
    """Write `events` as an .evtx file at `path`."""
    out = Path(path)
    out.write_bytes(evtx_bytes(events, records_per_chunk))
    return out
