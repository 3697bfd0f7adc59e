"""Hardening of parameter validation: secrets never echoed, hostile sizes and ranges.

Every path that validates a parameter (``nbcatalog.parameters.resolve``, the CLI,
batch and schedule checks) must name what was wrong without repeating a secret's
value, turn out-of-range dates and spans into a usage error (exit 2, not an
OverflowError) and shorten long echoed values.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from template_factory import write_template

from nbcatalog.batch import _prepare
from nbcatalog.errors import ParameterError
from nbcatalog.parameters import parse_timeout, resolve, shown
from nbcatalog.schedules.spec import check_against_catalog, parse_schedule
from nbcatalog.template import load_template

NOW = dt.datetime(2024, 5, 8, 12, 0, tzinfo=dt.timezone.utc)
SOURCE = "msticpy:LocalData"
SECRET = "Hunter2-S3cr3t-Value"
PARAMS = (
    'host: str = ""  # host name\n'
    "api_key: int = 0  # numeric key of the lookup service\n"
    "client_secret: dict = {}  # settings of the lookup client\n"
    'vault_token: str = ""  # token, must look like a host name (tests only)\n'
    "retries: int = 1  # retries\n"
    'start: str = ""  # start\n'
    'end: str = ""  # end\n'
    'data_source: str = ""  # source\n'
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("harden")
    write_template(
        folder,
        "secret_probe",
        parameters=PARAMS,
        sections=[("summary", "## Summary", ["x = 1"])],
        options={},
        entity_kinds={"host": "host", "vault_token": "host"},
    )
    return folder


@pytest.fixture(scope="module")
def template(folder):
    return load_template(folder / "host" / "secret_probe.ipynb")


def _cli(folder, monkeypatch, *args: str):
    from nbcatalog.cli.main import main

    monkeypatch.setenv("NBCATALOG_PATH", str(folder))
    monkeypatch.setenv("NBCATALOG_OUTPUT", str(folder / "out"))
    return CliRunner().invoke(main, list(args), catch_exceptions=True)


BAD_SECRETS = [
    ("api_key", SECRET),  # not a whole number
    ("client_secret", SECRET + "{"),  # not JSON
    ("vault_token", SECRET + " <b>"),  # not a valid host (entity check)
]


@pytest.mark.parametrize(("name", "value"), BAD_SECRETS)
def test_resolve_names_the_secret_but_never_echoes_its_value(template, name, value):
    with pytest.raises(ParameterError) as caught:
        resolve(template, {name: value, "data_source": SOURCE}, now=NOW)
    message = str(caught.value)
    assert name in message and SECRET not in message
    assert "secret" in message  # says why the value is not shown
    assert SECRET not in repr(caught.value.__cause__) and caught.value.__cause__ is None


def test_a_secret_in_a_list_is_not_echoed_either(template):
    with pytest.raises(ParameterError) as caught:
        resolve(template, {"client_secret": {"k": {SECRET}}, "data_source": SOURCE}, now=NOW)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(("name", "value"), BAD_SECRETS)
def test_cli_error_and_json_never_echo_a_secret(folder, monkeypatch, name, value):
    flag = "--" + name.replace("_", "-")
    result = _cli(folder, monkeypatch, "run", "secret_probe", flag, value, "--json")
    assert result.exit_code == 2, result.output
    assert name.replace("_", "-") in result.output or name in result.output
    assert SECRET not in result.output  # CliRunner mixes stderr in


def test_cli_secret_from_environment_is_not_echoed(folder, monkeypatch):
    monkeypatch.setenv("NBCATALOG_API_KEY", SECRET)
    result = _cli(folder, monkeypatch, "run", "secret_probe", "--json")
    assert result.exit_code == 2 and "api_key" in result.output
    assert SECRET not in result.output


def test_batch_parameter_set_errors_never_echo_a_secret(template):
    sets = [{"host": "WKSTN-1", "api_key": "7"}, {"host": "WKSTN-2", "api_key": SECRET}]
    with pytest.raises(ParameterError) as caught:
        _prepare(template, sets, {"data_source": SOURCE})
    message = str(caught.value)
    assert "parameter set 2" in message and "WKSTN-2" in message
    assert SECRET not in message


def test_batch_clash_message_redacts_secrets(template):
    sets = [{"host": "WKSTN-1", "api_key": SECRET, "retries": 2}]
    with pytest.raises(ParameterError) as caught:
        _prepare(template, sets, {"retries": 3, "data_source": SOURCE})
    assert "retries" in str(caught.value) and SECRET not in str(caught.value)


def test_batch_outcome_key_and_table_redact_secrets(template):
    from nbcatalog.batch import param_key

    key = param_key({"host": "WKSTN-1", "api_key": SECRET}, secrets={"api_key"})
    assert key == "host=WKSTN-1, api_key=<redacted>"


def test_schedule_check_never_echoes_a_secret(folder, monkeypatch):
    monkeypatch.setenv("NBCATALOG_PATH", str(folder))
    spec = parse_schedule(
        {
            "jobs": [
                {
                    "name": "probe",
                    "notebooklet": "secret_probe",
                    "cron": "0 6 * * *",
                    "parameters": {"host": "WKSTN-1", "api_key": SECRET},
                }
            ]
        }
    )
    problems = check_against_catalog(spec)
    assert len(problems) == 1 and "api_key" in problems[0]
    assert SECRET not in problems[0]


def test_web_form_validation_shares_the_redacted_message(template):
    from nbcatalog.web import forms

    raw = forms.raw_from_form(template, {"host": "WKSTN-1", "api_key": SECRET})
    with pytest.raises(ParameterError) as caught:
        resolve(template, {**raw, "data_source": SOURCE}, now=NOW)
    assert SECRET not in str(caught.value)


# ----------------------------------------------------------- out-of-range input

OUT_OF_RANGE = [
    {"start": "0001-01-01T00:00:00+14:00"},
    {"end": "9999-12-31T23:59:59-14:00"},
    {"last": "99999999999d"},
    {"last": "99999999999999999999999999w"},
    {"end": "0001-01-02", "last": "2d"},
    {"start": "0001-01-01T00:00:00"},  # default end - start is fine; start itself valid
]


@pytest.mark.parametrize("raw", OUT_OF_RANGE[:5])
def test_out_of_range_times_are_usage_errors(template, raw):
    with pytest.raises(ParameterError) as caught:
        resolve(template, {**raw, "data_source": SOURCE}, now=NOW)
    message = str(caught.value)
    assert "between" in message or "too long" in message or "before" in message


def test_the_earliest_valid_start_still_works(template):
    values = resolve(template, {**OUT_OF_RANGE[5], "data_source": SOURCE}, now=NOW).values
    assert values["start"] == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "args",
    [
        ["--start", "0001-01-01T00:00:00+14:00"],
        ["--last", "99999999999d"],
        ["--timeout", "nan"],
        ["--timeout", "inf"],
        ["--timeout", "-1"],
        ["--timeout", "1e999"],
    ],
)
def test_cli_out_of_range_exits_2_without_traceback(folder, monkeypatch, args):
    result = _cli(folder, monkeypatch, "run", "secret_probe", "--host", "WKSTN-1", *args)
    assert result.exit_code == 2, result.output
    assert (
        "Traceback" not in result.output
        and result.exception is None
        or isinstance(result.exception, SystemExit)
    )
    assert args[0] in result.output or args[0].lstrip("-") in result.output


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, "5", True])
def test_timeout_must_be_a_finite_positive_number(value):
    with pytest.raises(ParameterError, match="timeout"):
        parse_timeout(value)


def test_timeout_accepts_numbers_and_text():
    assert parse_timeout(2) == 2.0 and parse_timeout(None) is None


def test_run_rejects_a_nan_timeout_before_running(folder, monkeypatch):
    import nbcatalog

    monkeypatch.setenv("NBCATALOG_PATH", str(folder))
    out = folder / "never"
    with pytest.raises(ParameterError, match="timeout"):
        nbcatalog.run("secret_probe", host="WKSTN-1", timeout=float("nan"), output_dir=out)
    assert not out.exists()  # nothing written for a refused run


def test_long_echoed_values_are_shortened_with_a_marker(template):
    long_value = "x" * 5000
    messages = []
    for raw in (
        {"host": long_value + "<"},
        {"retries": long_value},
        {"start": long_value},
        {"last": long_value},
        {long_value: 1},
        {"data_source": long_value},
    ):
        with pytest.raises(ParameterError) as caught:
            resolve(template, {"data_source": SOURCE, **raw}, now=NOW)
        messages.append(str(caught.value))
    for message in messages:
        assert len(message) < 600, message[:200]
        assert "5,000 characters" in message or "5,001 characters" in message, message


def test_shown_marks_what_was_cut():
    assert shown("abc") == "'abc'"
    cut = shown("y" * 5000)
    assert len(cut) < 120 and cut.endswith("(5,000 characters)")
    assert re.match(r"'y+", cut)


# ------------------------------------------------------------- accepted forms


@pytest.fixture(scope="module")
def account_template():
    from nbcatalog.catalog import get_template

    return get_template("account_summary")


@pytest.mark.parametrize("value", ["nosuch", "windows:", "mac:bob", ":bob", "windows:a\nb"])
def test_account_id_form_is_checked_up_front(account_template, value):
    with pytest.raises(ParameterError) as caught:
        resolve(account_template, {"account_id": value, "data_source": SOURCE}, now=NOW)
    message = str(caught.value)
    assert "account_id" in message and "windows:contoso\\bob" in message
    assert "entra" in message and "linux" in message


@pytest.mark.parametrize("value", ["windows:contoso\\bob", "linux:root", "entra:bob@contoso.com"])
def test_account_id_accepts_the_ids_the_template_lists(account_template, value):
    values = resolve(account_template, {"account_id": value, "data_source": SOURCE}).values
    assert values["account_id"] == value


def test_cli_account_id_nosuch_exits_2_before_running(monkeypatch, tmp_path):
    from nbcatalog.cli.main import main

    monkeypatch.setenv("NBCATALOG_OUTPUT", str(tmp_path / "out"))
    result = CliRunner().invoke(main, ["run", "account-summary", "--account-id", "nosuch"])
    assert result.exit_code == 2, result.output
    assert "account_id" in result.output or "--account-id" in result.output
    assert not (tmp_path / "out").exists()
