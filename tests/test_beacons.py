"""nblib.beacons: regular outbound contacts scored in DuckDB, on frames and in the store.

Frames are built here with known timers; the demo store's planted beacon (LNX-WEB01 to
192.0.2.66:4444 every 10 minutes) is counted with plain SQL and compared with what the
module reports, both from a frame and computed inside the store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbcatalog.nblib import beacons
from nbcatalog.nblib.netfindings import flood_findings, ranked, remote_access_sources

START = pd.Timestamp("2026-01-05T00:00:00Z")


def _flows(times, remote="192.0.2.66", port=4444, local="10.20.0.10", flows=2, **extra):
    times = pd.DatetimeIndex(times)
    frame = pd.DataFrame(
        {
            "FlowTime": times,
            "LocalIP": local,
            "RemoteIP": remote,
            "DestPort": port,
            "Direction": "outbound",
            "Flows": flows,
        }
    )
    for name, value in extra.items():
        frame[name] = value
    return frame


def _timer(n: int, every: str = "10min", jitter_s: float = 0.0, seed: int = 1):
    base = pd.date_range(START, periods=n, freq=every)
    noise = np.random.default_rng(seed).uniform(-jitter_s, jitter_s, n)
    return base + pd.to_timedelta(noise, unit="s")


def _random_times(n: int, hours: float, seed: int = 2):
    offsets = np.sort(np.random.default_rng(seed).uniform(0, hours * 3600, n))
    return START + pd.to_timedelta(offsets, unit="s")


def test_a_timer_scores_one_and_random_traffic_scores_low():
    rng = np.random.default_rng(3)
    noise = _flows(_random_times(60, 48), remote="8.8.8.8", port=443, flows=rng.integers(1, 50, 60))
    frame = pd.concat([_flows(_timer(60)), noise], ignore_index=True)
    scored = beacons.score_frame(frame).set_index("RemoteIP")
    assert scored.loc["192.0.2.66", "Score"] == 1.0
    assert scored.loc["192.0.2.66", "Interval"] == "10 min"
    assert scored.loc["192.0.2.66", "Contacts"] == 60
    assert scored.loc["8.8.8.8", "Score"] < beacons.MEDIUM_SCORE
    keys = [f["key"] for f in beacons.beacon_findings(scored.reset_index())]
    assert keys == ["beacon:192.0.2.66:4444"]


def test_more_jitter_scores_lower_but_a_jittery_timer_still_stands_out():
    tight = beacons.score_frame(_flows(_timer(50, jitter_s=20)))
    loose = beacons.score_frame(_flows(_timer(50, jitter_s=240)))
    assert tight.loc[0, "Score"] > loose.loc[0, "Score"]
    assert tight.loc[0, "Score"] >= beacons.HIGH_SCORE
    assert 0 < tight.loc[0, "Jitter"] < loose.loc[0, "Jitter"]


def test_rows_at_the_same_time_are_one_contact_and_their_connections_add_up():
    times = _timer(20)
    frame = pd.concat([_flows(times, flows=2), _flows(times[::2], flows=3)], ignore_index=True)
    row = beacons.score_frame(frame).iloc[0]
    assert row["Contacts"] == 20
    assert row["Connections"] == 20 * 2 + 10 * 3


def test_rows_without_a_time_or_a_remote_address_are_left_out():
    frame = _flows(_timer(12))
    frame.loc[3, "FlowTime"] = pd.NaT
    frame.loc[5, "RemoteIP"] = None
    frame.loc[6, "RemoteIP"] = ""
    scored = beacons.score_frame(frame)
    assert scored["RemoteIP"].tolist() == ["192.0.2.66"]
    assert scored.loc[0, "Contacts"] == 12 - 3


def test_ipv6_channels_are_scored_and_keyed_in_brackets():
    frame = _flows(_timer(30, every="5min"), remote="2001:db8::66", port=443, local="fd00::5")
    scored = beacons.score_frame(frame)
    assert scored.loc[0, ["LocalIP", "RemoteIP"]].tolist() == ["fd00::5", "2001:db8::66"]
    assert scored.loc[0, "RemoteClass"] == "documentation"
    [finding] = beacons.beacon_findings(scored)
    assert finding["key"] == "beacon:[2001:db8::66]:443"
    assert finding["severity"] == "high"


def test_too_few_contacts_are_not_scored_and_the_note_says_so():
    few = _flows(_timer(beacons.DEFAULT_MIN_CONTACTS - 1))
    found = beacons.beacons_of(few, subject="LNX-WEB01")
    assert found.empty
    assert f"at least {beacons.DEFAULT_MIN_CONTACTS} contacts" in found.messages()[0]
    assert len(beacons.score_frame(few, min_contacts=3)) == 1


def test_inbound_timers_are_not_beacons_of_the_host():
    frame = _flows(_timer(30))
    frame["Direction"] = "inbound"
    assert beacons.score_frame(frame).empty


def test_an_internal_timer_is_at_most_a_low_finding():
    scored = beacons.score_frame(_flows(_timer(40), remote="10.20.0.20", port=5432))
    assert scored.loc[0, "RemoteClass"] == "private"
    assert [f["severity"] for f in beacons.beacon_findings(scored)] == ["low"]


def test_contacts_alike_in_size_score_higher_than_varied_ones():
    same = beacons.score_frame(_flows(_timer(40), OutboundBytes=900.0, InboundBytes=200.0))
    sizes = np.random.default_rng(5).integers(100, 90_000, 40).astype(float)
    varied = beacons.score_frame(_flows(_timer(40), OutboundBytes=sizes, InboundBytes=0.0))
    assert same.loc[0, "SizeCV"] == 0.0 < varied.loc[0, "SizeCV"]
    assert same.loc[0, "Score"] > varied.loc[0, "Score"]


def test_findings_follow_the_shared_contract():
    scored = beacons.score_frame(_flows(_timer(40)))
    [finding] = beacons.beacon_findings(scored, subject="LNX-WEB01")
    assert set(finding) == {"severity", "title", "text", "section", "result", "count", "key"}
    assert finding["section"] == "beacons" and finding["result"] == "beacons"
    assert finding["count"] == 1 and "40 times" in finding["title"]  # one evidence row
    assert "192.0.2.66:4444" in finding["title"] and "every 10 min" in finding["title"]


def test_remote_access_floods_become_findings_above_the_threshold():
    flows = pd.DataFrame(
        {
            "FlowTime": pd.date_range(START, periods=4, freq="10min"),
            "Direction": ["inbound"] * 4,
            "RemoteIP": ["203.0.113.77"] * 3 + ["8.8.8.8"],
            "RemoteClass": ["documentation"] * 3 + ["public"],
            "LocalIP": ["10.10.1.52"] * 4,
            "DestPort": [3389, 3389, 3389, 3389],
            "Flows": [200, 100, 24, 5],
        }
    )
    sources = remote_access_sources(flows)
    assert sources["Flows"].tolist() == [324, 5]
    found = flood_findings(sources, subject="WKSTN-042")
    assert [f["key"] for f in found] == ["bruteforce:203.0.113.77:3389"]
    assert found[0]["severity"] == "high"
    assert ranked([{"severity": "low", "key": "x", "count": 9}, *found])[0] == found[0]


# ------------------------------------------------------------------ demo store


@pytest.fixture(scope="module")
def period(demo_source):
    end = demo_source.sql('SELECT max(TimeGenerated) AS t FROM "AzureNetworkAnalytics_CL"')
    end = pd.Timestamp(end.iloc[0, 0]) + pd.Timedelta(hours=1)
    return end - pd.Timedelta(days=7), end


def test_the_store_finds_the_planted_beacon_with_the_contacts_sql_counts(demo_source, period):
    start, end = period
    expected = demo_source.sql(
        "SELECT count(DISTINCT FlowStartTime_t) AS contacts, sum(AllowedOutFlows_d) AS flows "
        "FROM \"AzureNetworkAnalytics_CL\" WHERE VM_s LIKE '%/LNX-WEB01' AND DestIP_s = $ip "
        "AND DestPort_d = $port AND FlowStartTime_t BETWEEN $s AND $e",
        {"ip": "192.0.2.66", "port": 4444, "s": start, "e": end},
    ).iloc[0]
    estate = beacons.store_beacons(demo_source, start, end)
    top = estate.iloc[0]
    assert (top["LocalIP"], top["RemoteIP"], top["RemotePort"]) == (
        "10.20.0.10",
        "192.0.2.66",
        4444,
    )
    assert top["Contacts"] == expected["contacts"] > 20
    assert top["Connections"] == expected["flows"]
    assert top["Interval"] == "10 min"
    # The only finding of the whole estate is the planted beacon.
    assert [f["key"] for f in beacons.beacon_findings(estate)] == ["beacon:192.0.2.66:4444"]


def test_frame_and_store_agree_on_the_hosts_channels(demo_source, period):
    from nbcatalog.nblib import Investigation
    from nbcatalog.nblib.flows import flows_for

    start, end = period
    inv = Investigation(demo_source, start, end)
    flows = flows_for(inv, host="LNX-WEB01").data
    from_frame = beacons.score_frame(flows).set_index(["RemoteIP", "RemotePort"])
    in_store = beacons.store_beacons(demo_source, start, end, host_name="LNX-WEB01")
    in_store = in_store.set_index(["RemoteIP", "RemotePort"])
    channel = ("192.0.2.66", 4444)
    for column in ("Contacts", "Connections", "MedianInterval", "Score"):
        assert from_frame.loc[channel, column] == in_store.loc[channel, column], column


def test_a_hostile_host_name_is_a_bound_value(demo_source, period):
    start, end = period
    hostile = "LNX-WEB01' OR '1'='1"
    assert beacons.store_beacons(demo_source, start, end, host_name=hostile).empty
