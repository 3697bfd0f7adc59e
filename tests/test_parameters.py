"""Parameters are checked and coerced before any kernel starts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import click
import pandas as pd
import pytest
from nbcatalog.cli.template_options import cli_options, raw_from_cli
from template_factory import write_template

from nbcatalog.errors import ParameterError
from nbcatalog.parameters import resolve, time_range
from nbcatalog.template import load_template

NOW = dt.datetime(2024, 5, 8, 12, 0, tzinfo=dt.timezone.utc)
SOURCE = "msticpy:LocalData"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("params")
    params = (
        'host: str = ""  # host name\n'
        'ip: str = ""  # IP address\n'
        'account: str = ""  # account\n'
        'url: str = ""  # URL\n'
        "days: int = 3  # days\n"
        "ratio: float = 0.5  # ratio\n"
        "verbose: bool = False  # more output\n"
        "tags: list = []  # labels\n"
        "extra: dict = {}  # extra settings\n"
        "data: pd.DataFrame = None  # rows to look at (Python only)\n"
        'api_token: str = ""  # token\n'
        'vault_name: str = ""  # which vault\n'
        'start: str = ""  # start\n'
        'end: str = ""  # end\n'
        'data_source: str = ""  # source\n'
        'options: list = ["summary", "timeline"]  # parts\n'
    )
    path = write_template(
        folder,
        "param_probe",
        parameters=params,
        entity_kinds={"host": "host", "ip": "ip", "account": "account", "url": "url"},
        secrets=["vault_name"],
    )
    return load_template(path)


def run(template, **raw):
    raw.setdefault("data_source", SOURCE)
    return resolve(template, raw, now=NOW)


def test_defaults_fill_every_parameter_and_last_seven_days(template):
    values = run(template).values
    assert values["days"] == 3 and values["tags"] == [] and values["host"] == ""
    assert values["start"] == "2024-05-01T12:00:00Z"
    assert values["end"] == "2024-05-08T12:00:00Z"
    assert values["options"] == ["summary", "timeline"]
    assert values["data_source"] == SOURCE
    json.dumps({k: v for k, v in values.items() if k != "data"})  # what papermill injects


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("days", "5", 5),
        ("days", " 12 ", 12),
        ("days", 7.0, 7),
        ("ratio", "0.25", 0.25),
        ("ratio", 1, 1.0),
        ("verbose", "true", True),
        ("verbose", "yes", True),
        ("verbose", "Off", False),
        ("verbose", 0, False),
        ("tags", "a, b,,c", ["a", "b", "c"]),
        ("tags", ("x", "y"), ["x", "y"]),
        ("extra", '{"k": 1}', {"k": 1}),
        ("host", "WKSTN-042", "WKSTN-042"),
    ],
)
def test_values_are_coerced_to_the_annotated_type(template, name, given, expected):
    assert run(template, **{name: given}).values[name] == expected


@pytest.mark.parametrize(
    ("name", "given", "message"),
    [
        ("days", "five", "'five' is not a whole number"),
        ("days", "5.5", "is not a whole number"),
        ("days", True, "is not a whole number"),
        ("ratio", "half", "is not a number"),
        ("ratio", "nan", "is not a finite number"),
        ("verbose", "maybe", "accepted: true/false, yes/no"),
        ("tags", 5, "is not a list"),
        ("extra", "[1]", "is not a mapping"),
        ("host", ["a"], "is not text"),
        ("data", "rows.csv", "a pandas DataFrame (accepted from Python only)"),
    ],
)
def test_wrong_types_are_rejected_with_what_is_accepted(template, name, given, message):
    with pytest.raises(ParameterError, match=re.escape(message)) as info:
        run(template, **{name: given})
    assert f"parameter {name!r}" in str(info.value)


def test_unknown_parameter_names_accepted_ones_and_closest(template):
    with pytest.raises(ParameterError) as info:
        run(template, hots="WKSTN-042")
    text = str(info.value)
    assert "unknown parameter 'hots'; did you mean 'host'?" in text
    assert "accepted: host, ip, account" in text and "last" in text


def test_entity_values_are_trimmed(template):
    assert run(template, account=" bob ", ip="203.0.113.77\n").values["account"] == "bob"


def test_hyphenated_names_are_read_as_underscores(template):
    assert run(template, **{"api-token": "s3cret"}).values["api_token"] == "s3cret"


def test_dataframe_parameter_is_left_as_the_object(template):
    frame = pd.DataFrame({"a": [1, 2]})
    assert run(template, data=frame).values["data"] is frame


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("host", "WKSTN-042"),
        ("host", "web01.contoso.com"),
        ("host", "WIN-DC01$"),
        ("ip", "203.0.113.77"),
        ("ip", "2001:db8::1"),
        ("account", "bob"),
        ("account", "CONTOSO\\bob"),
        ("account", "bob@contoso.com"),
        ("account", "NT AUTHORITY\\SYSTEM"),
        ("url", "http://malicious.example/payload.ps1"),
        ("url", "https://example.com:8443/a?b=c"),
    ],
)
def test_plausible_entities_pass(template, name, value):
    assert run(template, **{name: value}).values[name] == value


@pytest.mark.parametrize(
    ("name", "value", "accepted"),
    [
        ("host", "WKSTN-042; rm -rf /", "a host name like WKSTN-042"),
        ("host", "<script>", "a host name"),
        ("host", "a..b", "a host name"),
        ("ip", "203.0.113.300", "an IPv4 or IPv6 address"),
        ("ip", "WKSTN-042", "an IPv4 or IPv6 address"),
        ("account", "bob' or '1'='1", "an account name like bob"),
        ("account", "a\\b\\c", "an account name"),
        ("url", "javascript:alert(1)", "a URL like http://"),
        ("url", "http://exa mple.com/", "a URL"),
        ("url", 'http://x.example/"><script>', "a URL"),
    ],
)
def test_values_that_cannot_be_entities_are_rejected(template, name, value, accepted):
    with pytest.raises(ParameterError, match="is not a valid") as info:
        run(template, **{name: value})
    assert accepted in str(info.value)


def test_time_range_from_last_start_end():
    start, end = time_range(last="24h", now=NOW)
    assert (start, end) == (NOW - dt.timedelta(hours=24), NOW)
    assert time_range(last="90m", now=NOW)[0] == NOW - dt.timedelta(minutes=90)
    assert time_range(last="2w", now=NOW)[0] == NOW - dt.timedelta(weeks=2)
    start, end = time_range(start="2024-05-01", end="2024-05-02T10:00:00+02:00")
    assert start == dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    assert end == dt.datetime(2024, 5, 2, 8, tzinfo=dt.timezone.utc)
    # last counts back from an explicit end; naive datetimes are UTC
    start, end = time_range(end=dt.datetime(2024, 1, 10), last="1d")
    assert start == dt.datetime(2024, 1, 9, tzinfo=dt.timezone.utc)
    # start alone runs to now
    assert time_range(start="2024-05-07T00:00:00Z", now=NOW)[1] == NOW


def test_resolved_times_are_iso_utc_text(template):
    values = run(template, start=dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc),
                 end="2024-05-02T00:00:00.5Z").values  # fmt: skip
    assert values["start"] == "2024-05-01T10:00:00Z"
    assert values["end"] == "2024-05-02T00:00:00.500000Z"
    assert dt.datetime.fromisoformat(values["end"].replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"start": "2024-05-02", "end": "2024-05-01"}, "must be after start"),
        ({"start": "2024-05-02", "end": "2024-05-02"}, "must be after start"),
        ({"last": "7days"}, "is not a time span; use a number and a unit"),
        ({"last": "0h"}, "must be a positive time span"),
        ({"last": "24h", "start": "2024-05-01"}, "either last= or start="),
        ({"start": "yesterday"}, "is not a date/time; use ISO-8601"),
        ({"end": 1714550400}, "pass a datetime or ISO-8601 text"),
    ],
)
def test_bad_time_ranges_are_errors(template, raw, message):
    with pytest.raises(ParameterError, match=message):
        run(template, **raw)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, ["summary", "timeline"]),
        (["+geo"], ["summary", "timeline", "geo"]),
        (["+geo", "-timeline"], ["summary", "geo"]),
        ("+geo,-summary", ["timeline", "geo"]),
        (["geo"], ["geo"]),
        (["timeline", "summary", "timeline"], ["timeline", "summary"]),
        ([], []),  # a plain (empty) list replaces the defaults
    ],
)
def test_options_msticnb_style(template, given, expected):
    assert run(template, options=given).values["options"] == expected


def test_option_errors(template):
    with pytest.raises(ParameterError, match="do not mix"):
        run(template, options=["+geo", "summary"])
    with pytest.raises(ParameterError) as info:
        run(template, options=["+goe"])
    assert "unknown option 'goe'; did you mean 'geo'?" in str(info.value)
    assert "accepted: summary, timeline, geo" in str(info.value)


def test_secrets_by_name_pattern_and_metadata_are_redacted(template):
    resolved = run(template, api_token="tok-123", vault_name="prod-vault", host="WKSTN-042")
    assert resolved.secrets == frozenset({"api_token", "vault_name"})
    assert resolved.values["api_token"] == "tok-123"
    assert resolved.redacted["api_token"] == "<redacted>"
    assert resolved.redacted["vault_name"] == "<redacted>"
    assert resolved.redacted["host"] == "WKSTN-042"
    assert "tok-123" not in json.dumps({k: v for k, v in resolved.redacted.items() if k != "data"})


def test_data_source_specs(template, tmp_path, monkeypatch):
    store = tmp_path / "soc.duckdb"
    store.write_bytes(b"")
    assert run(template, data_source=str(store)).values["data_source"] == f"duckdb:{store}"
    monkeypatch.chdir(tmp_path)
    assert run(template, data_source="duckdb:soc.duckdb").data_source == f"duckdb:{store}"
    with pytest.raises(ParameterError, match="accepted: 'duckdb:PATH'"):
        run(template, data_source="postgres://db")
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NBCATALOG_SOURCE", "msticpy:MSSentinel")
    assert resolve(template, {}, now=NOW).data_source == "msticpy:MSSentinel"


def test_required_parameters_from_metadata(tmp_path):
    path = write_template(tmp_path, "needs_host", required=["host"])
    template = load_template(path)
    with pytest.raises(ParameterError, match="needs_host needs host \\(host name") as info:
        resolve(template, {"data_source": SOURCE})
    assert info.value.cli_message.startswith("needs_host needs --host (host name")
    assert resolve(template, {"host": "x1", "data_source": SOURCE}).values["host"] == "x1"


def test_template_without_options_rejects_them(tmp_path):
    params = 'start: str = ""  # s\nend: str = ""  # e\ndata_source: str = ""  # d\n'
    template = load_template(write_template(tmp_path, "no_opts", parameters=params, options={}))
    values = resolve(template, {"data_source": SOURCE}).values
    assert "options" not in values
    with pytest.raises(ParameterError, match="unknown parameter 'options'"):
        resolve(template, {"options": ["+geo"], "data_source": SOURCE})


def test_cli_options_feed_resolve(template):
    command = click.Command("run", params=cli_options(template), callback=lambda **kw: kw)
    flags = {opt for o in command.params for opt in o.opts + o.secondary_opts}
    assert {"--host", "--api-token", "--last", "--start", "--end", "--source", "--option"} <= flags
    assert "--verbose" in flags and "--no-verbose" in flags and "--data" not in flags
    parsed = command.main(
        ["--host", "WKSTN-042", "--days", "5", "--tags", "a,b", "--tags", "c", "--verbose",
         "--last", "24h", "--option", "+geo", "--option", "-timeline", "--source", SOURCE],
        standalone_mode=False,
    )  # fmt: skip
    raw = raw_from_cli(template, parsed)
    assert raw == {
        "host": "WKSTN-042", "days": "5", "tags": ["a", "b", "c"], "verbose": True,
        "last": "24h", "options": ["+geo", "-timeline"], "data_source": SOURCE,
    }  # fmt: skip
    values = resolve(template, raw, now=NOW).values
    assert values["days"] == 5 and values["options"] == ["summary", "geo"]
    assert values["start"] == "2024-05-07T12:00:00Z"


def test_cli_secret_from_environment(template, monkeypatch):
    monkeypatch.setenv("NBCATALOG_API_TOKEN", "from-env")
    command = click.Command("run", params=cli_options(template), callback=lambda **kw: kw)
    raw = raw_from_cli(template, command.main([], standalone_mode=False))
    assert raw["api_token"] == "from-env"
    help_text = command.get_help(click.Context(command))
    assert "NBCATALOG_API_TOKEN" in help_text and "from-env" not in help_text


def test_resolve_on_fixture_template_files():
    fixture = Path(__file__).parent / "fixtures" / "templates" / "network" / "ip_fixture.ipynb"
    template = load_template(fixture)
    with pytest.raises(ParameterError, match=re.escape("ip_fixture needs ip (IP address)")):
        resolve(template, {"data_source": SOURCE})
    values = resolve(template, {"ip": "203.0.113.77", "data_source": SOURCE}).values
    assert values["options"] == ["flows"]


def test_options_default_from_the_cell_when_metadata_has_none(tmp_path):
    params = (
        'start: str = ""  # s\nend: str = ""  # e\ndata_source: str = ""  # d\n'
        'options: list = ["a", "b"]  # parts\n'
    )
    template = load_template(write_template(tmp_path, "cell_opts", parameters=params, options={}))
    assert resolve(template, {"data_source": SOURCE}).values["options"] == ["a", "b"]
    assert resolve(template, {"options": "-a", "data_source": SOURCE}).values["options"] == ["b"]
    with pytest.raises(ParameterError, match="accepted: a, b"):
        resolve(template, {"options": ["c"], "data_source": SOURCE})
