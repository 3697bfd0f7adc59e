"""Pickers declared in template metadata (the re-run itself is tested with real runs)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from nbcatalog.catalog import get_template
from nbcatalog.nblib.pickers import choices, picker, picker_specs, rerun_parameters


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
