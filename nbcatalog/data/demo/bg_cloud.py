"""Background cloud activity: Entra ID sign-ins, Microsoft 365 file and mail activity,
and Azure control-plane operations by the admins.

People sign in from the office egress address on workdays and from home
(their own city and ISP address) in the mornings and evenings; now and then a
password is mistyped (50126) or MFA is asked for (50074). Everyone lives in the
Seattle area, so a sign-in from another country stands out.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.timeline import Window
    >>> w = Window.ending(pd.Timestamp("2026-01-10T12:00:00Z"))
    >>> f = signin_frame(1, w, 0.2)
    >>> sorted(f["Location"].unique().tolist())
    ['US']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbcatalog.data.demo.cloudrows import (
    APPS,
    azure_activity_rows,
    dumps,
    office_row,
    signin_row,
)
from nbcatalog.data.demo.estate import (
    ADMINS,
    OFFICE_CITY,
    OFFICE_EGRESS_IP,
    RESOURCE_GROUP_ID,
    SUBSCRIPTION_ID,
    TENANT_ID,
    USERS,
    USERS_BY_NAME,
)
from nbcatalog.data.demo.timeline import Window, sample_times, stream, uuids

SIGNINS_PER_SCALE = 1_400
OFFICE_PER_SCALE = 5_000
AZURE_OPS_PER_SCALE = 160
AUDIT_PER_SCALE = 120
DIRECTORY_OPS = [
    ("Add member to group", "GroupManagement"),
    ("Update user", "UserManagement"),
    ("Reset user password", "UserManagement"),
    ("Add registered owner to device", "Device"),
    ("Update group", "GroupManagement"),
]

SITES = {
    "https://contoso.sharepoint.com/sites/Finance/": "Shared Documents/Reports",
    "https://contoso.sharepoint.com/sites/Engineering/": "Shared Documents/Design",
    "https://contoso.sharepoint.com/sites/HR/": "Shared Documents/Policies",
    "https://contoso.sharepoint.com/sites/Sales/": "Shared Documents/Proposals",
}
FILES = [
    "Quarterly review.docx",
    "Budget 2026.xlsx",
    "Roadmap.pptx",
    "Onboarding checklist.docx",
    "Customer list.xlsx",
    "Architecture.vsdx",
    "Meeting notes.docx",
    "Travel policy.pdf",
]
OPERATIONS = (
    ["FileAccessed"] * 10
    + ["FileModified"] * 3
    + ["FileDownloaded"] * 2
    + ["FileUploaded"]
    + ["MailItemsAccessed"] * 3
    + ["Send"]
)
AZURE_OPS = [
    ("Microsoft.Compute/virtualMachines/start/action", "Start Virtual Machine", "vm"),
    ("Microsoft.Compute/virtualMachines/restart/action", "Restart Virtual Machine", "vm"),
    ("Microsoft.Compute/virtualMachines/write", "Create or Update Virtual Machine", "vm"),
    (
        "Microsoft.Network/networkSecurityGroups/securityRules/write",
        "Create or Update Security Rule",
        "nsg",
    ),
    ("Microsoft.Resources/deployments/write", "Create Deployment", "deployment"),
    (
        "Microsoft.Insights/diagnosticSettings/write",
        "Create or update resource diagnostic setting",
        "vm",
    ),
]
_VMS = ["win-dc01", "win-fs01", "lnx-web01", "lnx-db01", "lnx-jump01"]


def _resource(kind: str, name: str) -> str:
    base = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP_ID}/providers"
    if kind == "vm":
        return f"{base}/Microsoft.Compute/virtualMachines/{name}"
    if kind == "nsg":
        return f"{base}/Microsoft.Network/networkSecurityGroups/contoso-nsg/securityRules/{name}"
    return f"{base}/Microsoft.Resources/deployments/{name}"


def _where(user, at_home: bool) -> tuple[str, tuple]:
    return (user.home_ip, user.home_city) if at_home else (OFFICE_EGRESS_IP, OFFICE_CITY)


def signin_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background SigninLogs rows."""
    rng = stream(seed, "SigninLogs")
    n = max(1, int(SIGNINS_PER_SCALE * scale))
    home = rng.random(n) < 0.3
    times = np.where(
        home,
        sample_times(rng, n, window, "evening").asi8,
        sample_times(rng, n, window, "office").asi8,
    )
    users = rng.integers(0, len(USERS), n)
    apps = rng.integers(0, len(APPS), n)
    err_roll = rng.random(n)
    cids = uuids(rng, n)
    app_names = list(APPS)
    rows = []
    for i in range(n):
        user = USERS[users[i]]
        ip, city = _where(user, bool(home[i]))
        error = 50126 if err_roll[i] < 0.04 else (50074 if err_roll[i] < 0.06 else 0)
        rows.append(
            signin_row(
                pd.Timestamp(times[i], tz="UTC"),
                user,
                ip,
                city,
                app_names[apps[i]],
                error,
                cids[i],
                device=user.workstation,
            )
        )
    return pd.DataFrame(rows)


def office_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background OfficeActivity rows."""
    rng = stream(seed, "OfficeActivity")
    n = max(1, int(OFFICE_PER_SCALE * scale))
    times = sample_times(rng, n, window, "office")
    users = rng.integers(0, len(USERS), n)
    ops = rng.integers(0, len(OPERATIONS), n)
    sites = rng.integers(0, len(SITES) + 1, n)
    files = rng.integers(0, len(FILES), n)
    home = rng.random(n) < 0.15
    ids = uuids(rng, n)
    site_names = list(SITES)
    rows = []
    for i in range(n):
        user = USERS[users[i]]
        if sites[i] == len(SITES):  # the user's own OneDrive
            owner = user.name.replace(".", "_")
            site = f"https://contoso-my.sharepoint.com/personal/{owner}_contoso_com/"
            rel = "Documents"
        else:
            site = site_names[sites[i]]
            rel = SITES[site]
        ip = user.home_ip if home[i] else OFFICE_EGRESS_IP
        rows.append(
            office_row(times[i], user, ip, OPERATIONS[ops[i]], site, rel, FILES[files[i]], ids[i])
        )
    return pd.DataFrame(rows)


def audit_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background AuditLogs rows: the admins' everyday directory changes."""
    rng = stream(seed, "AuditLogs")
    n = max(1, int(AUDIT_PER_SCALE * scale))
    times = sample_times(rng, n, window, "office")
    admins = rng.integers(0, len(ADMINS), n)
    ops = rng.integers(0, len(DIRECTORY_OPS), n)
    targets = rng.integers(0, len(USERS), n)
    cids = uuids(rng, n)
    rows = []
    for i in range(n):
        admin = USERS_BY_NAME[ADMINS[admins[i]]]
        target = USERS[targets[i]]
        op, category = DIRECTORY_OPS[ops[i]]
        rows.append(
            {
                "TenantId": TENANT_ID,
                "TimeGenerated": times[i],
                "SourceSystem": "Azure AD",
                "OperationName": op,
                "Category": category,
                "Result": "success",
                "ResultReason": "",
                "ActivityDisplayName": op,
                "Identity": admin.display_name,
                "InitiatedBy": dumps(
                    {
                        "user": {
                            "userPrincipalName": admin.upn,
                            "id": admin.object_id,
                            "ipAddress": OFFICE_EGRESS_IP,
                        }
                    }
                ),
                "TargetResources": dumps(
                    [
                        {
                            "userPrincipalName": target.upn,
                            "id": target.object_id,
                            "type": "User",
                            "displayName": target.display_name,
                        }
                    ]
                ),
                "AdditionalDetails": "[]",
                "CorrelationId": cids[i],
                "LoggedByService": "Core Directory",
            }
        )
    return pd.DataFrame(rows)


def azure_activity_frame(seed: int, window: Window, scale: float = 1.0) -> pd.DataFrame:
    """Background AzureActivity rows (Start + Success per operation) by the admins."""
    rng = stream(seed, "AzureActivity")
    n = max(1, int(AZURE_OPS_PER_SCALE * scale))
    times = sample_times(rng, n, window, "office")
    admins = rng.integers(0, len(ADMINS), n)
    ops = rng.integers(0, len(AZURE_OPS), n)
    vms = rng.integers(0, len(_VMS), n)
    home = rng.random(n) < 0.2
    cids = uuids(rng, n)
    rows: list[dict] = []
    for i in range(n):
        user = USERS_BY_NAME[ADMINS[admins[i]]]
        op, friendly, kind = AZURE_OPS[ops[i]]
        name = {"vm": _VMS[vms[i]], "nsg": "allow-https-inbound", "deployment": f"update-{i:04d}"}[
            kind
        ]
        ip = user.home_ip if home[i] else OFFICE_EGRESS_IP
        rows += azure_activity_rows(
            times[i], user, ip, op, friendly, _resource(kind, name), cids[i]
        )
    return pd.DataFrame(rows)
