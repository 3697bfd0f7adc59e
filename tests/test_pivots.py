"""msticpy pivot functions: Host.nbcatalog.host_summary("WKSTN-042") and friends.

Registration goes through msticpy's own Pivot API on the real entity classes. Most
tests give the pivot a recording `run` to see what nbcatalog.run would receive (the
value, entity attribute, time range); one runs host_summary for real on the demo
store through the pivot, in-process, with the Pivot timespan as its time range.
"""

from __future__ import annotations

import pandas as pd
import pytest
from run_helpers import Recorder

pytest.importorskip("msticpy")

from msticpy.datamodel.entities import Account, Host, IpAddress, Url  # noqa: E402
from msticpy.init.pivot import Pivot  # noqa: E402

from nbcatalog.pivots import pivot_targets, pivot_timespan, register_pivots  # noqa: E402


@pytest.fixture
def recorded():
    run = Recorder()
    register_pivots(run=run)
    yield run
    register_pivots()  # leave the real functions registered for other tests


def test_every_entity_template_is_registered():
    from nbcatalog.catalog import catalog

    added = register_pivots()
    assert "host_summary" in added["Host"] and "win_host_events" in added["Host"]
    assert added["Account"] == ["account_summary"]
    assert {"ip_summary", "network_flow_summary"} <= set(added["IpAddress"])
    assert added["Url"] == ["url_summary"]
    # Every template naming an entity kind is there, and nothing else.
    expected = {
        t.name
        for t in catalog()
        if set((t.metadata.get("entity_kinds") or {}).values())
        & {"host", "ip", "account", "url", "domain"}
    }
    assert {name for names in added.values() for name in names} == expected
    assert hasattr(Host.nbcatalog.host_summary, "pivot_properties")
    assert "host_summary (pivot function)" in repr(Host.nbcatalog)


def test_values_and_entities_map_to_the_template_parameter(recorded):
    Host.nbcatalog.host_summary("WKSTN-042")
    Host.nbcatalog.host_summary(Host(HostName="WKSTN-042", DnsDomain="contoso.com"))
    Account.nbcatalog.account_summary(Account(Name="bob", UPNSuffix="contoso.com"))
    IpAddress.nbcatalog.ip_summary(IpAddress(Address="203.0.113.77"))
    Url.nbcatalog.url_summary("http://malicious.example/payload.ps1")
    IpAddress.nbcatalog.network_flow_summary("192.0.2.66")
    Host.nbcatalog.network_flow_summary("LNX-WEB01")
    seen = [
        (name, {k: v for k, v in p.items() if k not in ("start", "end")})
        for name, p in recorded.calls
    ]
    assert seen == [
        ("host_summary", {"host": "WKSTN-042"}),
        ("host_summary", {"host": "WKSTN-042"}),
        ("account_summary", {"account": "bob@contoso.com"}),
        ("ip_summary", {"ip": "203.0.113.77"}),
        ("url_summary", {"url": "http://malicious.example/payload.ps1"}),
        ("network_flow_summary", {"ip": "192.0.2.66"}),  # the same template, its ip parameter
        ("network_flow_summary", {"host": "LNX-WEB01"}),
    ]


def test_several_values_run_once_each_and_keywords_pass_through(recorded):
    out = IpAddress.nbcatalog.ip_summary(["203.0.113.77", "10.10.1.52"], options=["-flows"])
    assert [params["ip"] for _, params in out] == ["203.0.113.77", "10.10.1.52"]
    assert all(params["options"] == ["-flows"] for _, params in out)


def test_time_range_defaults_to_the_pivot_timespan(recorded):
    pivot = Pivot()
    pivot.set_timespan(start="2024-05-01T00:00:00Z", end="2024-05-03T00:00:00Z")
    assert pivot_timespan() == (pivot.start, pivot.end)
    Host.nbcatalog.host_summary("WKSTN-042")
    _, params = recorded.calls[-1]
    assert pd.Timestamp(params["start"]) == pd.Timestamp("2024-05-01T00:00:00Z")
    assert pd.Timestamp(params["end"]) == pd.Timestamp("2024-05-03T00:00:00Z")
    Host.nbcatalog.host_summary("WKSTN-042", last="24h")  # an explicit range wins
    _, params = recorded.calls[-1]
    assert params["last"] == "24h" and "start" not in params


def test_pivot_targets_read_entity_kinds():
    class Fake:  # a template-like object from a user folder
        name = "beacon_hunt"
        metadata = {"entity_kinds": {"ip": "ip", "count": "number"}}

    assert pivot_targets([Fake()]) == [("beacon_hunt", "ip", "IpAddress", "Address")]


@pytest.mark.slow
def test_host_pivot_runs_host_summary_on_the_demo_store(demo_db, tmp_path):
    register_pivots()
    now = pd.Timestamp.now(tz="UTC")
    Pivot().set_timespan(start=now - pd.Timedelta(days=7), end=now)
    res = Host.nbcatalog.host_summary(
        Host(HostName="WKSTN-042"),
        data_source=f"duckdb:{demo_db}",
        output_dir=tmp_path,
        silent=True,
        quiet=True,
    )
    assert res.status == "ok" and res.template == "host_summary"
    assert res["host_entity"]["HostName"] == "WKSTN-042"
    assert pd.Timestamp(res.parameters["start"]) == now - pd.Timedelta(days=7)
    assert "svc_backup" in " ".join(res["account_changes"]["Description"])
