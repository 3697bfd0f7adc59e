"""Account and host matching as an analyst expects it (nbcatalog.nblib.entities)."""

import pytest

from nbcatalog.nblib.entities import (
    AccountName,
    account_matches,
    closest,
    host_matches,
    mentions,
    resolve_host,
    tokens,
)


@pytest.mark.parametrize(
    "candidate",
    ["bob", "BOB", "bob@contoso.com", "CONTOSO\\bob", "contoso.com\\Bob", " bob "],
)
def test_every_spelling_of_bob_matches(candidate):
    assert account_matches("bob", candidate)


@pytest.mark.parametrize(
    "candidate", ["bobby.jones", "bobby.jones@contoso.com", "CONTOSO\\bobby", "bo", "alice", ""]
)
def test_other_people_do_not_match_bob(candidate):
    assert not account_matches("bob", candidate)


def test_qualified_names_check_the_domain_when_both_have_one():
    assert account_matches("bob@contoso.com", "CONTOSO\\bob")
    assert account_matches("CONTOSO\\bob", "bob")  # a Linux or bare name has no domain
    assert not account_matches("bob@fabrikam.com", "CONTOSO\\bob")


def test_account_name_parse():
    assert AccountName.parse("CONTOSO\\Bob") == AccountName("bob", "contoso")
    assert AccountName.parse("Bob@Contoso.com") == AccountName("bob", "contoso.com")


def test_host_matching_short_and_full_names():
    assert host_matches("WKSTN-042", "wkstn-042.contoso.com")
    assert host_matches("wkstn-042.contoso.com", "WKSTN-042")
    assert host_matches("WKSTN-042", "CONTOSO\\WKSTN-042$")
    assert not host_matches("WKSTN-042", "WKSTN-0420")
    assert not host_matches("WKSTN-042.contoso.com", "WKSTN-042.fabrikam.com")


def test_resolve_partial_host_names():
    known = ["WKSTN-041", "WKSTN-042", "WKSTN-0420", "WIN-DC01", "wkstn-042.contoso.com"]
    assert resolve_host("wkstn-042", known) == ["WKSTN-042", "wkstn-042.contoso.com"]
    assert resolve_host("WIN-", known) == ["WIN-DC01"]
    assert resolve_host("wkstn-04", known) == sorted(k for k in known if k != "WIN-DC01")
    assert resolve_host("nothing", known) == []
    assert resolve_host("", known) == []


def test_closest_names_for_a_typo():
    known = ["WKSTN-042", "WKSTN-041", "WIN-DC01", "LNX-WEB01"]
    assert closest("WKSTN-42", known)[0] in ("WKSTN-042", "WKSTN-041")
    assert closest("LNX-WEB1", known) == ["LNX-WEB01"]
    assert closest("zzzzzz", known) == []


def test_tokens_and_mentions_in_free_text_and_json():
    assert "CONTOSO\\bob" in tokens("logon by CONTOSO\\bob at 10:00")
    bob = lambda s: account_matches("bob", s)  # noqa: E731
    assert mentions("RDP brute force then logon as bob.", bob)
    assert mentions('{"row": {"Account": "CONTOSO\\\\bob"}}', bob)
    assert mentions(["x", {"y": ["bob@contoso.com"]}], bob)
    assert not mentions("bobby.jones opened a file", bob)
    assert not mentions('{"Account": "bobby.jones"', bob)  # broken JSON is read as text
