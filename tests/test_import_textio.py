"""Transparent gzip reading for every text format: rotated logs as they are kept on disk.

`logrotate` with `compress` leaves `auth.log.2.gz`; Zeek's archiver leaves
`conn.00:00:00-01:00:00.log.gz`; `cat a.gz b.gz` makes one file of two gzip
members. A gzip file copied before the compressor finished is cut short, and one
with a flipped bit is damaged: the lines before the damage are still evidence.
"""

from __future__ import annotations

import gzip
import zlib

import pytest

from nbcatalog.data.importers.detect import detect_format
from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.textio import iter_lines, open_binary, read_head

LINES = [
    f"Nov 27 10:{i // 60:02d}:{i % 60:02d} web01 sshd[{900 + i}]: session {i}" for i in range(3000)
]
TEXT = ("\n".join(LINES) + "\n").encode()


def _read(path) -> tuple[list[tuple[int, str]], FileReport]:
    report = FileReport(str(path), "syslog")
    return list(iter_lines(path, report)), report


def test_whole_multi_member_and_padded_gzip_read_as_the_plain_text(tmp_path):
    half = len(TEXT) // 2
    cut_at = TEXT.rindex(b"\n", 0, half) + 1  # members split at a line end, as `cat` of two logs
    cases = {
        "auth.log.2.gz": gzip.compress(TEXT),
        "two-members.gz": gzip.compress(TEXT[:cut_at]) + gzip.compress(TEXT[cut_at:]),
        "padded.gz": gzip.compress(TEXT) + b"\0" * 512,  # tape/block padding
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        lines, report = _read(path)
        assert [text for _, text in lines] == LINES, name
        assert (report.rows_rejected, report.warnings) == (0, []), name


def test_trailing_garbage_is_a_warning_not_a_loss(tmp_path):
    path = tmp_path / "auth.log.1.gz"
    path.write_bytes(gzip.compress(TEXT) + b"not gzip at all")
    lines, report = _read(path)
    assert len(lines) == len(LINES) and report.rows_rejected == 0
    assert report.warnings == [
        "the gzip file has bytes after its end that are not gzip data (ignored)"
    ]


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9])
def test_cut_short_gzip_yields_every_whole_line_before_the_cut(tmp_path, keep):
    packed = gzip.compress(TEXT)
    cut = packed[: int(len(packed) * keep)]
    path = tmp_path / "auth.log.3.gz"
    path.write_bytes(cut)
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    whole = readable.count(b"\n")  # what the test can decompress itself, in whole lines
    lines, report = _read(path)
    assert [text for _, text in lines] == LINES[:whole]
    assert report.rows_rejected == 1
    reason = report.rejections[0].reason
    assert reason.startswith(f"everything after line {whole} is lost: the gzip file is cut short")
    if not readable.endswith(b"\n"):
        assert "the line it cut in the middle was dropped" in reason


def test_damaged_gzip_keeps_the_lines_before_the_damage_and_says_so(tmp_path):
    packed = bytearray(gzip.compress(TEXT, compresslevel=1))
    packed[len(packed) // 2] ^= 0xFF  # deflate finds out late: lines after the flip may be garbled
    path = tmp_path / "syslog.4.gz"
    path.write_bytes(bytes(packed))
    lines, report = _read(path)
    texts = [text for _, text in lines]
    assert texts[: len(LINES) // 4] == LINES[: len(LINES) // 4]  # well before the flipped byte
    assert report.rows_rejected == 1
    reason = report.rejections[0].reason
    assert "the gzip file is damaged" in reason and "may be garbled" in reason


def test_gz_names_are_judged_by_the_name_inside(tmp_path):
    export = tmp_path / "SecurityEvent.csv.gz"
    export.write_bytes(gzip.compress(b"Computer;Account\nWKSTN-042;bob\n"))
    assert detect_format(export, read_head(export)) == "sentinel-csv"
    evtx = tmp_path / "Security.evtx.gz"
    evtx.write_bytes(gzip.compress(b"ElfFile\x00" + b"\0" * 100))
    assert detect_format(evtx, read_head(evtx)) == "evtx"


def test_binary_readers_get_every_byte_before_the_damage(tmp_path):
    blob = bytes(range(256)) * 2000  # few line ends: a binary file
    packed = gzip.compress(blob)
    path = tmp_path / "x.bin.gz"
    path.write_bytes(packed[: len(packed) // 2])
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed[: len(packed) // 2])
    with open_binary(path, whole_lines=False) as fh:
        assert fh.read() == readable
