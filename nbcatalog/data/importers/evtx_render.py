"""Rendering .evtx records to XML with each template parsed once per chunk.

python-evtx re-parses a record's whole template on every record (about 30 ms a
record), which makes a real Security.evtx of 50,000 events take most of an hour.
A chunk's records share a few templates, so this module keeps one parsed
`TemplateNode` per (chunk, template offset), reads the record's substitution
array itself (the layout python-evtx's `RootNode.substitutions` reads), and
renders with python-evtx's own `render_root_node_with_subs`. Anything unusual
falls back to python-evtx's full path, so the output is python-evtx's output.

Example:
    >>> renderer = TemplateCache()  # one per file: keys are offsets within it
    >>> xml = renderer.xml(record)  # doctest: +SKIP
"""

from __future__ import annotations

import struct

from Evtx.Evtx import Record
from Evtx.Nodes import TemplateNode, get_variant_value
from Evtx.Views import render_root_node_with_subs

RECORD_HEADER = 0x18
TEMPLATE_HEADER = 0x18
TEMPLATE_INSTANCE = 0x0C


class _Root:
    """What `render_root_node_with_subs` asks of a root node: its template."""

    def __init__(self, template: TemplateNode):
        self._template = template

    def template(self) -> TemplateNode:
        return self._template


class TemplateCache:
    """Render records to XML, parsing each template once (per chunk)."""

    def __init__(self) -> None:
        self._templates: dict[tuple[int, int], TemplateNode] = {}

    def xml(self, record: Record) -> str:
        """The record's XML, as `record.xml()` gives it."""
        try:
            fast = self._fast(record)
        except Exception:  # damaged or unusual layout: let python-evtx try (and report)
            fast = None
        return fast if fast is not None else record.xml()

    def _fast(self, record: Record) -> str | None:
        buf, chunk = record._buf, record._chunk
        chunk_start = chunk.offset()
        pos = record.offset() + RECORD_HEADER
        if buf[pos] & 0x0F == 0x0F:  # fragment header
            pos += 4
        if buf[pos] != TEMPLATE_INSTANCE:
            return None
        template_offset = struct.unpack_from("<I", buf, pos + 6)[0]
        pos += 10
        if template_offset > pos - 10 - chunk_start:  # resident: the definition follows
            data_length = struct.unpack_from("<I", buf, chunk_start + template_offset + 20)[0]
            pos = chunk_start + template_offset + TEMPLATE_HEADER + data_length
        key = (chunk_start, template_offset)
        template = self._templates.get(key)
        if template is None:
            template = TemplateNode(buf, chunk_start + template_offset, chunk, chunk)
            self._templates[key] = template
        return render_root_node_with_subs(_Root(template), _substitutions(buf, pos, chunk))


def _substitutions(buf, pos: int, chunk) -> list:
    count = struct.unpack_from("<I", buf, pos)[0]
    if count > 4096:
        raise ValueError(f"implausible substitution count {count}")
    pos += 4
    declared = [struct.unpack_from("<HB", buf, pos + 4 * i) for i in range(count)]
    pos += 4 * count
    values = []
    for size, kind in declared:
        values.append(get_variant_value(buf, pos, chunk, chunk, kind, length=size))
        pos += size
    return values
