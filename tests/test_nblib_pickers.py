"""Pickers declared in template metadata (the re-run itself is tested with real runs)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from nbcatalog.catalog import get_template
from nbcatalog.nblib.pickers import (
    choices,
    is_placeholder,
    picker,
    picker_specs,
    rerun_parameters,
)


def test_account_summary_declares_its_account_picker():
    t = get_template("account_summary")
    spec = picker_specs(t.metadata)["account_id"]
    assert spec.result in t.glue_names and spec.result == "accounts"
    assert "account_id" in [p.name for p in t.parameters]


def test_choices_are_distinct_and_described():
    spec = picker_specs(
        {"pickers": {"account_id": {"result": "a", "column": "Id", "describe": ["Src"]}}}
    )["account_id"]
    frame = pd.DataFrame({"Id": ["x", "x", "y"], "Src": ["Windows", "Windows", "<b>Linux</b>"]})
    assert choices(frame, spec) == [("x  (Windows)", "x"), ("y  (<b>Linux</b>)", "y")]
    assert choices(pd.DataFrame(), spec) == []


def test_rerun_keeps_the_run_parameters():
    spec = picker_specs({"pickers": {"account_id": {"result": "a", "column": "Id"}}})["account_id"]
    res = SimpleNamespace(parameters={"account": "bob", "start": "2024-05-01T00:00:00Z"})
    assert rerun_parameters(res, spec, "linux:bob") == {
        "account": "bob",
        "start": "2024-05-01T00:00:00Z",
        "account_id": "linux:bob",
    }


def test_unknown_picker_is_a_clear_error():
    res = SimpleNamespace(template="host_summary", data={}, parameters={})
    with pytest.raises(ValueError, match="has no picker for 'account_id'; pickers: none"):
        picker(res, "account_id")


def test_secrets_are_not_resent_as_the_redacted_text():
    spec = picker_specs({"pickers": {"asn": {"result": "a", "column": "AsnOrg"}}})["asn"]
    res = SimpleNamespace(parameters={"host": "LNX-WEB01", "api_token": "<redacted>"})
    assert rerun_parameters(res, spec, "Chinanet") == {"host": "LNX-WEB01", "asn": "Chinanet"}


def test_labels_for_no_value_are_placeholders():
    assert [is_placeholder(v) for v in ("(private)", "(documentation)", "", None, "nan")] == [
        True
    ] * 5
    assert not any(is_placeholder(v) for v in ("Chinanet", "Andrews & Arnold Ltd", "AS (x) y"))


# ------------------------------------------------ the AS owner picker (issue 10)


def _flow_summary() -> pd.DataFrame:
    """A geo-enriched remote summary as network_flow_summary builds it: two owned public
    addresses, two private ones and one documentation address (no owner)."""
    seen = pd.to_datetime(["2024-05-01T00:00:00Z"] * 5, utc=True)
    return pd.DataFrame(
        {
            "RemoteIP": [
                "61.177.172.21",
                "61.177.172.62",
                "10.20.0.20",
                "10.20.0.21",
                "192.0.2.66",
            ],
            "RemoteClass": ["public", "public", "private", "private", "documentation"],
            "AsnOrg": ["Chinanet", "Chinanet", None, None, None],
            "Asn": [4134, 4134, None, None, None],
            "CountryCode": ["CN", "CN", None, None, None],
            "Directions": ["inbound"] * 5,
            "Protocols": ["ssh"] * 5,
            "Flows": [40, 12, 3, 2, 9],
            "FirstSeen": seen,
            "LastSeen": seen,
        }
    )


def test_the_as_picker_offers_only_owners_that_select_addresses():
    from nbcatalog.nblib import flows as nf

    flow_summary = _flow_summary()
    by_owner = nf.asn_summary(flow_summary)
    spec = picker_specs(get_template("network_flow_summary").metadata)["asn"]
    assert spec.result == "asn_summary" and spec.column == "AsnOrg"
    # the summary groups the addresses with no owner under "(private)" / "(documentation)"
    assert {"(private)", "(documentation)"} <= set(by_owner["AsnOrg"])
    offered = [value for _, value in choices(by_owner, spec)]
    owners = sorted({o for o in flow_summary["AsnOrg"] if isinstance(o, str)})
    assert sorted(offered) == owners == ["Chinanet"]
    for value in offered:  # what the label says is what the re-run selects
        assert len(nf.select_asn(flow_summary, value)) == 2


def test_a_picker_never_reruns_a_path_the_run_names(tmp_path):
    from nbcatalog.errors import UsageError

    planted = SimpleNamespace(template=str(tmp_path / "planted.ipynb"), data={}, parameters={})
    with pytest.raises(UsageError, match="is not a template name"):
        picker(planted, "asn")
    template = get_template("network_flow_summary")
    changed = SimpleNamespace(
        template="network_flow_summary",
        data={"asn_summary": pd.DataFrame({"AsnOrg": ["Chinanet"]})},
        parameters={},
        run_info={"content_hash": "f" * 64},
    )
    with pytest.raises(UsageError, match="network_flow_summary changed since this run"):
        picker(changed, "asn")
    ran = []
    box = picker(changed, "asn", run=lambda name, **p: ran.append((name, p)), allow_changed=True)
    box.pick()
    assert ran == [(template.name, {"silent": True, "asn": "Chinanet"})]


@pytest.mark.slow
def test_the_as_picker_of_a_real_flow_run(demo_db):
    from summary_runs import cached_runner, summary_run

    from nbcatalog.errors import UsageError
    from nbcatalog.nblib import flows as nf

    res = summary_run(demo_db, "network_flow_summary", host="LNX-WEB01")
    assert "(private)" in set(res["asn_summary"]["AsnOrg"])  # LNX-WEB01 talks to 10.20.0.20
    box = res.pick("asn")
    offered = [value for _, value in box.dropdown.options]
    owned = {o for o in res["flow_summary"]["AsnOrg"].dropna() if str(o).strip()}
    assert set(offered) == owned and "(private)" not in offered
    for value in offered:
        assert len(nf.select_asn(res["flow_summary"], value)) > 0, value
    with pytest.raises(UsageError, match="not among the choices"):
        res.pick("asn", "(private)")
    focused = res.pick("asn", offered[0], run=cached_runner(demo_db))
    assert len(focused["asn_addresses"]) > 0
