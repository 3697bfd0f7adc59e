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

# LocalData file -> the store rows it holds (msticpy's local_data.yaml names).
LOCALDATA_FILES: dict[str, str] = {
    "host_logons.pkl": 'SELECT * FROM "SecurityEvent" WHERE EventID = 4624',
    "failed_logons.pkl": 'SELECT * FROM "SecurityEvent" WHERE EventID = 4625',
    "processes_on_host.pkl": 'SELECT * FROM "SecurityEvent" WHERE EventID = 4688',
    "all_events_df.pkl": 'SELECT * FROM "SecurityEvent"',
    "alerts_list.pkl": 'SELECT * FROM "SecurityAlert"',
    "az_net_comms_df.pkl": 'SELECT * FROM "AzureNetworkAnalytics_CL"',
    "aad_logons.pkl": 'SELECT * FROM "SigninLogs"',
}


def export_localdata(db: str | Path, folder: str | Path) -> dict[str, int]:
    """Write the LocalData pickles of store `db` into `folder`; file name -> rows.

    Tables the store lacks are skipped (their file is not written), as a workspace
    without them would give nothing to save.

    Example:
        >>> export_localdata("/tmp/demo.duckdb", "/tmp/localdata")["alerts_list.pkl"]
        ...                                                              # doctest: +SKIP
        15
    """
    from nbcatalog.data.store import Store

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    store = Store.open(Path(db), read_only=True)
    try:
        present = {r[0] for r in store.con.execute("SHOW TABLES").fetchall()}
        for name, sql in LOCALDATA_FILES.items():
            table = sql.split('"')[1]
            if table not in present:
                continue
            frame = store.con.execute(sql).df()
            tmp = out / (name + ".part")
            frame.to_pickle(tmp)
            tmp.replace(out / name)  # no half-written pickle for a reader to find
            written[name] = len(frame)
    finally:
        store.close()
    return written
