"""Recognise hosts and accounts however the logs spell them.

Logs name the same account as `bob`, `bob@contoso.com`, `CONTOSO\\bob` or a Linux
`bob`, and the same host as `WKSTN-042` or `wkstn-042.contoso.com`. Queries match
loosely (KQL `has`, SQL `LIKE`), so every match is checked again here, exactly:
`bob` must not match `bobby.jones`. Pure functions, no data access.

Example:
    >>> account_matches("bob", "CONTOSO\\\\bob"), account_matches("bob", "bobby.jones")
    (True, False)
    >>> host_matches("WKSTN-042", "wkstn-042.contoso.com")
    True
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# Characters that can be part of a host or account name inside free text.
_TOKEN = re.compile(r"[\w.@\\$-]+")


@dataclass(frozen=True)
class AccountName:
    """An account name split into user and domain (domain "" when none is given).

    Example:
        >>> AccountName.parse("CONTOSO\\\\Bob")
        AccountName(user='bob', domain='contoso')
    """

    user: str
    domain: str = ""

    @classmethod
    def parse(cls, text: str) -> AccountName:
        text = str(text).strip()
        if "\\" in text:
            domain, _, user = text.rpartition("\\")
        elif "@" in text:
            user, _, domain = text.partition("@")
        else:
            user, domain = text, ""
        return cls(user.strip().casefold(), domain.strip().casefold())


def _domains_agree(a: str, b: str) -> bool:
    # "contoso" (NetBIOS) and "contoso.com" (UPN suffix) name the same domain.
    if not a or not b:
        return True
    return a == b or a.split(".")[0] == b.split(".")[0]


def account_matches(wanted: str, candidate: str) -> bool:
    """True when `candidate` (as a log spells it) is the account `wanted` names.

    The user parts must be equal (ignoring case); domains only have to agree when
    both names carry one.

    Example:
        >>> account_matches("bob@contoso.com", "CONTOSO\\\\bob")
        True
        >>> account_matches("bob", "bob.smith")
        False
    """
    if not wanted or not candidate:
        return False
    w, c = AccountName.parse(wanted), AccountName.parse(candidate)
    return bool(w.user) and w.user == c.user and _domains_agree(w.domain, c.domain)


@dataclass(frozen=True)
class HostName:
    """A host name split into its short name and DNS domain (lower case).

    Example:
        >>> HostName.parse("WKSTN-042.contoso.com")
        HostName(short='wkstn-042', domain='contoso.com')
    """

    short: str
    domain: str = ""

    @classmethod
    def parse(cls, text: str) -> HostName:
        text = str(text).strip().casefold()
        if "\\" in text:  # DOMAIN\HOST$ as machine accounts are written
            text = text.rpartition("\\")[2].rstrip("$")
        short, _, domain = text.partition(".")
        return cls(short, domain)


def host_matches(wanted: str, candidate: str) -> bool:
    """True when `candidate` is the host `wanted` names (short names equal, domains agree).

    Example:
        >>> host_matches("wkstn-042", "WKSTN-0420")
        False
    """
    if not wanted or not candidate:
        return False
    w, c = HostName.parse(wanted), HostName.parse(candidate)
    if not w.short or w.short != c.short:
        return False
    return not (w.domain and c.domain) or w.domain == c.domain


def resolve_host(wanted: str, known: Iterable[str]) -> list[str]:
    """The known host names that `wanted` (a full name or the start of one) selects.

    An exact name wins; otherwise every host whose short name or full name starts
    with `wanted` is returned, sorted.

    Example:
        >>> resolve_host("wkstn-04", ["WKSTN-041", "WKSTN-042", "WIN-DC01"])
        ['WKSTN-041', 'WKSTN-042']
        >>> resolve_host("wkstn-042", ["WKSTN-042", "WKSTN-0420"])
        ['WKSTN-042']
    """
    names = sorted({str(k) for k in known if k})
    exact = [n for n in names if host_matches(wanted, n)]
    if exact:
        return exact
    prefix = str(wanted).strip().casefold()
    if not prefix:
        return []
    return [n for n in names if n.casefold().startswith(prefix)]


def closest(wanted: str, known: Iterable[str], n: int = 5) -> list[str]:
    """Up to `n` known names that look most like `wanted` (for "did you mean").

    Example:
        >>> closest("WKSTN-42", ["WKSTN-042", "WIN-DC01", "LNX-WEB01"])
        ['WKSTN-042']
    """
    names = sorted({str(k) for k in known if k})
    by_folded: dict[str, str] = {}
    for name in names:
        by_folded.setdefault(name.casefold(), name)
    hits = difflib.get_close_matches(str(wanted).casefold(), list(by_folded), n=n, cutoff=0.6)
    return [by_folded[h] for h in hits]


def tokens(text: str) -> list[str]:
    """Name-like words of free text (host names, accounts, addresses).

    Example:
        >>> tokens("bob logged on to WKSTN-042 from 203.0.113.77.")
        ['bob', 'logged', 'on', 'to', 'WKSTN-042', 'from', '203.0.113.77']
    """
    return [t.strip(".-") for t in _TOKEN.findall(str(text)) if t.strip(".-")]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        parsed = None
        if value[:1] in "[{":  # JSON held in a text column (Entities, QueryResultRow)
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
        if parsed is not None and not isinstance(parsed, str):
            yield from _strings(parsed)
        else:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def mentions(value: Any, matcher: Callable[[str], bool]) -> bool:
    """True when any string in `value` (text, JSON text, dicts, lists) names the entity.

    Each string is tried whole, then word by word, so `"bob logged on"` mentions
    bob while `"bobby.jones"` does not.

    Example:
        >>> mentions('{"Account": "CONTOSO\\\\\\\\bob"}', lambda s: account_matches("bob", s))
        True
    """
    for text in _strings(value):
        if matcher(text) or any(matcher(tok) for tok in tokens(text)):
            return True
    return False
