"""Per-source detail for the accounts account_summary selected.

After `accounts.find_accounts` has chosen the accounts, these steps show each source
in its own shape: host logons (Windows and Linux) with a summary per host and logon
type; Entra ID sign-ins with where they came from (the location Entra ID recorded
and GeoIP of the address); Azure control-plane activity; Office 365 activity with
bursts of one operation; and every address the account used, with its owner and a
map. `all_activity` puts every source on one time axis for the timelines.

Example (in a template):
    logons = nblib.accountdetail.host_logons(accounts)
    signins = nblib.accountdetail.signin_locations(inv, accounts)
    azure = nblib.accountdetail.azure_activity(inv, accounts)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pandas as pd

from nbcatalog.nblib.accounts import SOURCES, AccountMatches
from nbcatalog.nblib.entities import AccountName, account_matches
from nbcatalog.nblib.findings import Finding
from nbcatalog.nblib.values import first_column

HOST_SOURCES = (SOURCES["windows"][0], SOURCES["linux"][0])
LOGON_COLUMNS = ["TimeGenerated", "Source", "Account", "Host", "IpAddress", "Result", "LogonType"]
LOGON_SUMMARY_COLUMNS = [
    "Source",
    "Host",
    "LogonType",
    "Successes",
    "Failures",
    "IpAddresses",
    "FirstSeen",
    "LastSeen",
]
SIGNIN_COLUMNS = [
    "TimeGenerated",
    "UserPrincipalName",
    "AppDisplayName",
    "IPAddress",
    "Result",
    "ResultType",
    "City",
    "State",
    "Country",
    "Latitude",
    "Longitude",
    "GeoCountry",
    "AsnOrg",
    "ClientAppUsed",
    "RiskLevelDuringSignIn",
]
AZURE_COLUMNS = [
    "TimeGenerated",
    "Caller",
    "OperationNameValue",
    "ActivityStatusValue",
    "CallerIpAddress",
    "ResourceGroup",
    "ResourceProviderValue",
    "ResourceId",
]
OFFICE_COLUMNS = [
    "TimeGenerated",
    "UserId",
    "Operation",
    "OfficeWorkload",
    "ClientIP",
    "Site_Url",
    "SourceFileName",
    "UserAgent",
]
ACTIVITY_COLUMNS = ["TimeGenerated", "Source", "Account", "IpAddress", "Operation", "Result"]
IP_COLUMNS = [
    "IpAddress",
    "IpClass",
    "CountryCode",
    "CountryName",
    "City",
    "AsnOrg",
    "Asn",
    "Sources",
    "Events",
    "Failures",
    "FirstSeen",
    "LastSeen",
    "Latitude",
    "Longitude",
]
BURST_WINDOW = pd.Timedelta(minutes=10)
BURST_MIN = 20  # one operation this many times in BURST_WINDOW is a burst worth saying


def _joined(values: Iterable[Any]) -> str:
    return ", ".join(
        sorted({str(v) for v in values if v is not None and str(v) not in ("", "nan")})
    )


# ------------------------------------------------------------------ host logons


def host_logons(found: AccountMatches) -> Finding:
    """Windows and Linux logons of the selected accounts (from `find_accounts`' events)."""
    finding = Finding("Host logons", columns=LOGON_COLUMNS)
    events = found.selected_events
    events = events[events["Source"].isin(HOST_SOURCES)]
    finding.data = (
        events.rename(columns={"Detail": "LogonType"})[LOGON_COLUMNS].reset_index(drop=True)
        if not events.empty
        else pd.DataFrame(columns=LOGON_COLUMNS)
    )
    if finding.empty:
        finding.note("info", "no Windows or Linux logons for the selected accounts")
        return finding
    hosts = finding.data.groupby("Source")["Host"].nunique()
    finding.note(
        "info",
        "; ".join(f"{source}: {n} host(s)" for source, n in hosts.items()),
    )
    remote = finding.data[
        (finding.data["Result"] == "Success")
        & finding.data["LogonType"].astype(str).str.contains("RemoteInteractive", na=False)
    ]
    if not remote.empty:
        finding.note(
            "finding",
            "remote desktop logons: "
            + ", ".join(
                f"{r.Host} from {r.IpAddress or 'an unknown address'}"
                for r in remote.drop_duplicates(["Host", "IpAddress"]).itertuples()
            ),
        )
    return finding


def host_logon_summary(logons: pd.DataFrame) -> pd.DataFrame:
    """Logons counted per source, host and logon type, with successes and failures.

    Example:
        >>> rows = pd.DataFrame({"Source": ["Linux logons"] * 2, "Host": ["LNX-JUMP01"] * 2,
        ...     "LogonType": ["sshd"] * 2, "Result": ["Success", "Failure"],
        ...     "IpAddress": ["10.0.0.5", None], "TimeGenerated": pd.Timestamp(0, tz="UTC")})
        >>> host_logon_summary(rows)[["Host", "Successes", "Failures"]].values.tolist()
        [['LNX-JUMP01', 1, 1]]
    """
    if logons is None or logons.empty:
        return pd.DataFrame(columns=LOGON_SUMMARY_COLUMNS)
    table = (
        logons.fillna({"LogonType": ""})
        .groupby(["Source", "Host", "LogonType"], dropna=False)
        .agg(
            Successes=("Result", lambda r: int((r == "Success").sum())),
            Failures=("Result", lambda r: int((r == "Failure").sum())),
            IpAddresses=("IpAddress", _joined),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    return table.sort_values(["Source", "Host", "LogonType"])[LOGON_SUMMARY_COLUMNS].reset_index(
        drop=True
    )


# ------------------------------------------------------------- cloud accounts


def cloud_accounts(found: AccountMatches) -> tuple[list[str] | None, str]:
    """The Entra ID names (UPNs) whose cloud activity to show, and a note when none.

    Selected Entra accounts when there are any; None ("match the typed name") when
    no source knows an Entra account for the name; an empty list when Entra accounts
    match but the analyst picked another source's account.

    Example:
        >>> from nbcatalog.nblib.accounts import AccountMatches
        >>> found = AccountMatches("x", wanted="bob")
        >>> found.data = pd.DataFrame({"AccountId": ["entra:bob@contoso.com", "linux:bob"],
        ...                            "Account": ["bob@contoso.com", "bob"]})
        >>> found.selected = ["linux:bob"]
        >>> cloud_accounts(found)[0]
        []
    """
    if found.data.empty:
        return None, ""
    entra = found.data[found.data["AccountId"].str.startswith(SOURCES["signins"][1] + ":")]
    chosen = entra[entra["AccountId"].isin(found.selected)]
    if not chosen.empty:
        return list(dict.fromkeys(chosen["Account"])), ""
    if not entra.empty:
        ids = ", ".join(entra["AccountId"])
        return [], f"the selected account is not an Entra ID account: pick {ids} to see it"
    return None, ""


def _cloud_rows(
    inv: Any, found: AccountMatches, query: str, column: str, title: str
) -> tuple[Finding, pd.DataFrame]:
    """Rows of a per-account cloud query that belong to the selected accounts."""
    finding = Finding(title)
    names, why = cloud_accounts(found)
    wanted = found.wanted
    if not wanted or names == []:
        finding.note("skipped", why or "no account given")
        return finding, pd.DataFrame()
    result = inv.query(query, title=title, account_name=AccountName.parse(wanted).user)
    finding.notes += result.notes
    frame = result.data
    if frame.empty or column not in frame.columns:
        return finding, pd.DataFrame()
    targets = names if names else [wanted]
    keep = [any(account_matches(t, str(v)) for t in targets) for v in frame[column].fillna("")]
    return finding, frame[keep].reset_index(drop=True)


# ------------------------------------------------------------------ sign-ins


def _location(text: Any) -> dict[str, Any]:
    """City, state, country and coordinates from SigninLogs' LocationDetails JSON."""
    if isinstance(text, dict):
        data = text
    else:
        try:
            data = json.loads(text) if isinstance(text, str) and len(text) < 10000 else {}
        except ValueError:
            data = {}
    if not isinstance(data, dict):
        data = {}
    coords = data.get("geoCoordinates") if isinstance(data.get("geoCoordinates"), dict) else {}

    def number(value: Any) -> float | None:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None

    return {
        "City": data.get("city") or None,
        "State": data.get("state") or None,
        "Country": data.get("countryOrRegion") or None,
        "Latitude": number(coords.get("latitude")),
        "Longitude": number(coords.get("longitude")),
    }


def signin_locations(inv: Any, found: AccountMatches) -> Finding:
    """Entra ID sign-ins of the selected account with where each came from.

    City/State/Country/Latitude/Longitude are what Entra ID recorded (LocationDetails);
    GeoCountry and AsnOrg are the offline GeoIP answer for the address.
    """
    from nbcatalog.enrich.geoip import lookup_ips

    finding, rows = _cloud_rows(
        inv, found, SOURCES["signins"][2], "UserPrincipalName", "Sign-ins and their locations"
    )
    finding.columns = [
        "TimeGenerated",
        "AppDisplayName",
        "IPAddress",
        "Result",
        "City",
        "Country",
        "GeoCountry",
        "AsnOrg",
    ]
    finding.data = pd.DataFrame(columns=SIGNIN_COLUMNS)
    if rows.empty:
        if not finding.notes:
            finding.note("info", f"no Entra ID sign-ins for {found.wanted!r} in {inv.period}")
        return finding
    places = pd.DataFrame(
        [_location(v) for v in first_column(rows, "LocationDetails")], index=rows.index
    )
    data = pd.concat([rows, places], axis=1)
    data["Result"] = (
        first_column(data, "ResultType")
        .fillna("")
        .astype(str)
        .map(lambda r: "Success" if r in ("0", "") else "Failure")
    )
    geo = lookup_ips(data["IPAddress"].dropna().astype(str).unique())
    geo = geo.set_index("IpAddress")
    data["GeoCountry"] = data["IPAddress"].map(geo["CountryCode"]) if not geo.empty else None
    data["AsnOrg"] = data["IPAddress"].map(geo["AsnOrg"]) if not geo.empty else None
    data["Country"] = data["Country"].fillna(first_column(data, "Location"))
    for column in SIGNIN_COLUMNS:
        if column not in data.columns:
            data[column] = None
    data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True)
    finding.data = data.sort_values("TimeGenerated")[SIGNIN_COLUMNS].reset_index(drop=True)
    countries = sorted({str(c) for c in finding.data["Country"].dropna() if str(c)})
    if len(countries) > 1:
        per = finding.data.groupby("Country")["IPAddress"].agg(_joined)
        finding.note(
            "finding",
            f"sign-ins from {len(countries)} countries: "
            + "; ".join(f"{c} ({per.get(c, '')})" for c in countries),
        )
    return finding


# ------------------------------------------------------------- Azure, Office


def azure_activity(inv: Any, found: AccountMatches) -> Finding:
    """Azure control-plane operations the selected account made (AzureActivity)."""
    finding, rows = _cloud_rows(
        inv, found, "Azure.list_azure_activity_for_account", "Caller", "Azure activity"
    )
    finding.columns = AZURE_COLUMNS[:6]
    finding.data = rows if not rows.empty else pd.DataFrame(columns=AZURE_COLUMNS)
    if finding.empty:
        if not finding.notes:
            finding.note("info", f"no Azure activity for {found.wanted!r} in {inv.period}")
        return finding
    sensitive = finding.data[
        first_column(finding.data, "OperationNameValue")
        .astype(str)
        .str.contains("roleAssignments/write|roleDefinitions/write|elevateAccess", case=False)
    ]
    if not sensitive.empty:
        finding.note(
            "finding",
            f"{len(sensitive)} role or access change(s): "
            + _joined(sensitive["OperationNameValue"])
            + f" from {_joined(first_column(sensitive, 'CallerIpAddress'))}",
        )
    return finding


def _operation_summary(
    activity: pd.DataFrame, keys: tuple[str, str], **joined: str
) -> pd.DataFrame:
    """Operations counted per `keys`, busiest first; each `joined` column lists the
    distinct values of its source column, then first and last seen."""
    columns = [*keys, "Operations", *joined, "FirstSeen", "LastSeen"]
    if activity is None or activity.empty:
        return pd.DataFrame(columns=columns)
    frame = activity.assign(**{k: first_column(activity, k).fillna("") for k in keys})
    table = (
        frame.groupby(list(keys))
        .agg(
            Operations=("TimeGenerated", "size"),
            **{name: (source, _joined) for name, source in joined.items()},
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    return table.sort_values("Operations", ascending=False, kind="stable")[columns].reset_index(
        drop=True
    )


def azure_activity_summary(activity: pd.DataFrame) -> pd.DataFrame:
    """Azure operations counted per provider and operation, with caller addresses.

    Example:
        >>> a = pd.DataFrame({"ResourceProviderValue": ["MICROSOFT.AUTHORIZATION"],
        ...     "OperationNameValue": ["roleAssignments/write"], "CallerIpAddress": ["1.2.3.4"],
        ...     "ActivityStatusValue": ["Success"], "TimeGenerated": pd.Timestamp(0, tz="UTC")})
        >>> azure_activity_summary(a)["Operations"].tolist()
        [1]
    """
    return _operation_summary(
        activity,
        ("ResourceProviderValue", "OperationNameValue"),
        Statuses="ActivityStatusValue",
        IpAddresses="CallerIpAddress",
    )


def office_activity(inv: Any, found: AccountMatches) -> Finding:
    """Office 365 operations of the selected account; a burst of one operation is a finding."""
    finding, rows = _cloud_rows(
        inv, found, "Office365.list_activity_for_account", "UserId", "Office 365 activity"
    )
    finding.columns = OFFICE_COLUMNS[:7]
    finding.data = rows if not rows.empty else pd.DataFrame(columns=OFFICE_COLUMNS)
    if finding.empty:
        if not finding.notes:
            finding.note("info", f"no Office 365 activity for {found.wanted!r} in {inv.period}")
        return finding
    for burst in office_bursts(finding.data).itertuples():
        finding.note(
            "finding",
            f"{burst.Count} {burst.Operation} operations in {_minutes(BURST_WINDOW)} minutes "
            f"from {burst.ClientIP or 'an unknown address'}, "
            f"starting {burst.Start:%Y-%m-%d %H:%M} UTC",
        )
    return finding


def _minutes(span: pd.Timedelta) -> int:
    return int(span.total_seconds() // 60)


def office_bursts(activity: pd.DataFrame, window: pd.Timedelta = BURST_WINDOW) -> pd.DataFrame:
    """The busiest `window` of each operation and address, when it reaches BURST_MIN.

    Example:
        >>> t = pd.date_range("2024-05-01", periods=30, freq="10s", tz="UTC")
        >>> a = pd.DataFrame({"TimeGenerated": t, "Operation": "FileDownloaded",
        ...                   "ClientIP": "203.0.113.77"})
        >>> office_bursts(a)[["Operation", "Count"]].values.tolist()
        [['FileDownloaded', 30]]
    """
    columns = ["Operation", "ClientIP", "Count", "Start", "End"]
    if activity is None or activity.empty:
        return pd.DataFrame(columns=columns)
    frame = activity.assign(
        t=pd.to_datetime(activity["TimeGenerated"], utc=True),
        ClientIP=first_column(activity, "ClientIP").fillna(""),
        Operation=first_column(activity, "Operation").fillna(""),
    )
    rows = []
    for (operation, ip), group in frame.groupby(["Operation", "ClientIP"]):
        times = group["t"].sort_values().reset_index(drop=True)
        # For each event, how many of the same kind follow within the window.
        ends = times.searchsorted(times + window, side="right")
        counts = ends - times.index.to_numpy()
        best = int(counts.argmax())
        if counts[best] >= BURST_MIN:
            rows.append(
                {
                    "Operation": operation,
                    "ClientIP": ip,
                    "Count": int(counts[best]),
                    "Start": times[best],
                    "End": times[ends[best] - 1],
                }
            )
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values("Count", ascending=False).reset_index(drop=True)


def office_activity_summary(activity: pd.DataFrame) -> pd.DataFrame:
    """Office operations counted per workload and operation, with client addresses."""
    return _operation_summary(activity, ("OfficeWorkload", "Operation"), IpAddresses="ClientIP")


# --------------------------------------------------- everything on one time axis


def all_activity(
    found: AccountMatches,
    azure: pd.DataFrame | None = None,
    office: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every event of the selected accounts, one row each (ACTIVITY_COLUMNS).

    Logons and sign-ins come from `found` (its events); Azure and Office rows from
    their steps.
    """
    frames = []
    events = found.selected_events
    if not events.empty:
        frames.append(
            pd.DataFrame(
                {
                    "TimeGenerated": events["TimeGenerated"],
                    "Source": events["Source"],
                    "Account": events["Account"],
                    "IpAddress": events["IpAddress"],
                    "Operation": events["Detail"].astype("string"),
                    "Result": events["Result"],
                }
            )
        )
    if azure is not None and not azure.empty:
        frames.append(
            pd.DataFrame(
                {
                    "TimeGenerated": azure["TimeGenerated"],
                    "Source": "Azure activity",
                    "Account": first_column(azure, "Caller"),
                    "IpAddress": first_column(azure, "CallerIpAddress"),
                    "Operation": first_column(azure, "OperationNameValue"),
                    "Result": first_column(azure, "ActivityStatusValue"),
                }
            )
        )
    if office is not None and not office.empty:
        frames.append(
            pd.DataFrame(
                {
                    "TimeGenerated": office["TimeGenerated"],
                    "Source": "Office 365 activity",
                    "Account": first_column(office, "UserId"),
                    "IpAddress": first_column(office, "ClientIP"),
                    "Operation": first_column(office, "Operation"),
                    "Result": first_column(office, "ResultStatus"),
                }
            )
        )
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS)
    data = pd.concat(frames, ignore_index=True)
    data["TimeGenerated"] = pd.to_datetime(data["TimeGenerated"], utc=True)
    return data.sort_values("TimeGenerated", kind="stable")[ACTIVITY_COLUMNS].reset_index(drop=True)


def _usable_ip(value: Any) -> str:
    from nbcatalog.enrich.ipclass import classify_ip

    text = str(value or "").strip()
    try:
        kind = classify_ip(text)
    except ValueError:
        return ""
    return "" if kind == "loopback" else text


def ip_summary(activity: pd.DataFrame) -> Finding:
    """Every address the account's activity came from, with GeoIP, owner and counts.

    `data` has IP_COLUMNS (one row per address, busiest first); loopback and
    unparseable values are left out.
    """
    from nbcatalog.enrich.geoip import lookup_ips

    finding = Finding("IP addresses the account used", columns=IP_COLUMNS[:11])
    finding.data = pd.DataFrame(columns=IP_COLUMNS)
    if activity is None or activity.empty:
        finding.note("info", "no activity with an address")
        return finding
    frame = activity.assign(IpAddress=activity["IpAddress"].map(_usable_ip))
    frame = frame[frame["IpAddress"] != ""]
    if frame.empty:
        finding.note("info", "none of the activity names a usable remote address")
        return finding
    table = (
        frame.groupby("IpAddress")
        .agg(
            Sources=("Source", _joined),
            Events=("TimeGenerated", "size"),
            Failures=("Result", lambda r: int((r.astype(str) == "Failure").sum())),
            FirstSeen=("TimeGenerated", "min"),
            LastSeen=("TimeGenerated", "max"),
        )
        .reset_index()
    )
    geo = lookup_ips(table["IpAddress"])
    table = table.merge(geo, on="IpAddress", how="left")
    for column in IP_COLUMNS:
        if column not in table.columns:
            table[column] = None
    finding.data = table.sort_values(["Events", "IpAddress"], ascending=[False, True])[
        IP_COLUMNS
    ].reset_index(drop=True)
    countries = sorted({str(c) for c in finding.data["CountryCode"].dropna()})
    finding.note(
        "info",
        f"{len(finding.data)} address(es)"
        + (f" located in {', '.join(countries)}" if countries else "")
        + "; addresses that are not public have no location",
    )
    return finding


def located_addresses(addresses: pd.DataFrame, signins: pd.DataFrame | None) -> pd.DataFrame:
    """The addresses with a place to draw: GeoIP's, else where Entra ID placed a sign-in.

    Column `Located` says which ("GeoIP" or "Entra ID sign-in"); addresses with
    neither are left out.

    Example:
        >>> ips = pd.DataFrame({"IpAddress": ["203.0.113.77"], "Latitude": [None],
        ...                     "Longitude": [None], "CountryCode": [None], "Events": [3]})
        >>> s = pd.DataFrame({"IPAddress": ["203.0.113.77"], "Latitude": [52.4],
        ...                   "Longitude": [4.9], "Country": ["NL"]})
        >>> located_addresses(ips, s)[["CountryCode", "Located"]].values.tolist()
        [['NL', 'Entra ID sign-in']]
    """
    if addresses is None or addresses.empty:
        return pd.DataFrame(columns=[*IP_COLUMNS, "Located"])
    frame = addresses.copy()
    frame["Located"] = frame["Latitude"].notna().map({True: "GeoIP", False: None})
    if signins is not None and not signins.empty:
        places = (
            signins.dropna(subset=["Latitude", "Longitude"])
            .drop_duplicates("IPAddress", keep="last")
            .set_index("IPAddress")
        )
        missing = frame["Latitude"].isna() & frame["IpAddress"].isin(places.index)
        for target, source in (
            ("Latitude", "Latitude"),
            ("Longitude", "Longitude"),
            ("CountryCode", "Country"),
        ):
            frame[target] = frame[target].astype(object)
            frame.loc[missing, target] = frame.loc[missing, "IpAddress"].map(places[source])
        frame.loc[missing, "Located"] = "Entra ID sign-in"
    return frame.dropna(subset=["Latitude", "Longitude"]).reset_index(drop=True)


def ip_all_data(activity: pd.DataFrame, addresses: pd.DataFrame) -> pd.DataFrame:
    """Every event with an address, joined with that address's GeoIP columns."""
    geo_columns = ["IpAddress", "IpClass", "CountryCode", "City", "AsnOrg"]
    if activity is None or activity.empty or addresses is None or addresses.empty:
        return pd.DataFrame(columns=ACTIVITY_COLUMNS + geo_columns[1:])
    frame = activity.assign(IpAddress=activity["IpAddress"].map(_usable_ip))
    frame = frame[frame["IpAddress"] != ""]
    return frame.merge(addresses[geo_columns], on="IpAddress", how="left").reset_index(drop=True)


def events_for_asn(results: Any, asn: str) -> pd.DataFrame:
    """The account's events from addresses of one AS owner (name or number), from a run.

    A drill-down on account_summary's harvested `ip_all_data` and `ip_summary`.

    Example:
        >>> res = nbcatalog.run("account_summary", account="bob")   # doctest: +SKIP
        >>> res.drilldown("pick_asn", asn="COMCAST-7922")            # doctest: +SKIP
    """
    from nbcatalog.errors import UsageError

    addresses = results["ip_summary"]
    wanted = str(asn).strip().casefold()
    owners = addresses.assign(
        _org=addresses["AsnOrg"].astype("string").str.casefold(),
        _num=addresses["Asn"].astype("string").str.casefold(),
    )
    chosen = owners[(owners["_org"] == wanted) | (owners["_num"] == wanted.removeprefix("as"))]
    if chosen.empty:
        known = ", ".join(sorted({str(v) for v in addresses["AsnOrg"].dropna()})) or "none"
        raise UsageError(f"no address of AS owner {asn!r} in this run; owners: {known}")
    events = results["ip_all_data"]
    return events[events["IpAddress"].isin(chosen["IpAddress"])].reset_index(drop=True)
