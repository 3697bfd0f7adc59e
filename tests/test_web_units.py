"""The web app's parts on their own: hashes, logins, sessions, throttle, paths, forms, findings.

The form tests check the promise that matters to a user: what the web form sends
and what the same values typed on the command line send resolve to the same
parameters, or fail with the same message (both go through `parameters.resolve`).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import click
import pytest
from nbcatalog.cli.template_options import cli_options, raw_from_cli
from starlette.datastructures import FormData

from nbcatalog.catalog import get_template
from nbcatalog.config import ConfigError
from nbcatalog.errors import ParameterError
from nbcatalog.parameters import resolve
from nbcatalog.template import load_template
from nbcatalog.web import files, forms
from nbcatalog.web.insights import run_insights
from nbcatalog.web.middleware import host_name, safe_next
from nbcatalog.web.passwords import HashFormatError, hash_secret, parse_hash, verify_secret
from nbcatalog.web.render import environment, status_class
from nbcatalog.web.sessions import LoginThrottle, SessionStore
from nbcatalog.web.settings import Credentials, load_credentials, load_settings

FIXTURE_OK = Path(__file__).parent / "fixtures" / "templates" / "test" / "fixture_ok.ipynb"
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
HOSTILE = '<script>alert("x")</script>'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------ hashes


def test_hash_round_trip_is_salted_and_rejects_other_secrets():
    first, second = hash_secret("correct horse"), hash_secret("correct horse")
    assert first != second  # a new salt each time
    assert verify_secret("correct horse", first) and verify_secret("correct horse", second)
    assert not verify_secret("correct hors", first)
    assert not verify_secret("", first)
    assert "correct horse" not in first


def test_hash_made_with_other_costs_still_verifies():
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"pw", salt=salt, n=2**12, r=8, p=2, dklen=64)
    stored = (
        f"scrypt${2**12}$8$2${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    )
    assert verify_secret("pw", stored) and not verify_secret("pW", stored)


@pytest.mark.parametrize(
    "stored, says",
    [
        ("plain-password", "not a password hash"),
        ("bcrypt$2b$12$abc$def$ghi", "not a password hash"),
        ("scrypt$x$8$1$AAAA$AAAA", "unreadable"),
        ("scrypt$16384$8$1$!!!$AAAA", "unreadable"),
        (f"scrypt${2**30}$8$1$" + "A" * 24 + "$" + "A" * 44, "costs out of range"),
        ("scrypt$1000$8$1$" + "A" * 24 + "$" + "A" * 44, "costs out of range"),
        ("scrypt$16384$8$1$AAAA$" + "A" * 44, "too short"),
    ],
)
def test_malformed_hashes_say_what_is_expected(stored, says):
    with pytest.raises(HashFormatError, match=says):
        parse_hash(stored)


# ------------------------------------------------------------------ logins


def test_credentials_log_in_users_and_the_token_and_nobody_else():
    creds = Credentials(users={"alice": hash_secret("alice-pw")}, token_hash=hash_secret("tok"))
    assert creds.login("alice", "alice-pw") == "alice"
    assert creds.login(" alice ", "alice-pw") == "alice"
    assert creds.login("alice", "tok") is None
    assert creds.login("", "tok") == "token"
    assert creds.login("", "alice-pw") is None
    assert creds.login("mallory", "alice-pw") is None
    assert creds.login("alice", "") is None
    only_users = Credentials(users={"alice": hash_secret("pw")}, token_hash=None)
    assert only_users.login("", "pw") is None


def test_credentials_come_from_config_and_the_environment_overrides_the_token():
    table = {"users": {"bob": hash_secret("b")}, "token_hash": hash_secret("from-config")}
    env_hash = hash_secret("from-env")
    creds = load_credentials(table, {"NBCATALOG_WEB_TOKEN_HASH": env_hash})
    assert creds.login("", "from-env") == "token" and creds.login("", "from-config") is None
    assert creds.login("bob", "b") == "bob"
    assert not load_credentials({}, {}).configured


@pytest.mark.parametrize(
    "table, says",
    [
        ({"users": {"bob": "hunter2"}}, r"\[web\] users.bob: not a password hash"),
        ({"users": ["bob"]}, r"\[web\] users: a table of user name = password hash"),
        ({"users": {" bob": hash_secret("x")}}, "spaces around it"),
        ({"token_hash": 42}, r"\[web\] token_hash: must be a password hash"),
    ],
)
def test_bad_login_config_is_refused_naming_the_key(table, says):
    with pytest.raises(ConfigError, match=says):
        load_credentials(table, {})


def test_config_file_with_a_web_table_loads_and_unknown_keys_are_named(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    monkeypatch.setenv("NBCATALOG_CONFIG", str(config))
    monkeypatch.delenv("NBCATALOG_WEB_TOKEN_HASH", raising=False)
    stored = hash_secret("pw")
    config.write_text(
        f'output_dir = "reports"\n[web]\nusers = {{ ann = "{stored}" }}\n'
        'secure_cookies = true\nallowed_hosts = ["soc.example.org"]\n',
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.output_root == tmp_path / "reports"  # the CLI's and schedules' root
    assert settings.secure_cookies is True
    assert settings.credentials.login("ann", "pw") == "ann"
    assert "soc.example.org" in settings.allowed_hosts and "localhost" in settings.allowed_hosts
    assert load_settings(secure_cookies=False).secure_cookies is False  # the option wins
    config.write_text("[web]\nsecure_cookie = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[web\] secure_cookie: unknown key \(accepted: "):
        load_settings()


# ---------------------------------------------------------- sessions, throttle


def test_sessions_expire_and_end():
    clock = Clock()
    store = SessionStore(lifetime_seconds=60, clock=clock)
    sid, session = store.create("alice")
    other, _ = store.create("bob")
    assert store.get(sid) is session and session.csrf != store.get(other).csrf
    clock.now += 59
    assert store.get(sid) is session
    store.end(other)
    assert store.get(other) is None
    clock.now += 2
    assert store.get(sid) is None
    assert store.get("") is None and store.get(None) is None


def test_throttle_locks_after_five_failures_until_the_window_passes():
    clock = Clock()
    throttle = LoginThrottle(max_failures=5, window_seconds=900, clock=clock)
    keys = ["ip:192.0.2.9", "user:alice"]
    for _ in range(4):
        throttle.failed(keys)
        clock.now += 10
    assert throttle.retry_after(keys) == 0
    throttle.failed(["ip:192.0.2.9"])
    assert throttle.retry_after(["ip:192.0.2.9"]) == pytest.approx(900 - 40)
    assert throttle.retry_after(["user:alice"]) == 0  # four failures for the name
    assert throttle.retry_after(["ip:192.0.2.10"]) == 0
    clock.now += 900 - 40
    assert throttle.retry_after(["ip:192.0.2.9"]) == 0
    throttle.failed(keys)
    throttle.succeeded(keys)
    assert throttle.retry_after(keys) == 0


# -------------------------------------------------------------------- paths


def test_only_plain_paths_inside_run_folders_resolve(tmp_path):
    root = tmp_path / "out"
    run = root / "host_summary" / "20260101T000000Z-abcdef"
    (run / "data").mkdir(parents=True)
    for name in ("run.json", "report.html", "data/x.parquet", ".run.json.tmp"):
        (run / name).write_text("x", encoding="utf-8")
    other = root / "host_summary" / "20260102T000000Z-123456"
    other.mkdir()
    (other / "run.json").write_text("{}", encoding="utf-8")
    (other / "report.html").write_text("other run", encoding="utf-8")
    (tmp_path / "secret").write_text("s", encoding="utf-8")
    os.symlink(tmp_path / "secret", run / "out.txt")
    os.symlink(other / "report.html", run / "borrowed.html")
    (root / "history.sqlite").write_text("db", encoding="utf-8")
    rel = "host_summary/20260101T000000Z-abcdef"
    assert files.run_file(root, f"{rel}/report.html") == (run / "report.html").resolve()
    assert files.run_file(root, f"{rel}/data/x.parquet") is not None
    for bad in (
        "history.sqlite",
        f"{rel}/out.txt",
        f"{rel}/borrowed.html",  # another run's file, through a link
        f"{rel}/.run.json.tmp",
        f"{rel}/../20260102T000000Z-123456/report.html",
        f"/{rel}/report.html",
        f"{rel}//report.html",
        f"{rel}\\report.html",
        f"{rel}/data",
    ):
        assert files.run_file(root, bad) is None, bad
    listed = [name for name, _ in files.listed_files(root, run.resolve())]
    assert listed == [f"{rel}/data/x.parquet", f"{rel}/report.html", f"{rel}/run.json"]
    assert files.run_folder(root, "host_summary", "..") is None


# -------------------------------------------------------------------- forms


def _cli_raw(template, argv: list[str]) -> dict:
    command = click.Command("run", params=cli_options(template), callback=lambda **kw: kw)
    return raw_from_cli(template, command.main(argv, standalone_mode=False))


def _outcome(template, raw):
    try:
        return resolve(template, {**raw, "data_source": "duckdb:/srv/x.duckdb"}, now=NOW).values
    except ParameterError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize(
    "fields, argv",
    [
        ({"host": "WKSTN-042", "last": "24h"}, ["--host", "WKSTN-042", "--last", "24h"]),
        ({"host": "", "last": "", "start": "", "end": ""}, []),
        ({"host": "bad host!"}, ["--host", "bad host!"]),
        (
            {"start": "2026-02-01", "end": "2026-01-01"},
            ["--start", "2026-02-01", "--end", "2026-01-01"],
        ),
        ({"last": "24h", "start": "2026-02-01"}, ["--last", "24h", "--start", "2026-02-01"]),
        ({"last": "a week"}, ["--last", "a week"]),
        (
            {"options_shown": "1", "option": ["alerts", "ti"]},
            ["--option", "alerts", "--option", "ti"],
        ),
        # every box unticked: no options at all (with a host: host_summary needs one)
        ({"options_shown": "1", "host": "WKSTN-042"}, None),
    ],
)
def test_web_form_and_cli_resolve_to_the_same_values_or_error(fields, argv):
    template = get_template("host_summary")
    pairs = [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
    from_web = _outcome(template, forms.raw_from_form(template, FormData(pairs)))
    if argv is None:
        assert from_web["options"] == []
        return
    assert from_web == _outcome(template, _cli_raw(template, argv))


def test_typed_fields_and_secrets_match_the_cli_too():
    template = load_template(FIXTURE_OK, origin="test")
    names = [f.name for f in forms.run_form(template).fields]
    assert names == ["host", "count", "api_token"]
    kinds = {f.name: f.kind for f in forms.run_form(template).fields}
    assert kinds == {"host": "text", "count": "number", "api_token": "password"}
    web = FormData([("count", "seven"), ("api_token", "s3cret")])
    cli = ["--count", "seven", "--api-token", "s3cret"]
    assert _outcome(template, forms.raw_from_form(template, web)) == _outcome(
        template, _cli_raw(template, cli)
    )
    assert "'seven' is not a whole number" in _outcome(template, forms.raw_from_form(template, web))
    again = forms.form_from_submission(template, web)
    assert {f.name: f.value for f in again.fields} == {
        "host": "",
        "count": "seven",
        "api_token": "",
    }


def test_form_from_a_past_run_fills_values_and_flags_secrets():
    template = load_template(FIXTURE_OK, origin="test")
    info = {
        "parameters": {"host": "WKSTN-7", "count": 4, "api_token": "<redacted>"},
        "start": "2026-01-01T00:00:00Z",
        "end": "2026-01-02T00:00:00Z",
        "options": ["extra"],
    }
    form = forms.form_from_run(template, info, "fixture_ok/x")
    values = {f.name: (f.value, f.reenter) for f in form.fields}
    assert values == {"host": ("WKSTN-7", False), "count": ("4", False), "api_token": ("", True)}
    assert (form.start, form.end, form.last) == ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "")
    assert [(o.name, o.checked) for o in form.options] == [("facts", False), ("extra", True)]


# ----------------------------------------------------------------- findings


def test_insights_sort_findings_count_a_verdict_and_keep_text_plain():
    info = {
        "findings": [
            {"severity": "low", "text": "new task", "section": "tasks"},
            {"severity": HOSTILE, "text": HOSTILE, "section": HOSTILE},
            {"severity": "HIGH", "text": "brute force", "section": "logons"},
            "a bare string finding",
            {"severity": "medium", "text": {"nested": [1, 2]}},
        ],
        "diff": {"summary": "1 new alert", "new": ["RDP brute force"]},
    }
    ins = run_insights(info)
    assert [f.severity_class for f in ins.findings] == ["high", "medium", "low", "other", "other"]
    assert ins.verdict == "1 high, 1 medium, 1 low, 2 other"
    assert ins.findings[1].text == '{"nested": [1, 2]}'
    assert ins.diff == ("1 new alert", "findings: 1 new")  # counts, not a JSON dump
    html = environment().get_template("_insights.html").render(insights=ins)
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert 'class="severity severity-other"' in html
    assert run_insights({"findings": "not a list", "diff": None}).empty
    assert run_insights({"findings": [{}] * 25}).more == 5


def test_insights_show_the_title_with_the_text_under_it():
    """Findings of the contract: a one-line title, the text as detail (both escaped)."""
    ins = run_insights(
        {
            "findings": [
                {
                    "severity": "high",
                    "title": f"LNX-WEB01 contacted 192.0.2.66:4444 every 10 min {HOSTILE}",
                    "text": "Beacon score 1.00 (1 = a perfect timer)",
                    "section": "beacons",
                }
            ]
        }
    )
    [finding] = ins.findings
    assert finding.text.startswith("LNX-WEB01 contacted") and finding.detail.startswith("Beacon")
    html = environment().get_template("_insights.html").render(insights=ins)
    assert "every 10 min &lt;script&gt;" in html and "<small>Beacon score 1.00" in html
    assert HOSTILE not in html


# ------------------------------------------------------------ small helpers


def test_redirect_targets_stay_on_this_site():
    assert safe_next("/runs/a/b?x=1") == "/runs/a/b?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil.example", "evil", "/\nx", ""):
        assert safe_next(bad) == "/"


def test_host_names_and_status_classes():
    assert host_name("Example.ORG:443") == "example.org"
    assert host_name("[::1]:8765") == "::1" and host_name("::1") == "::1"
    assert status_class("ok") == "status-ok" and status_class("abandoned") == "status-abandoned"
    assert status_class("no_data") == "status-no_data"
    assert status_class(HOSTILE) == "status-other" and status_class(None) == "status-other"
