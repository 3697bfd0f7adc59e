"""Planted incident 3: bob's cloud identity used from the attacker's address.

bob signs in from home in Seattle in the morning; 2 h 10 min later
203.0.113.77 (claimed to be Amsterdam, NL) fails once and then signs in as
bob@contoso.com; from there it downloads 60 files from SharePoint and bob's
OneDrive in 10 minutes and grants itself Owner on the subscription's resource group.

Example:
    >>> import pandas as pd
    >>> f = cloud_incident(pd.Timestamp("2026-01-09T06:00:00Z"))
    >>> int((f["OfficeActivity"]["Operation"] == "FileDownloaded").sum())
    60
"""

from __future__ import annotations

import pandas as pd

from nbcatalog.data.demo.cloudrows import azure_activity_rows, office_row, signin_row
from nbcatalog.data.demo.estate import (
    ATTACKER_RDP_IP,
    RESOURCE_GROUP_ID,
    SUBSCRIPTION_ID,
    USERS_BY_NAME,
)
from nbcatalog.data.demo.timeline import stream, uuids

ATTACKER_CITY = ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041)
ATTACKER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
DOWNLOADS = 60
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments/write"
OWNER_ROLE = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
DOWNLOADED = [
    ("https://contoso.sharepoint.com/sites/Finance/", "Shared Documents/Reports"),
    ("https://contoso-my.sharepoint.com/personal/bob_contoso_com/", "Documents"),
]


def cloud_incident(rdp_start: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """SigninLogs, OfficeActivity and AzureActivity rows; times follow the RDP incident."""
    bob = USERS_BY_NAME["bob"]
    ids = uuids(stream(0, "planted-cloud"), DOWNLOADS + 4)
    home = rdp_start - pd.Timedelta(minutes=90)
    signin = rdp_start + pd.Timedelta(minutes=40)
    signins = [
        signin_row(
            home, bob, bob.home_ip, bob.home_city, "OfficeHome", 0, ids[0], device="WKSTN-042"
        ),
        signin_row(
            signin - pd.Timedelta(minutes=1),
            bob,
            ATTACKER_RDP_IP,
            ATTACKER_CITY,
            "Office 365 SharePoint Online",
            50126,
            ids[1],
            user_agent=ATTACKER_UA,
            risk="medium",
        ),
        signin_row(
            signin,
            bob,
            ATTACKER_RDP_IP,
            ATTACKER_CITY,
            "Office 365 SharePoint Online",
            0,
            ids[2],
            user_agent=ATTACKER_UA,
            risk="medium",
        ),
    ]
    downloads = []
    for k in range(DOWNLOADS):
        site, rel = DOWNLOADED[k % 2]
        downloads.append(
            office_row(
                signin + pd.Timedelta(minutes=5, seconds=10 * k),
                bob,
                ATTACKER_RDP_IP,
                "FileDownloaded",
                site,
                rel,
                f"{['Payroll', 'Contract', 'Forecast', 'Invoice', 'Board pack'][k % 5]} {k:02d}"
                f".{['xlsx', 'docx', 'pdf'][k % 3]}",
                ids[3 + k],
                user_agent=ATTACKER_UA,
            )
        )
    scope = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RESOURCE_GROUP_ID}"
    assignment = (
        f"{scope}/providers/Microsoft.Authorization/roleAssignments/"
        "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    )
    role = azure_activity_rows(
        signin + pd.Timedelta(minutes=18),
        bob,
        ATTACKER_RDP_IP,
        ROLE_ASSIGNMENT,
        "Create role assignment",
        assignment,
        ids[-1],
        properties={
            "requestbody": (
                '{"properties":{"roleDefinitionId":"/subscriptions/'
                f'{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{OWNER_ROLE}",'
                f'"principalId":"{bob.object_id}","principalType":"User","scope":"{scope}"}}}}'
            ),
            "entity": assignment,
            "message": ROLE_ASSIGNMENT,
        },
    )
    return {
        "SigninLogs": pd.DataFrame(signins),
        "OfficeActivity": pd.DataFrame(downloads),
        "AzureActivity": pd.DataFrame(role),
    }
