"""Classify IP addresses: which ones are worth a GeoIP, ASN or online TI look-up.

Only "public" addresses are looked up. Everything else is answered from the
address alone, with an explicit table of IANA special-purpose ranges (rather than
the `ipaddress` flags, whose meaning has changed between Python releases):

- "private": RFC 1918, IPv6 unique-local (fc00::/7) and the RFC 6598 shared /
  carrier-grade NAT range 100.64.0.0/10 (not routable on the internet either)
- "loopback", "link-local", "multicast"
- "documentation": RFC 5737 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24),
  RFC 5771 MCAST-TEST-NET, RFC 3849 (2001:db8::/32) and RFC 9637 (3fff::/20)
- "reserved": unspecified, "this network", benchmarking, IETF protocol
  assignments, 240.0.0.0/4 and broadcast, and IPv6 outside the global unicast 2000::/3
- "public": everything else

IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are classified
by the IPv4 address they carry.

Example:
    >>> classify_ip("203.0.113.77")
    'documentation'
    >>> classify_ip("8.8.8.8")
    'public'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from nbcatalog.enrich.errors import EnrichmentError, shorten

IP_CLASSES = (
    "private",
    "loopback",
    "link-local",
    "documentation",
    "reserved",
    "multicast",
    "public",
)

# Most specific first: the first network containing the address decides.
_V4_RANGES = [
    (ipaddress.ip_network(net), cls)
    for net, cls in (
        ("0.0.0.0/8", "reserved"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "private"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "reserved"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("233.252.0.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    )
]
_V6_RANGES = [
    (ipaddress.ip_network(net), cls)
    for net, cls in (
        ("::/128", "reserved"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "private"),
        ("100::/64", "reserved"),
        ("2001:2::/48", "reserved"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("fc00::/7", "private"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "reserved"),
        ("ff00::/8", "multicast"),
    )
]
_V6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse one address given as text; EnrichmentError (a ValueError) says what is accepted.

    Surrounding whitespace is ignored; anything else (ports, CIDR suffixes,
    leading zeros, quotes) is rejected rather than guessed at.

    Example:
        >>> parse_ip(" 10.1.2.3 ")
        IPv4Address('10.1.2.3')
    """
    if not isinstance(ip, str):
        raise EnrichmentError(f"an IP address must be text, got {type(ip).__name__} {shorten(ip)}")
    try:
        return ipaddress.ip_address(ip.strip())
    except ValueError:
        raise EnrichmentError(
            f"not an IP address: {shorten(ip)}; expected IPv4 such as 192.0.2.1 "
            "or IPv6 such as 2001:db8::1 (no port, prefix length or quotes)"
        ) from None


def classify_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Class of an already parsed address (see the module docstring for the ranges).

    Example:
        >>> import ipaddress
        >>> classify_address(ipaddress.ip_address("fe80::1"))
        'link-local'
    """
    if addr.version == 6:
        if addr.ipv4_mapped is not None:
            return classify_address(addr.ipv4_mapped)
        if addr in _NAT64:
            return classify_address(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        for net, cls in _V6_RANGES:
            if addr in net:
                return cls
        return "public" if addr in _V6_GLOBAL_UNICAST else "reserved"
    for net, cls in _V4_RANGES:
        if addr in net:
            return cls
    return "public"


@lru_cache(maxsize=65536)
def _classify_text(ip: str) -> str:
    return classify_address(parse_ip(ip))


def classify_ip(ip: str) -> str:
    """Class of one address: one of `IP_CLASSES`; EnrichmentError (a ValueError) if not an address.

    Example:
        >>> classify_ip("100.64.1.1")
        'private'
        >>> classify_ip("2001:db8::1")
        'documentation'
    """
    if not isinstance(ip, str):
        raise EnrichmentError(f"an IP address must be text, got {type(ip).__name__} {shorten(ip)}")
    return _classify_text(ip)


def classify_ips(ips: Iterable[str]) -> list[str]:
    """Class of each value, "invalid" for anything that is not an address (log fields hold junk).

    Example:
        >>> classify_ips(["10.0.0.1", "-", "8.8.8.8"])
        ['private', 'invalid', 'public']
    """
    out = []
    for ip in ips:
        try:
            out.append(classify_ip(ip))
        except ValueError:
            out.append("invalid")
    return out


def is_public(ip: str) -> bool:
    """True only for a valid, public address (the ones worth looking up).

    Example:
        >>> is_public("192.168.1.1"), is_public("1.1.1.1"), is_public("nonsense")
        (False, True, False)
    """
    return classify_ips([ip])[0] == "public"
