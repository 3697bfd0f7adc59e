"""msticpy's QueryProvider on the embedded store through the NBCatalog driver plugin."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta, timezone

import pytest

EVER = {"start": "2000-01-01T00:00:00Z", "end": datetime.now(timezone.utc) + timedelta(days=1)}


@pytest.fixture(scope="module")
def qp(demo_db):
    from nbcatalog.data.msticpy_driver import query_provider

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return query_provider(str(demo_db))


def test_msticpy_query_functions_return_the_library_results(qp, demo_source):
    ours = demo_source.query("WindowsSecurity.list_host_logons", host_name="WKSTN-042", **EVER)
    theirs = qp.WindowsSecurity.list_host_logons(host_name="WKSTN-042", **EVER)
    assert list(theirs.columns) == list(ours.columns)
    assert len(theirs) == len(ours) > 0
    ti = qp.ThreatIntelligence.list_indicators_by_ip(ip_address_list=["192.0.2.66"], **EVER)
    assert ti["IoC"].tolist() == ["192.0.2.66"]


def test_msticpy_request_text_is_json_so_values_stay_values(qp):
    hostile = 'x" , "host_name": "WKSTN-042'
    text = qp.WindowsSecurity.list_host_logons("print", host_name=hostile, **EVER)
    assert json.loads(text)["params"]["host_name"] == hostile
    assert qp.WindowsSecurity.list_host_logons(host_name=hostile, **EVER).empty
    assert qp.WindowsSecurity.list_host_logons(host_name="x' or '1'='1", **EVER).empty


def test_msticpy_exec_query_runs_read_only_sql(qp):
    n = qp.exec_query('SELECT count(*) AS n FROM "HuntingBookmark"')["n"].item()
    assert n == 2
    from nbcatalog.errors import DataSourceError

    with pytest.raises(DataSourceError, match="read-only"):
        qp.exec_query('DELETE FROM "HuntingBookmark"')
