"""Write the pandas 1.x pickles in this folder (run by hand with pandas 1.x, not by CI).

    python3.11 -m venv /tmp/pd15 && /tmp/pd15/bin/pip install --only-binary :all: \
        "pandas==1.5.3" "numpy<2"
    /tmp/pd15/bin/python tests/realdata/files/pickles/make_pickles.py

and the same with Python 3.10 + "pandas==1.3.5" "numpy<1.23", and Python 3.9 +
"pandas==1.1.5" "numpy<1.20" (the file names carry the pandas version).

Each frame has the shape a msticpy query result has (column names and dtypes as
msticpy's Sentinel queries return them) after what analysts commonly do to one in
a notebook: filter rows (an Int64Index), index by a column (Float64Index,
UInt64Index, DatetimeIndex), make repeated text categorical. Hosts, users,
addresses and alerts are invented for these tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
_HAS_STRING_STORAGE = tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (1, 3)


def _entities(*items: dict) -> str:
    return json.dumps([{"$id": str(n), **item} for n, item in enumerate(items, start=2)])


def alerts() -> pd.DataFrame:
    """SecurityAlert.list_alerts: StartTimeUtc, EndTimeUtc, AlertDisplayName, Severity."""
    rows = [
        (
            "2024-03-04T08:15:00Z",
            "Suspicious PowerShell command line",
            "High",
            "WKSTN-017",
            _entities(
                {"Type": "host", "HostName": "WKSTN-017"}, {"Type": "ip", "Address": "203.0.113.45"}
            ),
        ),
        (
            "2024-03-04T09:02:10Z",
            "Multiple failed RDP logons",
            "Medium",
            "WKSTN-017",
            _entities(
                {"Type": "ip", "Address": "198.51.100.201"},
                {"Type": "account", "Name": "svc-backup", "NTDomain": "FABRIKAM"},
            ),
        ),
        (
            "2024-03-04T09:40:00Z",
            "Informational: new service installed",
            "Informational",
            "SRV-FILE02",
            _entities({"Type": "host", "HostName": "SRV-FILE02"}),
        ),
        (
            "2024-03-04T11:05:31Z",
            "Connection to known C2 address",
            "High",
            "SRV-FILE02",
            _entities(
                {"Type": "ip", "Address": "192.0.2.150"},
                {"Type": "url", "Url": "http://192.0.2.150/gate.php"},
            ),
        ),
        (
            "2024-03-04T12:30:00Z",
            "Rare process ran <script>alert(1)</script>",
            "Low",
            "WKSTN-033",
            _entities({"Type": "process", "CommandLine": 'cmd /c "whoami"'}),
        ),
    ]
    frame = pd.DataFrame(
        {
            "TenantId": "6f1c0d2e-0000-4000-8000-00000000beef",
            "TimeGenerated": pd.to_datetime([r[0] for r in rows], utc=True),
            "AlertDisplayName": [r[1] for r in rows],
            "AlertName": [r[1] for r in rows],
            "Severity": [r[2] for r in rows],
            "Description": [f"{r[1]} on {r[3]}" for r in rows],
            "ProviderName": "ASI Scheduled Alerts",
            "VendorName": "Microsoft",
            "VendorOriginalId": [f"vo-{n}" for n in range(len(rows))],
            "SystemAlertId": [f"9c2d41f0-1a2b-4c3d-8e9f-00000000000{n}" for n in range(len(rows))],
            "ResourceId": "",
            "SourceComputerId": "",
            "AlertType": [r[1] for r in rows],
            "ConfidenceLevel": [None, "High", None, "Medium", None],
            "ConfidenceScore": [np.nan, 0.8, np.nan, 0.65, np.nan],
            "IsIncident": [False, False, False, True, False],
            "StartTimeUtc": pd.to_datetime([r[0] for r in rows], utc=True)
            - pd.Timedelta(minutes=5),
            "EndTimeUtc": pd.to_datetime([r[0] for r in rows], utc=True),
            "ProcessingEndTime": pd.to_datetime([r[0] for r in rows], utc=True)
            + pd.Timedelta(seconds=40),
            "RemediationSteps": "[]",
            "ExtendedProperties": [
                json.dumps({"Compromised Host": r[3], "Query Period": "01:00:00"}) for r in rows
            ],
            "Entities": [r[4] for r in rows],
            "SourceSystem": "Detection",
            "ExtendedLinks": "",
            "ProductName": "Azure Sentinel",
            "ProductComponentName": "Scheduled Alerts",
            "AlertLink": "",
            "Status": "New",
            "CompromisedEntity": [r[3] for r in rows],
            "Tactics": [
                "Execution",
                "CredentialAccess",
                "Persistence",
                "CommandAndControl",
                "Execution",
            ],
            "Techniques": ['["T1059"]', '["T1110"]', '["T1543"]', '["T1071"]', "[]"],
            "Type": "SecurityAlert",
        }
    )
    # An analyst drops the informational alert: the index is an Int64Index 0, 1, 3, 4.
    return frame[frame["Severity"] != "Informational"]


def flows() -> pd.DataFrame:
    """Network.list_azure_network_flows_by_host, mv-expanded over AllExtIPs."""
    base = pd.to_datetime("2024-03-04T10:00:00Z")
    raw = [
        # vm, vm ip, src, dest, direction, l4, l7, port, out, in, public ips
        (
            "WKSTN-017",
            "10.1.0.17",
            "10.1.0.17",
            "203.0.113.45",
            "O",
            "T",
            "https",
            443.0,
            3.0,
            0.0,
            ["203.0.113.45"],
        ),
        (
            "WKSTN-017",
            "10.1.0.17",
            "198.51.100.201",
            "10.1.0.17",
            "I",
            "T",
            "rdp",
            3389.0,
            0.0,
            14.0,
            ["198.51.100.201"],
        ),
        (
            "SRV-FILE02",
            "10.1.2.20",
            "10.1.2.20",
            "192.0.2.150",
            "O",
            "T",
            "http",
            80.0,
            6.0,
            0.0,
            ["192.0.2.150"],
        ),
        ("SRV-FILE02", "10.1.2.20", "10.1.2.20", "10.1.0.17", "O", "U", None, 53.0, 2.0, 0.0, []),
    ]
    rows = []
    for n, (vm, vmip, src, dest, direction, l4, l7, port, out, inn, public) in enumerate(raw):
        start = base + pd.Timedelta(minutes=10 * n)
        ext = dest if direction == "O" else src
        record = {
            "TenantId": "6f1c0d2e-0000-4000-8000-00000000beef",
            "TimeGenerated": start + pd.Timedelta(minutes=12),
            "FlowStartTime": start,
            "FlowEndTime": start + pd.Timedelta(minutes=9, seconds=59),
            "FlowIntervalEndTime": start + pd.Timedelta(minutes=10),
            "FlowType": "ExternalPublic" if public else "IntraVNet",
            "ResourceGroup": "rg-soc-lab",
            "VMName": vm,
            "VMIPAddress": vmip,
            "PublicIPs": public,
            "SrcIP": src,
            "DestIP": dest,
            "L4Protocol": l4,
            "L7Protocol": l7,
            "DestPort": port,
            "FlowDirection": direction,
            "AllowedOutFlows": out,
            "AllowedInFlows": inn,
            "DeniedInFlows": 0.0,
            "DeniedOutFlows": 0.0,
            "RemoteRegion": "",
            "VMRegion": "westeurope",
        }
        # msticpy: AllExtIPs = PublicIPs + [ExtIP], then mv-expand: one row per item.
        for ext_ip in [*public, ext] if public else [ext]:
            rows.append({**record, "AllExtIPs": ext_ip})
    frame = pd.DataFrame(rows)
    frame["L4Protocol"] = frame["L4Protocol"].astype("category")
    # Indexed by a flow number kept as unsigned 64-bit: a UInt64Index.
    frame.index = pd.Index(np.arange(100, 100 + len(frame), dtype=np.uint64))
    return frame


def logons() -> pd.DataFrame:
    """WindowsSecurity.list_host_logons (4624/4625), indexed by time, text as categories."""
    times = pd.to_datetime(
        [
            "2024-03-04T09:00:01Z",
            "2024-03-04T09:00:03Z",
            "2024-03-04T09:00:05Z",
            "2024-03-04T09:01:40Z",
            "2024-03-04T09:20:00Z",
            "2024-03-04T10:05:00Z",
        ],
        utc=True,
    )
    events = [4625, 4625, 4625, 4624, 4624, 4625]
    users = ["administrator", "admin", "administrator", "svc-backup", "jdoe", "jdoe"]
    ips = ["198.51.100.201", "198.51.100.201", "198.51.100.201", "198.51.100.201", "10.1.0.33", "-"]
    types = [10, 10, 10, 10, 3, 2]
    frame = pd.DataFrame(
        {
            "TenantId": "6f1c0d2e-0000-4000-8000-00000000beef",
            "Account": [f"FABRIKAM\\{u}" for u in users],
            "EventID": pd.array(events, dtype="Int32"),
            "TimeGenerated": times,
            "SourceComputerId": "1f0c2a55-0000-4000-8000-000000000017",
            "Computer": pd.Categorical(["WKSTN-017.fabrikam.example"] * 6),
            "SubjectUserName": "WKSTN-017$",
            "SubjectDomainName": "FABRIKAM",
            "SubjectUserSid": "S-1-5-18",
            # pandas 2 cannot read a "string" column pickled by pandas < 1.3 (no storage).
            "TargetUserName": pd.array(users, dtype="string") if _HAS_STRING_STORAGE else users,
            "TargetDomainName": "FABRIKAM",
            "TargetUserSid": [f"S-1-5-21-1004-{n}" for n in range(6)],
            "TargetLogonId": [hex(0x3E7 + n) for n in range(6)],
            "LogonProcessName": "User32",
            "LogonType": types,
            "LogonTypeName": pd.Categorical(
                [
                    {10: "10 - RemoteInteractive", 3: "3 - Network", 2: "2 - Interactive"}[t]
                    for t in types
                ]
            ),
            "AuthenticationPackageName": "Negotiate",
            "Status": ["0xc000006d", "0xc000006d", "0xc000006d", "", "", "0xc000006a"],
            "IpAddress": ips,
            "WorkstationName": "ATTACKER-PC",
            "TimeCreatedUtc": times,
        }
    )
    # Indexed by time (a DatetimeIndex, tz-aware), the column stays as well.
    return frame.set_index(pd.DatetimeIndex(frame["TimeGenerated"], name="EventTime"))


def indicators() -> pd.DataFrame:
    """ThreatIntelligenceIndicator rows indexed by their confidence: a Float64Index."""
    frame = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(
                ["2024-03-01T00:00:00Z", "2024-03-02T06:30:00Z", "2024-03-03T12:00:00Z"], utc=True
            ),
            "IndicatorId": ["ind-1", "ind-2", "ind-3"],
            "Active": [True, True, False],
            "ConfidenceScore": [90.0, 75.5, 40.0],
            "ThreatType": ["C2", "Botnet", "Phishing"],
            "NetworkIP": ["192.0.2.150", "203.0.113.45", ""],
            "Url": ["", "", "http://login.fabrikam-example.test/"],
            "Description": ["lab C2 server", "scanner", "credential phishing page"],
            "ExpirationDateTime": pd.to_datetime(
                ["2024-06-01", "2024-06-01", "2024-04-01"], utc=True
            ),
        }
    )
    return frame.set_index("ConfidenceScore")


def main() -> None:
    if not pd.__version__.startswith("1."):
        raise SystemExit("run with pandas 1.x: the point is its pickle format")
    frames = {
        "alerts_msticpy": alerts(),
        "flows_msticpy": flows(),
        "logons_msticpy": logons(),
        "indicators": indicators(),
    }
    version = pd.__version__.replace(".", "")
    for name, frame in frames.items():
        frame.to_pickle(HERE / f"{name}_pandas{version}.pkl")  # pandas' default protocol
    # Python 3.7 and older wrote protocol 4 at most.
    frames["alerts_msticpy"].to_pickle(HERE / f"alerts_msticpy_pandas{version}_p4.pkl", protocol=4)
    print(f"pandas {pd.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")
    for name, frame in frames.items():
        print(name, type(frame.index).__name__, dict(frame.dtypes.astype(str)))


if __name__ == "__main__":
    main()
