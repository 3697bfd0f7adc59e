"""alert_ti_enrich and url_summary end to end on the demo store, in real kernels, offline.

Every kernel of this module starts with the network blocked: a `sitecustomize` put on
PYTHONPATH refuses (and records) every internet socket and name resolution, so the runs
prove that nothing here goes online. Each run happens once per module and the tests
read its Results, saved notebook and HTML report as an analyst would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers.offline import attempts
from run_helpers import cli_json, outputs_text

import nbcatalog
from nbcatalog.catalog import get_template
from nbcatalog.errors import ParameterError

pytestmark = pytest.mark.slow
pytest_plugins = ["helpers.offline_plugin"]  # offline, offline_pool

ATTACKER = "203.0.113.77"
URL = "http://malicious.example/payload.ps1"


@pytest.fixture(scope="module")
def runner(demo_db, offline_pool, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    cache: dict[str, object] = {}

    def run(name: str, **params):
        key = json.dumps([name, params], sort_keys=True, default=str)
        if key not in cache:
            settings = {"data_source": f"duckdb:{demo_db}", "silent": True, "quiet": True}
            cache[key] = nbcatalog.run(
                name, output_dir=out, pool=offline_pool, **{**settings, **params}
            )
        return cache[key]

    return run


def _assert_offline(netlog: Path) -> None:
    assert attempts(netlog) == "", "a run tried to go online"


def _assert_report(res, titles) -> str:
    page = Path(res.report_path).read_text(encoding="utf-8")
    for title in titles:
        assert f">{title}<" in page.replace('<a class="anchor-link"', "<")
    # Nothing in the page fetches from outside or links to attacker infrastructure.
    assert not re.search(r"<(script|img|iframe|link)\b[^>]*(src|href)=[\"']?(https?:)?//", page)
    assert not re.search(r"<a\b[^>]*href=[\"']?[a-z]+:", page, re.IGNORECASE)
    # The URL is text (in cells and the tables' inlined JSON), never an attribute value.
    assert not re.search(r"<[a-z][^>]*=[\"']?[^\"'>\s]*malicious\.example", page)
    assert '<script>alert("nbcatalog")</script>' not in page
    return page


# ------------------------------------------------------------------ alert_ti_enrich


def test_alert_ti_enrich_contract():
    t = get_template("alert-ti-enrich")
    assert [p.name for p in t.parameters] == [
        "entity",
        "alert_id",
        "start",
        "end",
        "data_source",
        "options",
    ]
    assert [s.id for s in t.sections] == ["alerts", "iocs", "ti", "ranked", "details", "verdict"]
    for name in ("enriched_results", "ti_results", "high_risk_alerts", "selected_alert"):
        assert name in t.glue_names


def test_alert_ti_enrich_ranks_the_attacker_alerts_high(runner, offline):
    res = runner("alert_ti_enrich", html=True)
    assert res.status == "ok"
    ranked = res["enriched_results"]
    assert len(ranked) == len(res["alerts"]) > 0
    naming = ranked[ranked["Entities"].str.contains(re.escape(ATTACKER), regex=True)]
    assert len(naming) >= 3
    assert set(naming["TiRisk"]) == {"high"}
    assert all(ATTACKER in m for m in naming["MatchedIocs"])
    assert set(naming["AlertDisplayName"]) <= set(res["high_risk_alerts"])
    # ranked worst first: no alert without a TI match comes before a high-risk one
    risks = ranked["TiRisk"].tolist()
    assert risks == sorted(risks, key=["high", "warning", "information", "none"].index)
    ti = res["ti_results"]
    assert {URL, "malicious.example", "192.0.2.66", ATTACKER} <= set(ti.loc[ti["Result"], "Ioc"])
    assert res["selected_alert"] == ranked.loc[0, "SystemAlertId"]
    page = _assert_report(
        res,
        [
            "Alerts",
            "Indicators in the alerts",
            "Threat intelligence",
            "Alerts ranked by TI risk",
            "Alert details",
        ],
    )
    assert "alert_id not given: showing the highest-risk alert" in page
    _assert_offline(offline)


def test_alert_ti_enrich_options_off(runner):
    res = runner("alert_ti_enrich", options=["-ti", "-decode", "-details"])
    assert res.status == "ok"
    assert res["ti_results"].empty and res["high_risk_alerts"] == []
    assert set(res["enriched_results"]["TiRisk"]) == {"none"}
    assert res["selected_alert"] == ""
    for section, option in (("ti", "ti"), ("details", "details")):
        assert f"option &#x27;{option}&#x27; is off" in outputs_text(res, section)
    assert "option &#x27;ti&#x27; is off: alerts are not ranked" in outputs_text(res, "ranked")
    # decode off: the URL of the encoded PowerShell comes only from the alert's url entity
    default = runner("alert_ti_enrich", html=True)
    on, off = default["alert_iocs"], res["alert_iocs"]
    assert set(on.loc[on["EntityType"] == "process", "Ioc"]) >= {URL}
    assert off[off["EntityType"] == "process"].empty
    assert URL in set(off["Ioc"])


def test_alert_picker_reruns_for_the_chosen_alert(runner):
    from nbcatalog.nblib.pickers import picker

    res = runner("alert_ti_enrich", html=True)
    chosen = res["enriched_results"].iloc[-1]
    calls = []

    def run(name, silent=True, **params):
        calls.append(params)
        return runner(name, **params)

    box = picker(res, "alert_id", run=run)
    box.dropdown.value = chosen["SystemAlertId"]
    box.pick()
    again = box.last_results
    assert calls[0]["alert_id"] == chosen["SystemAlertId"]
    assert again["selected_alert"] == chosen["SystemAlertId"]
    details = outputs_text(again, "details")
    assert "alert_id not given" not in details
    assert chosen["SystemAlertId"] in details


def test_alert_ti_enrich_from_the_shell_for_one_entity(demo_db, offline, tmp_path):
    summary = cli_json(
        "run",
        "alert-ti-enrich",
        "--entity",
        ATTACKER,
        "--source",
        f"duckdb:{demo_db}",
        "--output",
        str(tmp_path),
        "--json",
        timeout=300,
    )
    assert summary["status"] == "ok"
    results = summary["results"]
    assert results["enriched_results"]["rows"] >= 3
    assert results["alerts"]["rows"] == results["enriched_results"]["rows"]
    assert "RDP brute force followed by successful logon" in results["high_risk_alerts"]
    assert (
        "Outbound connection to a known command-and-control server"
        not in (results["high_risk_alerts"])
    )
    _assert_offline(offline)


# ------------------------------------------------------------------ url_summary


def test_url_summary_contract():
    t = get_template("url-summary")
    assert [p.name for p in t.parameters] == ["url", "start", "end", "data_source", "options"]
    assert [s.id for s in t.sections] == [
        "parts",
        "ti",
        "alerts",
        "bookmarks",
        "sightings",
        "flows",
        "hosts",
        "online",
        "summary",
        "verdict",
    ]


def test_url_summary_on_the_planted_url(runner, offline):
    res = runner("url_summary", url=URL, html=True)
    assert res.status == "ok"
    parts = res["url_parts"]
    assert (parts["Host"], parts["RegisteredDomain"], parts["Path"]) == (
        "malicious.example",
        "malicious.example",
        "/payload.ps1",
    )
    ti = res["ti_results"]
    hits = ti[ti["Result"]]
    assert set(hits["Ioc"]) == {URL, "malicious.example"} and set(hits["Severity"]) == {"high"}
    assert res["alert_names"] == ["Encoded PowerShell download cradle"]
    assert set(res["hosts"]["Host"]) == {"WKSTN-042", "LNX-WEB01"}
    assert res["known_addresses"]["Address"].tolist() == ["192.0.2.66"]
    assert set(res["flows"]["VMName"]) == {"WKSTN-042"}
    assert res["bookmarks"].empty and res["dns_results"].empty
    page = _assert_report(
        res,
        [
            "Parts of the URL",
            "Threat intelligence",
            "Related alerts",
            "Related bookmarks",
            "Log lines that mention it",
            "Network flows",
            "Hosts that reached it",
            "Online look-ups",
            "Summary",
        ],
    )
    for switch in ("dns", "whois", "screenshot"):
        assert f"[enrichment.url] {switch} = true" in page
    assert "no bookmark in" in page
    _assert_offline(offline)


def test_url_summary_options_off(runner):
    off = ["-ti", "-alerts", "-bookmarks", "-hosts", "-flows", "-online"]
    res = runner("url_summary", url=URL, options=off)
    assert res.status == "ok"
    for name in ("ti_results", "related_alerts", "bookmarks", "sightings", "hosts", "flows"):
        assert res[name].empty, name
    for section, option in (
        ("ti", "ti"),
        ("alerts", "alerts"),
        ("bookmarks", "bookmarks"),
        ("sightings", "hosts"),
        ("hosts", "hosts"),
        ("flows", "flows"),
        ("online", "online"),
    ):
        assert f"option &#x27;{option}&#x27; is off" in outputs_text(res, section), section
    assert res["url_parts"]["Host"] == "malicious.example"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(document.domain)", "is not a valid url"),
        ("http://evil.example/?q=' or 1=1 --", "is not a valid url"),
        ('http://evil.example/"onmouseover="alert(1)', "is not a valid url"),
        ("", "url"),
    ],
)
def test_hostile_urls_are_refused_before_a_kernel(demo_db, tmp_path, url, message):
    with pytest.raises(ParameterError, match=message):
        nbcatalog.run(
            "url_summary",
            url=url,
            data_source=f"duckdb:{demo_db}",
            output_dir=tmp_path,
            silent=True,
            quiet=True,
        )
    assert not list(tmp_path.iterdir())  # no run folder: refused before anything ran


def test_long_url_with_query_language_is_a_literal_value(runner, offline):
    url = "http://evil.example/" + "a" * 3000 + "?q=1|union%20*;DROP%20TABLE%20SecurityAlert--"
    res = runner("url_summary", url=url, html=True)
    assert res.status == "no_data"  # nothing mentions it and no TI lists it
    assert res.no_data["entity"] == {"kind": "url", "value": url}
    assert "NO DATA" in res.report_path.read_text(encoding="utf-8")
    assert res["url_parts"]["Url"] == url
    assert res["url_parts"]["Query"] == "q=1|union%20*;DROP%20TABLE%20SecurityAlert--"
    assert not res["ti_results"]["Result"].any()
    assert res["related_alerts"].empty and res["hosts"].empty
    _assert_report(res, ["Parts of the URL", "Summary"])
    again = runner("url_summary", url=URL, html=True)
    assert len(again["related_alerts"]) == 1  # nothing was dropped from the store
    _assert_offline(offline)


def test_dns_runs_in_the_kernel_only_when_configured(
    demo_db, offline, offline_pool, tmp_path, monkeypatch
):
    _assert_offline(offline)  # the module's runs without configuration stayed offline
    config = tmp_path / "config.toml"
    config.write_text("[enrichment.url]\ndns = true\n", encoding="utf-8")
    monkeypatch.setenv("NBCATALOG_CONFIG", str(config))
    try:
        res = nbcatalog.run(
            "url_summary",
            url=URL,
            data_source=f"duckdb:{demo_db}",
            output_dir=tmp_path / "out",
            options=["online"],
            pool=offline_pool,
            silent=True,
            quiet=True,
        )
        tried = attempts(offline)
    finally:
        offline.write_text("", encoding="utf-8")
    assert res.status == "ok"
    assert tried == "getaddrinfo ('malicious.example',)\n"  # DNS only, for the URL's host
    online = outputs_text(res, "online")
    assert "did not resolve" in online and "internet access refused in this test" in online
    assert "[enrichment.url] whois = true" in online  # the others stay off


def test_an_empty_store_gives_sections_that_say_so(runner, tmp_path_factory):
    from nbcatalog.data.store import Store

    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    Store.open(path).close()
    source = f"duckdb:{path}"
    alerts = runner("alert_ti_enrich", entity=ATTACKER, data_source=source, html=True)
    # Sections still say why they are empty, and the run says no_data (it used to say ok).
    assert alerts.status == "no_data" and alerts["enriched_results"].empty
    assert alerts.no_data["reason"].startswith(f"no alerts naming {ATTACKER} in ")
    assert "no alerts in" in outputs_text(alerts, "alerts")
    assert "no alerts to show" in outputs_text(alerts, "details")
    url = runner("url_summary", url=URL, data_source=source, html=True)
    assert url.status == "no_data"
    summary = url["summary"].set_index("Item")
    assert (summary["Count"] == 0).all()
    assert summary.loc["TI matches", "Note"] == "neither the URL nor its domain is in any TI source"
    assert summary.loc["Related alerts", "Note"].startswith("no alert in")
    assert summary.loc["Flows", "Note"] == "no address of malicious.example is known offline"
