"""Write a store's tables as msticpy LocalData pickles, in msticnb's test-data layout.

msticpy's ``LocalData`` environment maps each query to one pickled DataFrame
(``msticpy/data/queries/localdata/local_data.yaml``): ``host_logons.pkl`` for
``WindowsSecurity.list_host_logons``, ``processes_on_host.pkl`` for
``list_host_processes``, ``alerts_list.pkl``, ``az_net_comms_df.pkl``, ... as
msticnb's own tests lay them out. `export_localdata` writes those files from a
DuckDB store (every host's rows, as such files hold), so notebooklets can be run on
``msticpy:LocalData`` against known data.

Example:
    >>> export_localdata("/tmp/demo.duckdb", "/tmp/localdata")          # doctest: +SKIP
    {'host_logons.pkl': 24001, ...}
"""

from __future__ import annotations

from pathlib import Path

# LocalData file -> (the table it comes from, the rows as the query library returns
# them for every host). msticnb's pickles are saved query results, so the columns are
# the queries' (VMName, not the raw VM_s), read through the library's own macros.
LOCALDATA_FILES: dict[str, tuple[str, str]] = {
    "host_logons.pkl": (
        "SecurityEvent",
        "SELECT * FROM win_logon_events() WHERE EventID = 4624 ORDER BY TimeGenerated",
    ),
    "failed_logons.pkl": (
        "SecurityEvent",
        "SELECT * FROM win_logon_events() WHERE EventID = 4625 ORDER BY TimeGenerated",
    ),
    "processes_on_host.pkl": (
        "SecurityEvent",
        "SELECT * FROM win_process_events() ORDER BY TimeGenerated",
    ),
    "all_events_df.pkl": ("SecurityEvent", 'SELECT * FROM "SecurityEvent" ORDER BY TimeGenerated'),
    "alerts_list.pkl": ("SecurityAlert", "SELECT * FROM alerts() ORDER BY TimeGenerated"),
    "az_net_comms_df.pkl": (
        "AzureNetworkAnalytics_CL",
        "SELECT * EXCLUDE (VM_s, VMIP_s, SrcIP_s, DestIP_s) FROM azure_flows($start, $end) "
        "ORDER BY TimeGenerated",
    ),
    "aad_logons.pkl": ("SigninLogs", 'SELECT * FROM "SigninLogs" ORDER BY TimeGenerated'),
}
_EVER = {"start": "1970-01-01T00:00:00Z", "end": "2200-01-01T00:00:00Z"}


def export_localdata(db: str | Path, folder: str | Path) -> dict[str, int]:
    """Write the LocalData pickles of store `db` into `folder`; file name -> rows.

    Tables the store lacks are skipped (their file is not written), as a workspace
    without them would give nothing to save.

    Example:
        >>> export_localdata("/tmp/demo.duckdb", "/tmp/localdata")["alerts_list.pkl"]
        ...                                                              # doctest: +SKIP
        15
    """
    from nbcatalog.data.source import DuckDBSource

    source = DuckDBSource(db)
    present = set(source.tables())
    out = Path(folder)
    written: dict[str, int] = {}
    for name, (table, sql) in LOCALDATA_FILES.items():
        if table not in present:
            continue
        params = {k: v for k, v in _EVER.items() if f"${k}" in sql}
        frame = source.sql(sql, params)
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / (name + ".part")
        frame.to_pickle(tmp)
        tmp.replace(out / name)  # no half-written pickle for a reader to find
        written[name] = len(frame)
    return written
