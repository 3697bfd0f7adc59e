"""Frames pickled by real pandas 1.x releases, as msticpy users kept them, in nbcatalog.

The pickles (files/pickles, see its README) were written by pandas 1.1.5, 1.3.5 and
1.5.3 with msticpy's column names. Every expected figure is computed here from the
frame the installed pandas reads with plain `pandas.read_pickle`, never with
nbcatalog's importers.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from helpers.store_sql import table

import nbcatalog
from nbcatalog.data import connect
from nbcatalog.data.importers import import_paths

PICKLES = Path(__file__).parent / "files" / "pickles"
VERSIONS = ["115", "135", "153"]
START, END = "2024-03-01T00:00:00Z", "2024-03-05T00:00:00Z"


def _pandas_reads(path: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy.core is deprecated under numpy 2
        return pd.read_pickle(path)


def _pickle(frame: str, version: str, suffix: str = "") -> Path:
    return PICKLES / f"{frame}_pandas{version}{suffix}.pkl"


def test_the_numeric_index_pickles_name_the_pandas_1x_classes():
    for frame, index in [("alerts_msticpy", b"Int64Index"), ("flows_msticpy", b"UInt64Index"),
                         ("indicators", b"Float64Index")]:  # fmt: skip
        for version in VERSIONS:
            data = _pickle(frame, version).read_bytes()
            assert b"pandas.core.indexes.numeric" in data and index in data


@pytest.mark.parametrize("suffix", ["", "_p4"])
@pytest.mark.parametrize("version", VERSIONS)
def test_msticpy_alert_pickle_imports_with_name_and_severity(tmp_path, version, suffix):
    path = _pickle("alerts_msticpy", version, suffix)
    frame = _pandas_reads(path)
    assert type(frame.index).__name__ == "Index" and frame.index.dtype == "int64"  # Int64Index
    db = tmp_path / "case.duckdb"

    report = import_paths([path], db=db)

    f = report.files[0]
    assert f.tables == {"SecurityAlert": len(frame)} and f.rows_rejected == 0
    assert f.columns_renamed["SecurityAlert"] == {
        "AlertDisplayName": "DisplayName",
        "Severity": "AlertSeverity",
        "StartTimeUtc": "StartTime",
        "EndTimeUtc": "EndTime",
    }
    stored = table(db, 'SELECT * FROM SecurityAlert ORDER BY "TimeGenerated"')
    expected = frame.sort_values("TimeGenerated")
    assert stored["DisplayName"].tolist() == expected["AlertDisplayName"].tolist()
    assert stored["AlertSeverity"].tolist() == expected["Severity"].tolist()
    assert stored["StartTime"].tolist() == expected["StartTimeUtc"].tolist()
    assert stored["Entities"].tolist() == expected["Entities"].tolist()

    # What alert_ti_enrich reads: msticpy's names again, none of them empty.
    alerts = connect(f"duckdb:{db}").query("SecurityAlert.list_alerts", start=START, end=END)
    assert sorted(alerts["Severity"]) == sorted(frame["Severity"])
    assert sorted(alerts["AlertDisplayName"]) == sorted(frame["AlertDisplayName"])
    assert sorted(alerts["CompromisedEntity"]) == sorted(frame["CompromisedEntity"])
    assert alerts["SystemAlertId"].str.len().gt(0).all()


@pytest.mark.parametrize("version", VERSIONS)
def test_msticpy_flow_pickle_imports_one_row_per_flow_with_addresses(tmp_path, version):
    path = _pickle("flows_msticpy", version)
    frame = _pandas_reads(path)
    assert frame.index.dtype == "uint64"  # UInt64Index
    flows = frame.drop_duplicates(["SrcIP", "DestIP", "FlowStartTime"])  # mv-expand undone
    db = tmp_path / "case.duckdb"

    f = import_paths([path], db=db).files[0]

    assert f.rows_read == len(frame)
    assert f.tables == {"AzureNetworkAnalytics_CL": len(flows)}
    assert f.rows_duplicate == len(frame) - len(flows)
    stored = table(db, 'SELECT * FROM AzureNetworkAnalytics_CL ORDER BY "FlowStartTime_t"')
    assert stored["SrcIP_s"].tolist() == flows["SrcIP"].tolist()
    assert stored["DestIP_s"].tolist() == flows["DestIP"].tolist()
    assert stored["DestPort_d"].tolist() == flows["DestPort"].tolist()
    assert stored["L4Protocol_s"].tolist() == flows["L4Protocol"].astype(str).tolist()
    assert stored["VM_s"].tolist() == (flows["ResourceGroup"] + "/" + flows["VMName"]).tolist()

    # The store's flow query gives back msticpy's shape, one row per external address.
    source = connect(f"duckdb:{db}")
    for host, rows in flows.groupby("VMName"):
        back = source.query(
            "Network.list_azure_network_flows_by_host", host_name=host, start=START, end=END
        )
        assert sorted(set(back["AllExtIPs"])) == sorted(
            set(frame.loc[frame["VMName"] == host, "AllExtIPs"])
        )
        assert sorted(set(back["DestIP"])) == sorted(set(rows["DestIP"]))


@pytest.mark.parametrize("version", VERSIONS)
def test_logon_and_indicator_pickles_with_datetime_and_float_indexes_import(tmp_path, version):
    logons = _pandas_reads(_pickle("logons_msticpy", version))
    indicators = _pandas_reads(_pickle("indicators", version))
    assert isinstance(logons.index, pd.DatetimeIndex) and indicators.index.dtype == "float64"
    db = tmp_path / "case.duckdb"

    report = import_paths(
        [_pickle("logons_msticpy", version), _pickle("indicators", version)], db=db
    )

    assert [f.tables for f in report.files] == [
        {"SecurityEvent": len(logons)},
        {"ThreatIntelligenceIndicator": len(indicators)},
    ]
    events = table(db, 'SELECT * FROM SecurityEvent ORDER BY "TimeGenerated"')
    assert (
        events["EventID"].value_counts().to_dict()
        == logons["EventID"].astype(int).value_counts().to_dict()
    )
    assert events["LogonTypeName"].tolist() == logons["LogonTypeName"].astype(str).tolist()
    assert events["TargetUserName"].tolist() == logons["TargetUserName"].astype(str).tolist()
    ti = table(db, 'SELECT * FROM ThreatIntelligenceIndicator ORDER BY "TimeGenerated"')
    # The Float64Index was the ConfidenceScore column: it comes back as that column.
    assert ti["ConfidenceScore"].tolist() == indicators.index.tolist()
    assert ti["NetworkIP"].tolist() == indicators["NetworkIP"].tolist()


@pytest.mark.slow
def test_pandas_1x_pickles_load_through_data(tmp_path):
    logons = _pandas_reads(_pickle("logons_msticpy", "153"))
    flows = _pandas_reads(_pickle("flows_msticpy", "135"))
    db = tmp_path / "empty.duckdb"
    import_paths([_pickle("indicators", "153")], db=db)  # a store; the data comes as data=
    common = {
        "data_source": f"duckdb:{db}",
        "start": START,
        "end": END,
        "output_dir": tmp_path / "out",
        "silent": True,
        "quiet": True,
    }

    res = nbcatalog.run("host_logons_summary", data=logons, options=["-map"], **common)
    assert res.status == "ok"
    sessions = res.logon_sessions
    assert len(sessions) == len(logons)
    failures = int((logons["EventID"] == 4625).sum())
    assert int((sessions["LogonResult"] == "Failure").sum()) == failures

    res = nbcatalog.run("network_flow_summary", data=flows, options=["-geo", "-geo_map"], **common)
    assert res.status == "ok"
    outbound = flows["FlowDirection"] == "O"  # no host given: the log's direction decides
    remote = set(flows.loc[outbound, "DestIP"]) | set(flows.loc[~outbound, "SrcIP"])
    assert set(res.flow_summary["RemoteIP"]) == remote


@pytest.mark.slow
def test_alert_ti_enrich_shows_imported_msticpy_alerts_with_name_and_severity(tmp_path):
    path = _pickle("alerts_msticpy", "115")
    frame = _pandas_reads(path)
    db = tmp_path / "case.duckdb"
    import_paths([path, _pickle("indicators", "115")], db=db)

    res = nbcatalog.run(
        "alert_ti_enrich",
        data_source=f"duckdb:{db}",
        start=START,
        end=END,
        output_dir=tmp_path / "out",
        silent=True,
        quiet=True,
    )

    assert res.status == "ok"
    alerts = res.alerts
    assert sorted(alerts["AlertDisplayName"]) == sorted(frame["AlertDisplayName"])
    assert sorted(alerts["Severity"]) == sorted(frame["Severity"])
    assert sorted(res.alert_names) == sorted(frame["AlertDisplayName"])
    iocs = res.alert_iocs
    assert "192.0.2.150" in set(iocs["Ioc"])  # from the C2 alert's entities
