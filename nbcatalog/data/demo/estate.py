"""The fixed shape of the demo estate: hosts, users, address plan, public addresses.

The estate does not depend on the seed, so a host name always has the same address
and an analyst (or a test) can look one up from the other. Only the activity drawn
on top of it (`background_*` modules) varies with the seed.

Address plan (all private, RFC 1918):

    10.10.0.0/24   Windows servers        WIN-DC01 10.10.0.10, WIN-FS01 10.10.0.11
    10.10.1.0/24   Windows workstations   WKSTN-001 10.10.1.11 ... WKSTN-050 10.10.1.60
    10.20.0.0/24   Linux (DMZ / admin)    LNX-WEB01 10.20.0.10, LNX-DB01 10.20.0.20,
                                          LNX-JUMP01 10.20.0.30

Example:
    >>> from nbcatalog.data.demo.estate import HOSTS_BY_NAME, USERS_BY_NAME
    >>> HOSTS_BY_NAME["WKSTN-042"].ip, USERS_BY_NAME["bob"].workstation
    ('10.10.1.52', 'WKSTN-042')
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DOMAIN = "CONTOSO"
DNS_DOMAIN = "contoso.com"
TENANT_ID = "72f988bf-0000-4c1a-9d3b-c0ffee000001"
SUBSCRIPTION_ID = "3b8e4a2c-5d1f-4e7a-9c6b-0d2e1f3a4b5c"
DOMAIN_SID = "S-1-5-21-3623811015-3361044348-30300820"
ORG_ID = "a1b2c3d4-0000-4d5e-8f90-c0a7e5000001"
RESOURCE_GROUP_ID = "CONTOSO-RG"

# The planted attacker addresses are documentation ranges (RFC 5737) on purpose.
ATTACKER_RDP_IP = "203.0.113.77"
ATTACKER_SSH_IP = "198.51.100.23"
C2_IP = "192.0.2.66"
C2_PORT = 4444
MALICIOUS_URL = "http://malicious.example/payload.ps1"
MALICIOUS_DOMAIN = "malicious.example"
PAYLOAD_SHA256 = "9f2c4e1b7a3d5f60812e4c9b0a7d3f5e1c2b4a6d8e0f1a3c5b7d9e2f4a6c8b0d"

# Office egress: the address every on-site sign-in comes from (public, not documentation).
OFFICE_EGRESS_IP = "20.190.151.68"
OFFICE_CITY = ("Seattle", "Washington", "US", 47.6062, -122.3321)


@dataclass(frozen=True)
class Host:
    """One machine of the estate."""

    name: str
    os: str  # "Windows" or "Linux"
    role: str  # workstation, domain-controller, file-server, web, database, jump
    ip: str
    subnet: str
    os_name: str
    os_version: str  # major.minor
    public_ip: str | None = None  # set for hosts the internet can reach


def _hosts() -> tuple[Host, ...]:
    hosts = [
        Host(
            "WIN-DC01",
            "Windows",
            "domain-controller",
            "10.10.0.10",
            "10.10.0.0/24",
            "Windows Server 2022 Datacenter",
            "10.0",
        ),
        Host(
            "WIN-FS01",
            "Windows",
            "file-server",
            "10.10.0.11",
            "10.10.0.0/24",
            "Windows Server 2019 Standard",
            "10.0",
        ),
    ]
    for i in range(1, 51):
        name = f"WKSTN-{i:03d}"
        # WKSTN-042 is NATed for RDP (its owner works from home): the way in.
        public = "20.83.144.42" if i == 42 else None
        hosts.append(
            Host(
                name,
                "Windows",
                "workstation",
                f"10.10.1.{10 + i}",
                "10.10.1.0/24",
                "Windows 11 Enterprise",
                "10.0",
                public,
            )
        )
    hosts += [
        Host(
            "LNX-WEB01",
            "Linux",
            "web",
            "10.20.0.10",
            "10.20.0.0/24",
            "Ubuntu 22.04.4 LTS",
            "22.04",
            "20.83.144.10",
        ),
        Host(
            "LNX-DB01",
            "Linux",
            "database",
            "10.20.0.20",
            "10.20.0.0/24",
            "Ubuntu 22.04.4 LTS",
            "22.04",
        ),
        Host(
            "LNX-JUMP01",
            "Linux",
            "jump",
            "10.20.0.30",
            "10.20.0.0/24",
            "Debian GNU/Linux 12 (bookworm)",
            "12",
            "20.83.144.30",
        ),
    ]
    return tuple(hosts)


HOSTS: tuple[Host, ...] = _hosts()
HOST_NAMES: list[str] = [h.name for h in HOSTS]
HOSTS_BY_NAME: dict[str, Host] = {h.name: h for h in HOSTS}
HOSTS_BY_IP: dict[str, Host] = {h.ip: h for h in HOSTS}
WINDOWS_HOSTS = [h for h in HOSTS if h.os == "Windows"]
WORKSTATIONS = [h for h in HOSTS if h.role == "workstation"]
LINUX_HOSTS = [h for h in HOSTS if h.os == "Linux"]


@dataclass(frozen=True)
class User:
    """One person of the organisation (with their Windows, Entra ID and Linux names)."""

    name: str  # sAMAccountName and Linux login
    display_name: str
    rid: int
    workstation: str | None
    home_city: tuple[str, str, str, float, float]  # city, state, country, lat, lon
    home_ip: str
    is_admin: bool = False

    @property
    def upn(self) -> str:
        return f"{self.name}@{DNS_DOMAIN}"

    @property
    def account(self) -> str:
        return f"{DOMAIN}\\{self.name}"

    @property
    def sid(self) -> str:
        return f"{DOMAIN_SID}-{self.rid}"

    @property
    def object_id(self) -> str:
        return f"0b5e{self.rid:04d}-7c1d-4f2a-9e3b-{self.rid:012d}"

    @property
    def uid(self) -> int:
        return self.rid - 100


_FIRST = (
    "alice bob carol dave erin frank grace heidi ivan judy niaj olivia peggy rupert sybil "
    "trent victor walter wendy xavier yvonne zara aaron beth chris diana eric fiona george "
    "hannah ian julia kevin laura mike nina oscar paula quinn rachel sam tina ursula vince "
    "will xena yusuf zoe adam bella conor daisy ethan freya gavin holly isaac jack kira"
).split()
_LAST = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke"
).split()
_HOME_CITIES = (
    ("Seattle", "Washington", "US", 47.6062, -122.3321),
    ("Bellevue", "Washington", "US", 47.6101, -122.2015),
    ("Redmond", "Washington", "US", 47.6740, -122.1215),
    ("Tacoma", "Washington", "US", 47.2529, -122.4443),
    ("Everett", "Washington", "US", 47.9790, -122.2021),
)
ADMINS = ("dave", "erin", "trent", "walter")
# Residential prefixes the users' home sign-ins come from (ordinary public ISP space).
_HOME_PREFIXES = ("73.53.", "24.16.", "67.183.", "98.232.", "50.35.")


def _users() -> tuple[User, ...]:
    users = []
    # bob owns WKSTN-042, alice WKSTN-007; the rest fill the other workstations in order.
    free = [f"WKSTN-{i:03d}" for i in range(1, 51) if i not in (7, 42)]
    for i, first in enumerate(_FIRST):
        if first == "bob":
            ws: str | None = "WKSTN-042"
        elif first == "alice":
            ws = "WKSTN-007"
        else:
            ws = free.pop(0) if free else None
        city = OFFICE_CITY if first == "bob" else _HOME_CITIES[i % len(_HOME_CITIES)]
        prefix = _HOME_PREFIXES[i % len(_HOME_PREFIXES)]
        users.append(
            User(
                first,
                f"{first.capitalize()} {_LAST[i % len(_LAST)]}",
                1100 + i,
                ws,
                city,
                f"{prefix}{(i * 37) % 250 + 2}.{(i * 91) % 250 + 3}",
                first in ADMINS,
            )
        )
    # A different person whose name also matches "bob".
    users.append(
        User(
            "bobby.jones",
            "Bobby Jones",
            1100 + len(users),
            None,
            _HOME_CITIES[3],
            "76.121.88.19",
        )
    )
    return tuple(users)


USERS: tuple[User, ...] = _users()
USERS_BY_NAME: dict[str, User] = {u.name: u for u in USERS}
WORKSTATION_OWNER: dict[str, User] = {u.workstation: u for u in USERS if u.workstation}

# Ordinary public addresses (scanners, crawlers, visitors) that knock on exposed hosts.
_NOISE_PREFIXES = (
    "45.155.205.",
    "185.220.101.",
    "89.248.165.",
    "141.98.10.",
    "193.32.162.",
    "61.177.172.",
    "218.92.0.",
    "222.186.30.",
    "112.85.42.",
    "179.43.180.",
    "5.188.206.",
    "80.82.77.",
    "92.63.197.",
    "194.26.29.",
    "103.99.0.",
    "36.110.228.",
    "118.25.6.",
    "171.25.193.",
    "45.95.147.",
    "167.94.138.",
    "81.2.69.",
    "151.101.1.",
    "104.244.72.",
    "200.59.64.",
)


def noise_ips() -> list[str]:
    """A fixed pool of ordinary public addresses (no private or documentation ones)."""
    ips = []
    for k, prefix in enumerate(_NOISE_PREFIXES):
        for j in range(6):
            ip = f"{prefix}{(k * 29 + j * 41) % 250 + 3}"
            if ipaddress.ip_address(ip).is_global:
                ips.append(ip)
    return ips


def address_plan() -> list[dict[str, str | None]]:
    """Host name, role, OS, private IP, subnet and public IP of every host.

    Example:
        >>> [r["ip"] for r in address_plan() if r["host"] == "LNX-WEB01"]
        ['10.20.0.10']
    """
    return [
        {
            "host": h.name,
            "role": h.role,
            "os": h.os,
            "ip": h.ip,
            "subnet": h.subnet,
            "public_ip": h.public_ip,
        }
        for h in HOSTS
    ]
