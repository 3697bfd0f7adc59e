"""Row builders for the cloud tables: SigninLogs, OfficeActivity, AzureActivity.

Background generators and the planted incident share these, so a planted row looks
exactly like an ordinary one apart from what makes it suspicious.

Example:
    >>> import pandas as pd
    >>> from nbcatalog.data.demo.estate import USERS_BY_NAME
    >>> r = signin_row(pd.Timestamp("2026-01-01T09:00:00Z"), USERS_BY_NAME["alice"],
    ...                "20.190.151.68", ("Seattle", "Washington", "US", 47.6, -122.3),
    ...                "Microsoft Teams", 0, "cid")
    >>> r["ResultType"], r["Location"]
    ('0', 'US')
"""

from __future__ import annotations

import json

import pandas as pd

from nbcatalog.data.demo.estate import (
    ORG_ID,
    RESOURCE_GROUP_ID,
    SUBSCRIPTION_ID,
    TENANT_ID,
    User,
)

APPS = {
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Microsoft Teams": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "OfficeHome": "4765445b-32c6-49b0-83e6-1d93765276ca",
    "Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
    "Azure Portal": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
}
ERRORS = {
    0: "",
    50126: "Invalid username or password or Invalid on-premise username or password.",
    50074: "Strong Authentication is required.",
    50140: "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
}
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def dumps(value: object) -> str:
    """Compact JSON, the way Sentinel's dynamic columns read."""
    return json.dumps(value, separators=(",", ":"))


def signin_row(
    t: pd.Timestamp,
    user: User,
    ip: str,
    city: tuple[str, str, str, float, float],
    app: str,
    error: int,
    correlation_id: str,
    *,
    user_agent: str = BROWSER_UA,
    device: str | None = None,
    risk: str = "none",
) -> dict:
    """One SigninLogs row (LocationDetails, Status and DeviceDetail as Sentinel's JSON)."""
    name, state, country, lat, lon = city
    status: dict[str, object] = {"errorCode": error}
    if error:
        status["failureReason"] = ERRORS[error]
    else:
        status["additionalDetails"] = "MFA requirement satisfied by claim in the token"
    return {
        "TenantId": TENANT_ID,
        "TimeGenerated": t,
        "SourceSystem": "Azure AD",
        "OperationName": "Sign-in activity",
        "Category": "SignInLogs",
        "ResultType": str(error),
        "ResultDescription": ERRORS[error],
        "Identity": user.display_name,
        "Location": country,
        "AppDisplayName": app,
        "AppId": APPS[app],
        "ClientAppUsed": "Browser",
        "ConditionalAccessStatus": "failure" if error == 50074 else "success",
        "CorrelationId": correlation_id,
        "DeviceDetail": dumps(
            {
                "deviceId": "",
                "displayName": device or "",
                "operatingSystem": "Windows10" if "Windows" in user_agent else "Linux",
                "browser": "Edge 131.0.0" if "Edg/" in user_agent else "Firefox 115.0",
                "isCompliant": device is not None,
                "isManaged": device is not None,
                "trustType": "Azure AD joined" if device else "",
            }
        ),
        "IPAddress": ip,
        "LocationDetails": dumps(
            {
                "city": name,
                "state": state,
                "countryOrRegion": country,
                "geoCoordinates": {"latitude": lat, "longitude": lon},
            }
        ),
        "Status": dumps(status),
        "UserAgent": user_agent,
        "UserDisplayName": user.display_name,
        "UserId": user.object_id,
        "UserPrincipalName": user.upn,
        "UserType": "Member",
        "ResourceDisplayName": app if app != "OfficeHome" else "Office 365 Exchange Online",
        "RiskLevelDuringSignIn": risk,
        "RiskState": "atRisk" if risk != "none" else "none",
        "AuthenticationRequirement": "singleFactorAuthentication",
        "Type": "SigninLogs",
    }


def office_row(
    t: pd.Timestamp,
    user: User,
    ip: str,
    operation: str,
    site: str,
    relative: str,
    file_name: str,
    office_id: str,
    *,
    user_agent: str = BROWSER_UA,
) -> dict:
    """One OfficeActivity row for a SharePoint/OneDrive file operation or an Exchange action."""
    exchange = operation in ("MailItemsAccessed", "Send")
    workload = "Exchange" if exchange else ("OneDrive" if "-my." in site else "SharePoint")
    ext = file_name.rsplit(".", 1)[-1] if "." in file_name else ""
    return {
        "TenantId": TENANT_ID,
        "TimeGenerated": t,
        "SourceSystem": "OfficeActivityManager",
        "RecordType": "ExchangeItem" if exchange else "SharePointFileOperation",
        "Operation": operation,
        "OrganizationId": ORG_ID,
        "UserType": "Regular",
        "UserKey": f"i:0h.f|membership|{user.object_id}@live.com",
        "OfficeWorkload": workload,
        "ResultStatus": "Succeeded",
        "OfficeObjectId": None if exchange else f"{site}{relative}/{file_name}",
        "UserId": user.upn,
        "ClientIP": ip,
        "UserAgent": user_agent,
        "Site_Url": None if exchange else site,
        "SourceRelativeUrl": None if exchange else relative,
        "SourceFileName": None if exchange else file_name,
        "SourceFileExtension": None if exchange else ext,
        "OfficeId": office_id,
    }


def azure_activity_rows(
    t: pd.Timestamp,
    caller: User,
    ip: str,
    operation: str,
    friendly: str,
    resource_id: str,
    correlation_id: str,
    *,
    properties: dict | None = None,
) -> list[dict]:
    """The "Start" and "Success" rows Azure Resource Manager logs for one operation."""
    provider = operation.split("/")[0]
    rows = []
    for k, status in enumerate(("Start", "Success")):
        when = t + pd.Timedelta(seconds=2 * k)
        rows.append(
            {
                "TenantId": TENANT_ID,
                "TimeGenerated": when,
                "SourceSystem": "Azure",
                "OperationName": friendly,
                "OperationNameValue": operation,
                "Level": "Informational",
                "ActivityStatus": "Started" if status == "Start" else "Succeeded",
                "ActivityStatusValue": status,
                "ActivitySubstatusValue": "" if status == "Start" else "OK",
                "Caller": caller.upn,
                "CallerIpAddress": ip,
                "Category": "Administrative",
                "CategoryValue": "Administrative",
                "CorrelationId": correlation_id,
                "EventSubmissionTimestamp": when + pd.Timedelta(seconds=1),
                "Properties": dumps({"eventCategory": "Administrative", **(properties or {})}),
                "Properties_d": dumps(properties or {}),
                "ResourceGroup": RESOURCE_GROUP_ID,
                "ResourceProvider": provider,
                "ResourceProviderValue": provider.upper(),
                "Resource": resource_id.rsplit("/", 1)[-1],
                "ResourceId": resource_id,
                "_ResourceId": resource_id.lower(),
                "SubscriptionId": SUBSCRIPTION_ID,
                "Authorization": dumps({"action": operation, "scope": resource_id}),
                "HTTPRequest": dumps({"clientIpAddress": ip, "method": "PUT"}),
                "Claims": dumps(
                    {
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": caller.upn,
                        "ipaddr": ip,
                        "name": caller.display_name,
                    }
                ),
            }
        )
    return rows
