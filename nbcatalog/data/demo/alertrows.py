"""SecurityAlert, HuntingBookmark and ThreatIntelligenceIndicator row builders.

`Entities` is written the way Sentinel writes it: a JSON array whose objects carry a
`$id` and a `Type` ("host", "account", "ip", "url", "process", "file", "filehash")
with that type's fields (HostName, Name/NTDomain/UPNSuffix, Address, Url, ...);
a process refers to its image file with `{"$ref": ...}`.

Example:
    >>> import json
    >>> ents = json.loads(entities_json([host("WKSTN-042"), ip("203.0.113.77")]))
    >>> [(e["$id"], e["Type"]) for e in ents]
    [('2', 'host'), ('3', 'ip')]
"""

from __future__ import annotations

import json

import pandas as pd

from nbcatalog.data.demo.estate import (
    DNS_DOMAIN,
    DOMAIN,
    HOSTS_BY_NAME,
    TENANT_ID,
    USERS_BY_NAME,
)

_TWENTY_MINUTES = pd.Timedelta(minutes=20)


def host(name: str) -> dict:
    """A host entity of the estate."""
    h = HOSTS_BY_NAME[name]
    entity = {"HostName": name, "DnsDomain": DNS_DOMAIN, "OSFamily": h.os, "Type": "host"}
    if h.os == "Windows":
        entity["NTDomain"] = DOMAIN
    return entity


def account(name: str, *, domain: str | None = DOMAIN, cloud: bool = False) -> dict:
    """An account entity; `cloud` adds the Entra ID object id and UPN suffix."""
    entity: dict[str, object] = {"Name": name}
    if domain:
        entity["NTDomain"] = domain
    user = USERS_BY_NAME.get(name)
    if user is not None:
        entity["Sid"] = user.sid
        entity["UPNSuffix"] = DNS_DOMAIN
        if cloud:
            entity["AadUserId"] = user.object_id
    entity["Type"] = "account"
    return entity


def ip(address: str) -> dict:
    """An IP address entity."""
    return {"Address": address, "Type": "ip"}


def url(address: str) -> dict:
    """A URL entity."""
    return {"Url": address, "Type": "url"}


def file(name: str, directory: str, sha256: str | None = None) -> dict:
    """A file entity (with its hash when known)."""
    entity: dict[str, object] = {"Name": name, "Directory": directory, "Type": "file"}
    if sha256:
        entity["FileHashes"] = [{"Algorithm": "SHA256", "Value": sha256, "Type": "filehash"}]
    return entity


def process(pid: str, command_line: str, image: dict, created: pd.Timestamp) -> dict:
    """A process entity; `image` is the file entity of its executable."""
    return {
        "ProcessId": pid,
        "CommandLine": command_line,
        "CreationTimeUtc": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ImageFile": image,
        "Type": "process",
    }


def entities_json(items: list[dict]) -> str:
    """Number the entities with `$id` (from "2", as Sentinel does) and serialise them."""
    out: list[dict] = []
    next_id = 2
    for item in items:
        item = dict(item)
        image = item.pop("ImageFile", None)
        if image is not None:
            image = {"$id": str(next_id), **image}
            out.append(image)
            next_id += 1
            item["ImageFile"] = {"$ref": image["$id"]}
        out.append({"$id": str(next_id), **item})
        next_id += 1
    return json.dumps(out, separators=(",", ":"))


def alert_row(
    t: pd.Timestamp,
    name: str,
    severity: str,
    description: str,
    items: list[dict],
    *,
    alert_id: str,
    tactics: str,
    techniques: list[str],
    compromised: str = "",
    product: str = "Azure Sentinel",
    provider: str = "ASI Scheduled Alerts",
    status: str = "New",
    duration: pd.Timedelta = _TWENTY_MINUTES,
) -> dict:
    """One SecurityAlert row."""
    return {
        "TenantId": TENANT_ID,
        "TimeGenerated": t + pd.Timedelta(minutes=5),
        "SourceSystem": "Detection",
        "DisplayName": name,
        "AlertName": name,
        "AlertSeverity": severity,
        "Description": description,
        "ProviderName": provider,
        "VendorName": "Microsoft",
        "VendorOriginalId": alert_id.replace("-", "")[:24],
        "SystemAlertId": alert_id,
        "ResourceId": "",
        "AlertType": f"{TENANT_ID}_{name.replace(' ', '')}",
        "ConfidenceLevel": "Unknown",
        "IsIncident": False,
        "StartTime": t - duration,
        "EndTime": t,
        "ProcessingEndTime": t + pd.Timedelta(minutes=5),
        "RemediationSteps": json.dumps(["Investigate the entities named in the alert."]),
        "ExtendedProperties": json.dumps(
            {
                "Query Period": "05:00:00",
                "Trigger Operator": "GreaterThan",
                "Trigger Threshold": "0",
            }
        ),
        "Entities": entities_json(items),
        "ExtendedLinks": "",
        "ProductName": product,
        "ProductComponentName": "Scheduled Alerts" if product == "Azure Sentinel" else "",
        "AlertLink": "",
        "Status": status,
        "CompromisedEntity": compromised,
        "Tactics": tactics,
        "Techniques": json.dumps(techniques),
        "Type": "SecurityAlert",
    }


def indicator_row(
    t: pd.Timestamp,
    indicator_id: str,
    kind: str,
    value: str,
    threat_type: str,
    description: str,
    *,
    confidence: float = 80,
    severity: int = 4,
    provider: str = "Microsoft Defender Threat Intelligence",
    file_name: str | None = None,
) -> dict:
    """One ThreatIntelligenceIndicator row; `kind` is ip, url, domain or sha256."""
    row = {
        "TenantId": TENANT_ID,
        "TimeGenerated": t,
        "SourceSystem": "SecurityInsights",
        "IndicatorId": indicator_id,
        "Action": "alert",
        "Active": True,
        "ConfidenceScore": float(confidence),
        "Description": description,
        "ThreatType": threat_type,
        "ThreatSeverity": severity,
        "TrafficLightProtocolLevel": "Amber",
        "ExpirationDateTime": t + pd.Timedelta(days=90),
        "ExternalIndicatorId": f"indicator--{indicator_id}",
        "Tags": json.dumps([threat_type.lower()]),
        "TargetProduct": "Azure Sentinel",
        "ThreatIntelligenceIndicator_Type": {
            "ip": "ipv4-addr",
            "url": "url",
            "domain": "domain-name",
            "sha256": "file",
        }[kind],
        "IndicatorProvider": provider,
    }
    if kind == "ip":
        row["NetworkIP"] = value
    elif kind == "url":
        row["Url"] = value
    elif kind == "domain":
        row["DomainName"] = value
    else:
        row["FileHashType"] = "SHA256"
        row["FileHashValue"] = value
        row["FileName"] = file_name
    return row
