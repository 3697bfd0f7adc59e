"""Property-based checks: any input gives a result or a clear error, never a traceback.

Over parameter resolution, the ``nbcatalog run`` command line (in process, with the
run itself replaced by resolution only: no kernel starts) and the importers' line
parsers. Bounded: each property runs a fixed number of examples with no deadline,
the whole module in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import string

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from template_factory import write_template

from nbcatalog.data.importers.report import FileReport
from nbcatalog.data.importers.syslog_line import parse_syslog_line
from nbcatalog.data.importers.zeek import _json_fields, _tsv_fields, conn_row
from nbcatalog.errors import UsageError
from nbcatalog.parameters import REDACTED, resolve
from nbcatalog.template import load_template

NOW = dt.datetime(2024, 5, 8, 12, 0, tzinfo=dt.timezone.utc)
SOURCE = "msticpy:LocalData"
SECRET = "S3cr3t-Value-xyz"
BOUNDED = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PARAMS = (
    'host: str = ""  # host name\n'
    'ip: str = ""  # IP address\n'
    'account_id: str = ""  # account id\n'
    "days: int = 3  # days\n"
    "ratio: float = 0.5  # ratio\n"
    "verbose: bool = False  # more\n"
    "tags: list = []  # labels\n"
    "extra: dict = {}  # settings\n"
    "api_key: int = 0  # key\n"
    'start: str = ""  # start\n'
    'end: str = ""  # end\n'
    'data_source: str = ""  # source\n'
    'options: list = ["summary", "timeline"]  # parts\n'
)
NAMES = ["host", "ip", "account_id", "days", "ratio", "verbose", "tags", "extra", "api_key"]
NAMES += ["start", "end", "last", "options", "data_source"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hypo")
    write_template(
        folder,
        "hypo_probe",
        parameters=PARAMS,
        entity_kinds={"host": "host", "ip": "ip", "account_id": "account_id"},
    )
    return folder


@pytest.fixture(scope="module")
def template(folder):
    return load_template(folder / "host" / "hypo_probe.ipynb")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.text(alphabet=string.digits + "+-:TZ .smhdw", max_size=40),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "99999999999d",
            "9" * 5000,
            "windows:contoso\\bob",
            "203.0.113.77",
            "+geo",
            "-timeline",
        ]
    ),
)
raw_params = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=12)), values, max_size=5
)


@BOUNDED
@given(raw=raw_params)
def test_resolve_gives_values_or_a_usage_error(template, raw):
    try:
        resolved = resolve(template, {"data_source": SOURCE, **raw}, now=NOW)
    except UsageError as exc:
        message = str(exc)
        assert message and len(message) < 2000
        return
    assert resolved.start < resolved.end
    assert set(resolved.values) >= {"start", "end", "data_source"}


@BOUNDED
@given(value=values)
def test_a_secret_is_never_in_an_error(template, value):
    raw = {"data_source": SOURCE, "api_key": [SECRET, value] if value else SECRET}
    with pytest.raises(UsageError) as caught:
        resolve(template, raw, now=NOW)
    assert SECRET not in str(caught.value)


class _Accepted(Exception):  # noqa: N818 - a marker, not an error
    """The fake run's answer: the parameters resolved (no kernel is started)."""


@pytest.fixture(scope="module")
def cli(folder):
    from nbcatalog.cli.main import main

    import nbcatalog.runner
    from nbcatalog.parameters import parse_timeout

    def fake_run(name, *, timeout=None, **kwargs):
        template = nbcatalog.runner.find_template(name)
        raw = {k: v for k, v in kwargs.items() if k not in _RUN_KEYWORDS and v is not None}
        resolve(template, {"data_source": SOURCE, **raw}, now=NOW)
        parse_timeout(timeout)
        raise _Accepted

    mp = pytest.MonkeyPatch()
    mp.setattr(nbcatalog.runner, "run", fake_run)
    mp.setenv("NBCATALOG_PATH", str(folder))
    yield lambda args: CliRunner().invoke(main, ["run", "hypo_probe", *args])
    mp.undo()


_RUN_KEYWORDS = {"labels", "output_dir", "html", "quiet", "silent", "fresh_kernel"}
FLAGS = [f"--{n.replace('_', '-')}" for n in NAMES if n != "data_source"]
FLAGS += ["--timeout", "--option", "--verbose", "--no-verbose", "--json", "--bogus", "-x"]


@BOUNDED
@given(
    args=st.lists(
        st.one_of(st.sampled_from(FLAGS), st.text(max_size=30), st.sampled_from(["nan", "inf"])),
        max_size=8,
    )
)
def test_cli_exits_2_with_a_message_or_accepts(cli, args):
    result = cli(args)
    if isinstance(result.exception, _Accepted):
        return
    assert result.exit_code in (0, 2), (args, result.output, result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert "error" in result.output.lower() or "Usage:" in result.output


@BOUNDED
@given(key=st.text(min_size=1, max_size=200).filter(lambda t: "\x00" not in t))
def test_cli_never_echoes_a_secret_from_the_environment(cli, key, monkeypatch):
    monkeypatch.setenv("NBCATALOG_API_KEY", SECRET + key)
    result = cli(["--host", "WKSTN-1"])
    if isinstance(result.exception, _Accepted):
        return
    assert result.exit_code == 2 and SECRET not in result.output


syslogish = st.builds(
    lambda pri, stamp, host, tag, msg: f"{pri}{stamp} {host} {tag}: {msg}",
    st.sampled_from(["", "<13>", "<999>", "<38>1 "]),
    st.sampled_from(
        [
            "Dec  1 10:00:01",
            "Feb 30 25:61:61",
            "2026-12-01T10:00:01+0100",
            "2026-13-45T99:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "Dec  1 2025 10:00:01",
        ]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "-.", min_size=1, max_size=20),
    st.text(alphabet=string.ascii_letters + "[]()/0123456789", max_size=20),
    st.text(max_size=60),
)


@BOUNDED
@given(line=st.one_of(st.text(max_size=200), syslogish))
def test_syslog_line_parses_or_says_why(line):
    try:
        parsed = parse_syslog_line(line)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(parsed.message, str)


@BOUNDED
@given(text=st.one_of(st.text(max_size=200), st.just("[" * 100000)))
def test_zeek_json_line_is_fields_or_a_rejection(text):
    report = FileReport(file="conn.log", format="zeek")
    fields = _json_fields(text, 1, report)
    assert (fields is None) == (report.rows_rejected == 1)
    if fields is not None:
        try:
            conn_row(fields)
        except (ValueError, TypeError) as exc:  # the reader turns these into rejections
            assert str(exc)


@BOUNDED
@given(text=st.text(max_size=200))
def test_zeek_tsv_line_is_fields_or_a_rejection(text):
    header = {"separator": "\t", "unset": "-", "empty": "(empty)", "fields": ["ts", "uid", "x"]}
    report = FileReport(file="conn.log", format="zeek")
    fields = _tsv_fields(text, 1, header, report)
    assert (fields is None) == (report.rows_rejected == 1)
    assert REDACTED  # imported for the secret check above
