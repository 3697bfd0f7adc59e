"""`nbcatalog web` as a real server process: its security rules, seen from outside.

The output root holds run folders written here in the runner's shape (run.json,
report, notebook, a data file) and recorded in the history, some with hostile
text in every field, plus a symlink that points out of the root. Requests are
raw HTTP (`http.client`), so paths arrive exactly as an attacker writes them.
No kernel starts (`--no-warm`, and no run is submitted): the runs themselves are
the browser test's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
from helpers.webserver import NBCATALOG, TOKEN, Client, WebServer, error_text, token_hash

from nbcatalog import history

FIXTURE_TEMPLATES = Path(__file__).parent / "fixtures" / "templates"
HOSTILE = '<script>alert("web")</script>'
SECRET = "s3cr3t-never-shown-0xC0FFEE"
RUN_OK = "host_summary/20260101T060000Z-a1b2c3"
RUN_NO_DATA = "host_summary/20260101T070000Z-d4e5f6"
RUN_ODD = "account_summary/20260101T080000Z-0a0b0c"
RUN_SECRET = "fixture_ok/20260101T090000Z-0d0e0f"
RUN_LAZY = "host_logons_summary/20260101T100000Z-1a2b3c"


def _write_run(root: Path, run: str, **info) -> Path:
    """A run folder as the runner leaves it, recorded in the history."""
    folder = root / run
    (folder / "data").mkdir(parents=True)
    template = run.split("/")[0]
    base = {
        "run_id": folder.name,
        "template": template,
        "title": template.replace("_", " ").capitalize(),
        "parameters": {"start": "2025-12-25T06:00:00Z", "end": "2026-01-01T06:00:00Z"},
        "data_source": "duckdb:/srv/demo.duckdb",
        "start": "2025-12-25T06:00:00Z",
        "end": "2026-01-01T06:00:00Z",
        "labels": {},
        "status": "ok",
        "started": "2026-01-01T06:00:00+00:00",
        "finished": "2026-01-01T06:00:04+00:00",
        "duration": 4.2,
        "error": None,
        "notebook": str(folder / "notebook.ipynb"),
        "report": str(folder / "report.html"),
    }
    base.update(info)
    (folder / "run.json").write_text(json.dumps(base), encoding="utf-8")
    (folder / "notebook.ipynb").write_text('{"cells": [], "nbformat": 4}', encoding="utf-8")
    (folder / "report.html").write_text(
        f"<html><body><h1>Report of {template}</h1>{HOSTILE}</body></html>", encoding="utf-8"
    )
    (folder / "data" / "alerts.parquet").write_bytes(b"PAR1 not really")
    (folder / ".report.html.x1y2.tmp").write_text("half a file", encoding="utf-8")
    history.record_run(folder)
    return folder


def _write_lazy_notebook(folder: Path) -> None:
    """The notebook of a silent run: one chart saved as a stand-in, not drawn."""
    import nbformat
    import pandas as pd

    from nbcatalog.lazycharts import LazyChart

    counts = pd.DataFrame({"Account": ["root", "deploy"], "Success": [0, 1], "Failure": [24, 0]})
    title = "Logons by account"
    chart = LazyChart(
        "nbcatalog.nblib.logonplots.result_bars", [counts, "Account"], {"title": title}, title
    )
    output = nbformat.v4.new_output("display_data", data=chart._repr_mimebundle_())
    cell = nbformat.v4.new_code_cell("glue('plots', chart)", outputs=[output])
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(folder / "notebook.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("web")
    root = work / "output"
    outside = work / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the output root", encoding="utf-8")
    (outside / "run.json").write_text('{"status": "ok"}', encoding="utf-8")
    ok = _write_run(
        root,
        RUN_OK,
        parameters={
            "host": HOSTILE,
            "start": "2025-12-25T06:00:00Z",
            "end": "2026-01-01T06:00:00Z",
        },
        labels={"trigger": "web", "user": f"eve{HOSTILE}"},
        findings=[
            {"severity": "low", "text": "a new scheduled task", "section": "tasks"},
            {"severity": "High", "text": f"RDP brute force {HOSTILE}", "section": "logons"},
            {"severity": f"<b>{HOSTILE}</b>", "text": "odd severity", "section": "x"},
        ],
        diff={"summary": f"2 new alerts {HOSTILE}", "new_alerts": 2},
    )
    os.symlink(outside / "secret.txt", ok / "leak.txt")
    os.symlink(outside, root / "host_summary" / "20260101T000000Z-outsid")
    _write_run(root, RUN_NO_DATA, status="no_data", parameters={"host": "WKSTN-404"})
    _write_run(
        root,
        RUN_ODD,
        status=f"weird{HOSTILE}",
        parameters={"account": "bob"},
        error={"kind": "exception", "message": f"boom {HOSTILE}", "exception_type": "KeyError"},
    )
    _write_run(
        root,
        RUN_SECRET,
        parameters={"host": "WKSTN-7", "count": 4, "api_token": "<redacted>"},
        options=["extra"],
    )
    _write_lazy_notebook(_write_run(root, RUN_LAZY, parameters={"host": "web-fra-03"}))
    env = {
        "NBCATALOG_CONFIG": str(work / "no-config.toml"),
        "NBCATALOG_WEB_TOKEN_HASH": token_hash(),
        "NBCATALOG_SOURCE": f"duckdb:{work / 'absent.duckdb'}",
        "NBCATALOG_PATH": str(FIXTURE_TEMPLATES),
    }
    server = WebServer(root, env=env, args=("--no-warm",)).start()
    runs = _run_folders(root)
    yield {"server": server, "root": root, "work": work, "env": env, "runs": runs}
    server.stop()


@pytest.fixture
def user(site) -> Client:
    client = Client(site["server"])
    assert client.login().status == 303
    return client


def _run_folders(root: Path) -> set[str]:
    return {p.parent.relative_to(root).as_posix() for p in root.glob("*/*/run.json")}


# ------------------------------------------------------------- logged out


GET_ROUTES = (
    "/",
    "/history",
    "/history?status=failed",
    "/run/host_summary",
    "/jobs/abc",
    f"/runs/{RUN_OK}",
    f"/runs/{RUN_OK}/rerun",
    f"/files/{RUN_OK}/report.html",
    f"/files/{RUN_OK}/notebook.ipynb",
    "/no/such/page",
)
POST_ROUTES = ("/run/host_summary", "/logout", "/history", f"/files/{RUN_OK}/report.html")


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_page_sends_a_stranger_to_the_login(site, path):
    for cookie in (None, "nbcatalog_session=forged-session-id"):
        reply = Client(site["server"]).get(path, headers={"Cookie": cookie} if cookie else {})
        assert reply.status == 303, path
        assert reply.location.startswith("/login?next=")
        assert HOSTILE not in reply.body and "report" not in reply.body.lower()


@pytest.mark.parametrize("path", POST_ROUTES)
def test_every_post_from_a_stranger_is_refused(site, path):
    reply = Client(site["server"]).post(path, {"host": "WKSTN-042"})
    assert reply.status == 401
    assert _run_folders(site["root"]) == site["runs"]


def test_login_page_and_stylesheet_are_the_only_public_things(site):
    client = Client(site["server"])
    assert client.get("/login").status == 200
    css = client.get("/static/style.css")
    assert css.status == 200 and "status-no_data" in css.body


# ------------------------------------------------------------------- login


def test_wrong_token_is_refused_and_right_one_gives_a_strict_cookie(site):
    client = Client(site["server"])
    wrong = client.login("not-the-token")
    assert wrong.status == 401
    assert "Wrong user name, password or token." in error_text(wrong.body)
    assert client.get("/history").status == 303
    good = client.login()
    assert good.status == 303 and good.location == "/"
    cookie = next(c for c in good.all("set-cookie") if c.startswith("nbcatalog_session="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http on loopback
    assert client.get("/history").status == 200


def test_cookie_is_secure_when_the_trusted_proxy_says_https(site):
    client = Client(site["server"])
    reply = client.login(headers={"X-Forwarded-Proto": "https"})
    cookie = next(c for c in reply.all("set-cookie") if c.startswith("nbcatalog_session="))
    assert "; secure" in cookie.lower()


def test_login_form_needs_its_own_token(site):
    client = Client(site["server"])
    reply = client.post("/login", {"user": "", "password": TOKEN})
    assert reply.status == 403
    assert "nbcatalog_session" not in " ".join(reply.all("set-cookie"))


def test_login_is_throttled_per_address_after_five_failures(site):
    attacker = {"X-Forwarded-For": "198.51.100.7"}  # through the trusted local proxy
    client = Client(site["server"])
    for _ in range(5):
        assert client.login("guess", headers=attacker).status == 401
    locked = client.login(TOKEN, headers=attacker)  # even the right token, for now
    assert locked.status == 429
    assert int(locked.header("retry-after")) > 0
    assert "Too many failed logins" in error_text(locked.body)
    other = Client(site["server"]).login(TOKEN, headers={"X-Forwarded-For": "198.51.100.8"})
    assert other.status == 303


def test_logout_needs_the_token_and_ends_the_session(site, user):
    assert user.post("/logout", {}).status == 403
    assert user.get("/history").status == 200
    session = dict(user.cookies)
    assert user.post("/logout", {"csrf_token": user.csrf()}).status == 303
    replay = Client(site["server"])
    replay.cookies = session  # the old cookie, kept by an attacker
    assert replay.get("/history").status == 303


# -------------------------------------------------------------------- CSRF


def test_posts_without_the_right_token_or_from_another_site_do_nothing(site, user):
    token = user.csrf("/run/host_summary")
    fields = {"host": "WKSTN-042", "last": "24h"}
    assert user.post("/run/host_summary", fields).status == 403
    assert user.post("/run/host_summary", {**fields, "csrf_token": "x" * 43}).status == 403
    other = Client(site["server"])
    assert other.login().status == 303
    assert user.post("/run/host_summary", {**fields, "csrf_token": other.csrf()}).status == 403
    cross = {"Origin": "http://evil.example"}
    reply = user.post("/run/host_summary", {**fields, "csrf_token": token}, headers=cross)
    assert reply.status == 403 and "another site" in error_text(reply.body)
    sec_fetch = {"Sec-Fetch-Site": "cross-site"}
    assert (
        user.post("/run/host_summary", {**fields, "csrf_token": token}, headers=sec_fetch).status
        == 403
    )
    assert _run_folders(site["root"]) == site["runs"]
    assert "In progress" not in user.get("/history").body


# ----------------------------------------------------------------- files


TRAVERSALS = (
    "/files/../history.sqlite",
    "/files/%2e%2e/history.sqlite",
    "/files/history.sqlite",
    "/files/index.html",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    f"/files/{RUN_OK}/../../history.sqlite",
    f"/files/{RUN_OK}/..%2f..%2fhistory.sqlite",
    f"/files/{RUN_OK}/data/../../../../etc/passwd",
    f"/files/{RUN_OK}/..\\..\\history.sqlite",
    f"/files/{RUN_OK}/leak.txt",
    f"/files/{RUN_OK}/.report.html.x1y2.tmp",
    f"/files/{RUN_OK}/./report.html",
    f"/files/{RUN_OK}/data",
    "/files/host_summary/20260101T000000Z-outsid/secret.txt",
    "/files/host_summary/20260101T000000Z-outsid/run.json",
    "/runs/host_summary/..",
    "/runs/host_summary/20260101T000000Z-outsid",
    "/runs/../outside",
    f"/runs/{RUN_OK}%00/rerun",
)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_a_run_folder_is_served(site, user, path):
    reply = user.get(path)
    assert reply.status == 404, (path, reply.status)
    assert "outside the output root" not in reply.body and "SQLite format" not in reply.body


def test_report_is_served_under_a_policy_that_runs_no_script(site, user):
    reply = user.get(f"/files/{RUN_OK}/report.html")  # a report naming no script of its own
    assert reply.status == 200
    assert reply.header("content-type").startswith("text/html")
    csp = reply.header("content-security-policy")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["default-src"] == ["'none'"]
    assert "script-src" not in directives  # so scripts fall back to 'none'
    assert directives["img-src"] == ["data:"] and directives["sandbox"] == []
    assert directives["frame-ancestors"] == ["'none'"]
    assert reply.header("x-content-type-options") == "nosniff"
    assert "Report of host_summary" in reply.body


def test_report_scripts_run_only_by_the_hashes_its_own_policy_names(site, user):
    from nbcatalog.report_assets import csp_meta

    script = "document.title = 'tables ready';"
    page = site["root"] / RUN_OK / "interactive.html"
    page.write_text(
        f"<html><head>{csp_meta([script])}</head><body><script>{script}</script>"
        f"<script>alert('not listed')</script></body></html>",
        encoding="utf-8",
    )
    reply = user.get(f"/files/{RUN_OK}/interactive.html")
    assert reply.status == 200
    csp = reply.header("content-security-policy")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    meta = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', reply.body)
    own = next(d.split()[1:] for d in meta[1].split("; ") if d.startswith("script-src"))
    assert directives["script-src"] == own == [f"'sha256-{_sha256(script)}'"]
    assert directives["sandbox"] == ["allow-scripts"]  # opaque origin: never the app's
    assert directives["connect-src"] == ["'none'"] and directives["default-src"] == ["'none'"]


def _sha256(text: str) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@pytest.mark.parametrize(
    "name", ["notebook.ipynb", "run.json", "data/alerts.parquet"], ids=["nb", "json", "data"]
)
def test_notebooks_json_and_data_are_downloads(site, user, name):
    reply = user.get(f"/files/{RUN_OK}/{name}")
    assert reply.status == 200
    assert reply.header("content-disposition").startswith("attachment;")
    assert Path(name).name in reply.header("content-disposition")
    assert not reply.header("content-type").startswith("text/html")
    assert reply.header("x-content-type-options") == "nosniff"


def test_a_notebook_taken_from_the_web_has_its_charts_drawn(site, user):
    """A silent run's notebook holds stand-ins; whoever downloads it gets the charts."""
    saved = site["root"] / RUN_LAZY / "notebook.ipynb"
    assert "nbcatalog draw" in saved.read_text(encoding="utf-8")
    reply = user.get(f"/files/{RUN_LAZY}/notebook.ipynb")
    assert reply.status == 200
    outputs = json.loads(reply.body)["cells"][0]["outputs"]
    assert [sorted(o["data"]) for o in outputs] == [["image/png", "text/plain"]]
    assert "nbcatalog draw" not in reply.body
    assert json.loads(saved.read_text(encoding="utf-8")) == json.loads(reply.body)


# ------------------------------------------------------------------ pages


def test_app_pages_carry_strict_headers(site, user):
    for path in ("/", "/history", f"/runs/{RUN_OK}", "/run/host_summary"):
        reply = user.get(path)
        assert reply.status == 200, path
        csp = reply.header("content-security-policy")
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
        assert reply.header("x-frame-options") == "DENY"
        assert reply.header("x-content-type-options") == "nosniff"
        assert reply.header("cache-control") == "no-store"
        assert "<script" not in reply.body.lower()


def test_unknown_host_name_is_refused(site, user):
    reply = user.get("/", headers={"Host": "rebound.evil.example"})
    assert reply.status == 400


def test_history_lists_runs_with_status_escaped_and_filters(site, user):
    page = user.get("/history").body
    assert HOSTILE not in page and "&lt;script&gt;" in page
    for run in (RUN_OK, RUN_NO_DATA, RUN_ODD, RUN_SECRET):
        assert f'href="/runs/{run}"' in page
        assert f'href="/files/{run}/report.html"' in page
        assert f'href="/files/{run}/data/alerts.parquet"' in page
    assert '<span class="status status-no_data">no_data</span>' in page
    assert '<span class="status status-other">weird&lt;script&gt;' in page
    assert "1 high, 1 low, 1 other" in page  # the verdict from the findings
    assert '<small class="diff">2 new alerts &lt;script&gt;' in page  # and the diff summary
    assert ".tmp" not in page and "leak.txt" not in page
    only = user.get("/history?status=no_data").body
    assert RUN_NO_DATA in only and RUN_OK not in only
    by_template = user.get("/history?template=account_summary").body
    assert RUN_ODD in by_template and RUN_OK not in by_template
    hostile_filter = user.get(f"/history?status={HOSTILE}").body
    assert HOSTILE not in hostile_filter and "No runs match" in hostile_filter


def test_run_page_shows_findings_diff_and_error_as_text(site, user):
    page = user.get(f"/runs/{RUN_OK}").body
    assert HOSTILE not in page
    rows = re.findall(r'<span class="severity severity-(\w+)">(.*?)</span>', page)
    assert [cls for cls, _ in rows] == ["high", "low", "other"]  # most severe first
    assert unescape(rows[2][1]) == f"<b>{HOSTILE}</b>"
    assert f"RDP brute force {HOSTILE}" in unescape(page)
    assert f"2 new alerts {HOSTILE}" in unescape(page)
    odd = user.get(f"/runs/{RUN_ODD}").body
    assert HOSTILE not in odd
    assert f"boom {HOSTILE}" in unescape(re.search(r'<pre class="error">(.*?)</pre>', odd, re.S)[1])


def test_validation_errors_read_exactly_like_the_cli(site, user):
    token = user.csrf("/run/host_summary")
    reply = user.post(
        "/run/host_summary", {"csrf_token": token, "host": "bad host!", "last": "24h"}
    )
    assert reply.status == 422
    cli = subprocess.run(
        [str(NBCATALOG), "run", "host-summary", "--host", "bad host!", "--last", "24h"],
        env={**os.environ, **site["env"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 2
    assert error_text(reply.body) == cli.stderr.strip()
    assert 'value="bad host!"' in reply.body  # the form comes back as typed
    options = user.post(
        "/run/host_summary",
        {"csrf_token": token, "last": "5 days", "options_shown": "1", "option": "alerts"},
    )
    assert "last='5 days' is not a time span" in error_text(options.body)


def test_secrets_are_password_fields_never_echoed(site, user):
    token = user.csrf("/run/fixture_ok")
    page = user.get("/run/fixture_ok").body
    assert re.search(r'<input id="p-api_token" name="api_token" type="password"', page)
    reply = user.post(
        "/run/fixture_ok", {"csrf_token": token, "api_token": SECRET, "count": "many"}
    )
    assert reply.status == 422
    assert "parameter 'count': 'many' is not a whole number" in error_text(reply.body)
    assert SECRET not in reply.body


def test_rerun_form_is_prefilled_but_secrets_must_be_typed_again(site, user):
    page = user.get(f"/runs/{RUN_SECRET}/rerun").body
    assert re.search(r'name="host" type="text" value="WKSTN-7"', page)
    assert re.search(r'name="count" type="text" inputmode="decimal" value="4"', page)
    assert 'name="api_token" type="password" autocomplete="off" value=""' in page
    assert "type it again" in page and "&lt;redacted&gt;" not in page
    assert re.search(r'name="start" type="text" value="2025-12-25T06:00:00Z"', page)
    assert 'name="rerun_of" value="fixture_ok/20260101T090000Z-0d0e0f"' in page
    ticked = re.findall(r'name="option" value="(\w+)" checked', page)
    assert ticked == ["extra"]


def test_unknown_notebooklet_or_path_is_not_run(site, user):
    token = user.csrf()
    for name in (
        "no_such_thing",
        "..%2F..%2Ftests%2Ffixtures%2Ftemplates%2Ftest%2Ffixture_ok.ipynb",
    ):
        assert user.get(f"/run/{name}").status == 404
        assert user.post(f"/run/{name}", {"csrf_token": token}).status == 404


# --------------------------------------------------------- starting up


def test_generated_token_is_printed_once_and_an_exposed_address_warns(site):
    env = {k: v for k, v in site["env"].items() if k != "NBCATALOG_WEB_TOKEN_HASH"}
    root = site["work"] / "other-output"
    with WebServer(root, env=env, args=("--no-warm",), host="0.0.0.0") as server:
        assert "reachable from other machines" in server.stderr
        printed = re.findall(r"^  (\S{40,})$", server.stdout, re.M)
        assert len(printed) == 1
        client = Client(server)
        assert client.login("not-it").status == 401
        assert client.login(printed[0]).status == 303
        assert client.get("/history").status == 200
    assert printed[0] not in "".join(
        p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()
    )


def test_bad_config_is_refused_before_serving(site, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[web]\ntoken_hash = "plain-text-password"\n', encoding="utf-8")
    env = {**os.environ, **site["env"], "NBCATALOG_CONFIG": str(config)}
    env.pop("NBCATALOG_WEB_TOKEN_HASH")
    proc = subprocess.run(
        [str(NBCATALOG), "web", "--port", "0", "--output", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "[web] token_hash: not a password hash" in proc.stderr


def test_oversized_bodies_are_refused_before_parsing(site):
    client = Client(site["server"])
    reply = client.post("/login", {"user": "x" * (2 * 1024 * 1024), "password": "y"})
    assert reply.status == 413


def test_a_run_json_of_the_wrong_shape_is_a_clear_404(site, user):
    folder = site["root"] / "host_summary" / "20260102T000000Z-bad000"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text('["not", "a", "mapping"]', encoding="utf-8")
    reply = user.get("/runs/host_summary/20260102T000000Z-bad000")
    assert reply.status == 404 and "run.json cannot be read" in error_text(reply.body)
    assert user.get("/runs/host_summary/20260102T000000Z-bad000/rerun").status == 200
    assert user.get("/history").status == 200
