"""Address classification: every special-purpose range, its edges, and hostile input."""

from __future__ import annotations

import pytest

from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.ipclass import IP_CLASSES, classify_ip, classify_ips, is_public
from nbcatalog.errors import UsageError

CASES = [
    # RFC 1918 and its edges
    ("10.0.0.0", "private"),
    ("10.255.255.255", "private"),
    ("9.255.255.255", "public"),
    ("11.0.0.0", "public"),
    ("172.15.255.255", "public"),
    ("172.16.0.0", "private"),
    ("172.31.255.255", "private"),
    ("172.32.0.0", "public"),
    ("192.168.1.10", "private"),
    ("192.169.0.1", "public"),
    # RFC 6598 shared / carrier-grade NAT: not routable, so private
    ("100.63.255.255", "public"),
    ("100.64.0.0", "private"),
    ("100.127.255.255", "private"),
    ("100.128.0.0", "public"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("169.254.169.254", "link-local"),
    # RFC 5737 documentation ranges (the demo estate's attackers live here)
    ("192.0.2.0", "documentation"),
    ("192.0.2.66", "documentation"),
    ("192.0.2.255", "documentation"),
    ("192.0.3.0", "public"),
    ("198.51.100.23", "documentation"),
    ("198.51.101.1", "public"),
    ("203.0.113.77", "documentation"),
    ("203.0.114.1", "public"),
    ("233.252.0.9", "documentation"),  # RFC 5771 MCAST-TEST-NET
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0.0.0.0", "reserved"),
    ("0.1.2.3", "reserved"),
    ("192.0.0.9", "reserved"),
    ("198.18.0.1", "reserved"),
    ("198.19.255.255", "reserved"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("8.8.8.8", "public"),
    ("1.1.1.1", "public"),
    # IPv6
    ("::1", "loopback"),
    ("::", "reserved"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fd12:3456:789a::1", "private"),
    ("fc00::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("2001:0DB8:0000:0000:0000:0000:0000:0001", "documentation"),
    ("3fff::1", "documentation"),  # RFC 9637
    ("100::1", "reserved"),
    ("4000::1", "reserved"),  # outside global unicast 2000::/3
    ("2001:4860:4860::8888", "public"),
    ("2606:4700:4700::1111", "public"),
    # IPv4 carried in IPv6 is classified by the IPv4 address
    ("::ffff:10.1.2.3", "private"),
    ("::ffff:203.0.113.77", "documentation"),
    ("::ffff:8.8.8.8", "public"),
    ("64:ff9b::c000:242", "documentation"),  # NAT64 of 192.0.2.66
    ("64:ff9b::808:808", "public"),  # NAT64 of 8.8.8.8
    (" 10.1.2.3\n", "private"),  # whitespace around a log field
]


@pytest.mark.parametrize(("ip", "expected"), CASES)
def test_each_range_is_classified(ip, expected):
    assert classify_ip(ip) == expected
    assert expected in IP_CLASSES


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "1.2.3.4' OR '1'='1",
        '10.0.0.1" | where 1==1',
        "8.8.8.8:53",
        "10.0.0.0/8",
        "999.1.1.1",
        "01.2.3.4",  # leading zeros are ambiguous (octal in some parsers): rejected
        "1.2.3",
        "WKSTN-042",
        "<script>alert(1)</script>",
        "2001:db8::g",
        "a" * 100_000,
    ],
)
def test_non_addresses_raise_a_clear_value_error(bad):
    with pytest.raises(ValueError) as caught:
        classify_ip(bad)
    message = str(caught.value)
    assert "not an IP address" in message
    assert "192.0.2.1" in message  # says what is accepted
    assert len(message) < 250  # a huge value is not echoed back whole
    assert isinstance(caught.value, UsageError)  # maps to exit code 2 in the CLI


@pytest.mark.parametrize("bad", [None, 167772161, b"10.0.0.1", ["10.0.0.1"]])
def test_non_text_is_rejected_not_coerced(bad):
    with pytest.raises(EnrichmentError, match="must be text"):
        classify_ip(bad)


def test_classify_ips_marks_junk_from_logs_as_invalid():
    values = ["10.0.0.1", "-", "", "8.8.8.8", None, "203.0.113.77", "::1"]
    assert classify_ips(values) == [
        "private",
        "invalid",
        "invalid",
        "public",
        "invalid",
        "documentation",
        "loopback",
    ]


def test_is_public_only_for_valid_public_addresses():
    assert is_public("8.8.8.8")
    assert not is_public("203.0.113.77")
    assert not is_public("100.64.1.1")
    assert not is_public("nonsense")


def test_every_documentation_address_is_documentation():
    # Whole RFC 5737 ranges, not only the demo's addresses.
    for prefix in ("192.0.2.", "198.51.100.", "203.0.113."):
        assert {classify_ip(f"{prefix}{i}") for i in range(256)} == {"documentation"}


def test_package_exports_the_entry_points():
    import nbcatalog.enrich as enrich
    from nbcatalog.enrich import geoip, iocs, ti

    assert enrich.classify_ip is classify_ip
    assert enrich.lookup_ips is geoip.lookup_ips
    assert enrich.lookup_iocs is ti.lookup_iocs
    assert enrich.extract_iocs is iocs.extract_iocs
    assert "lookup_iocs" in dir(enrich)
    with pytest.raises(AttributeError, match="no attribute 'lookup_ip_addresses'"):
        enrich.lookup_ip_addresses  # noqa: B018
