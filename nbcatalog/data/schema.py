"""Sentinel / Log Analytics table schemas used by the embedded store.

Table and column names follow Microsoft's Azure Monitor Logs table reference so
that an analyst's own exports import without renaming, and so that one query
name returns the same columns on the embedded store and on a real workspace.
Each table lists the columns the project reads or writes (a subset of the full
Azure Monitor table); `TimeGenerated` is always a timezone-aware UTC timestamp.

Example:
    >>> from nbcatalog.data.schema import TABLES, columns
    >>> columns("SecurityEvent")[:3]
    ['TenantId', 'TimeGenerated', 'SourceSystem']
"""

from __future__ import annotations

from dataclasses import dataclass

TS = "TIMESTAMPTZ"
STR = "VARCHAR"
INT = "INTEGER"
BIGINT = "BIGINT"
DBL = "DOUBLE"
BOOL = "BOOLEAN"


@dataclass(frozen=True)
class Table:
    """One table of the store: its name, ordered columns and a description."""

    name: str
    columns: tuple[tuple[str, str], ...]
    description: str
    time_column: str = "TimeGenerated"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self) -> str:
        """CREATE TABLE statement (names are quoted; they come from this module only)."""
        cols = ",\n  ".join(f'"{c}" {t}' for c, t in self.columns)
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" (\n  {cols}\n)'


def _t(name: str, description: str, cols: str) -> Table:
    parsed = []
    for line in cols.split("\n"):
        if not line.strip():
            continue
        col, typ = line.split()
        parsed.append((col, typ))
    return Table(name, tuple(parsed), description)


_COMMON = f"""
TenantId {STR}
TimeGenerated {TS}
SourceSystem {STR}
"""

SECURITY_EVENT = _t(
    "SecurityEvent",
    "Windows Security channel events (logons, process creation, account changes).",
    _COMMON
    + f"""
Account {STR}
AccountType {STR}
Computer {STR}
EventSourceName {STR}
Channel {STR}
Task {INT}
Level {STR}
EventID {INT}
Activity {STR}
SourceComputerId {STR}
EventOriginId {STR}
EventData {STR}
AuthenticationPackageName {STR}
CommandLine {STR}
ElevatedToken {STR}
FailureReason {STR}
ImpersonationLevel {STR}
IpAddress {STR}
IpPort {STR}
KeyLength {INT}
LmPackageName {STR}
LogonGuid {STR}
LogonProcessName {STR}
LogonType {INT}
LogonTypeName {STR}
MemberName {STR}
MemberSid {STR}
NewProcessId {STR}
NewProcessName {STR}
ParentProcessName {STR}
Process {STR}
ProcessId {STR}
SamAccountName {STR}
ServiceName {STR}
ServiceFileName {STR}
Status {STR}
SubStatus {STR}
SubjectAccount {STR}
SubjectDomainName {STR}
SubjectLogonId {STR}
SubjectUserName {STR}
SubjectUserSid {STR}
TargetAccount {STR}
TargetDomainName {STR}
TargetLogonId {STR}
TargetSid {STR}
TargetUserName {STR}
TargetUserSid {STR}
TaskName {STR}
TokenElevationType {STR}
UserPrincipalName {STR}
WorkstationName {STR}
""",
)

EVENT = _t(
    "Event",
    "Other Windows event channels (System, Sysmon, Application).",
    _COMMON
    + f"""
Source {STR}
EventLog {STR}
Computer {STR}
EventLevel {INT}
EventLevelName {STR}
ParameterXml {STR}
EventData {STR}
EventID {INT}
RenderedDescription {STR}
UserName {STR}
EventCategory {INT}
""",
)

SYSLOG = _t(
    "Syslog",
    "Linux syslog / auth.log messages.",
    _COMMON
    + f"""
Computer {STR}
EventTime {TS}
Facility {STR}
HostName {STR}
SeverityLevel {STR}
SyslogMessage {STR}
ProcessID {INT}
HostIP {STR}
ProcessName {STR}
""",
)

SIGNIN_LOGS = _t(
    "SigninLogs",
    "Microsoft Entra ID (Azure AD) interactive sign-ins.",
    _COMMON
    + f"""
OperationName {STR}
Category {STR}
ResultType {STR}
ResultDescription {STR}
Identity {STR}
Location {STR}
AppDisplayName {STR}
AppId {STR}
ClientAppUsed {STR}
ConditionalAccessStatus {STR}
CorrelationId {STR}
DeviceDetail {STR}
IPAddress {STR}
LocationDetails {STR}
Status {STR}
UserAgent {STR}
UserDisplayName {STR}
UserId {STR}
UserPrincipalName {STR}
UserType {STR}
ResourceDisplayName {STR}
RiskLevelDuringSignIn {STR}
RiskState {STR}
AuthenticationRequirement {STR}
Type {STR}
""",
)

AUDIT_LOGS = _t(
    "AuditLogs",
    "Microsoft Entra ID directory audit events.",
    _COMMON
    + f"""
OperationName {STR}
Category {STR}
Result {STR}
ResultReason {STR}
ActivityDisplayName {STR}
Identity {STR}
InitiatedBy {STR}
TargetResources {STR}
AdditionalDetails {STR}
CorrelationId {STR}
LoggedByService {STR}
""",
)

AZURE_ACTIVITY = _t(
    "AzureActivity",
    "Azure control-plane (Resource Manager) operations.",
    _COMMON
    + f"""
OperationName {STR}
OperationNameValue {STR}
Level {STR}
ActivityStatus {STR}
ActivityStatusValue {STR}
ActivitySubstatusValue {STR}
Caller {STR}
CallerIpAddress {STR}
Category {STR}
CategoryValue {STR}
CorrelationId {STR}
EventSubmissionTimestamp {TS}
Properties {STR}
Properties_d {STR}
ResourceGroup {STR}
ResourceProvider {STR}
ResourceProviderValue {STR}
Resource {STR}
ResourceId {STR}
_ResourceId {STR}
SubscriptionId {STR}
Authorization {STR}
HTTPRequest {STR}
Claims {STR}
""",
)

OFFICE_ACTIVITY = _t(
    "OfficeActivity",
    "Microsoft 365 audit activity (SharePoint, OneDrive, Exchange, Teams).",
    _COMMON
    + f"""
RecordType {STR}
Operation {STR}
OrganizationId {STR}
UserType {STR}
UserKey {STR}
OfficeWorkload {STR}
ResultStatus {STR}
OfficeObjectId {STR}
UserId {STR}
ClientIP {STR}
UserAgent {STR}
Site_Url {STR}
SourceRelativeUrl {STR}
SourceFileName {STR}
SourceFileExtension {STR}
OfficeId {STR}
ElevationTime {TS}
""",
)

SECURITY_ALERT = _t(
    "SecurityAlert",
    "Alerts from Sentinel analytics and Defender products.",
    _COMMON
    + f"""
DisplayName {STR}
AlertName {STR}
AlertSeverity {STR}
Description {STR}
ProviderName {STR}
VendorName {STR}
VendorOriginalId {STR}
SystemAlertId {STR}
ResourceId {STR}
AlertType {STR}
ConfidenceLevel {STR}
ConfidenceScore {DBL}
IsIncident {BOOL}
StartTime {TS}
EndTime {TS}
ProcessingEndTime {TS}
RemediationSteps {STR}
ExtendedProperties {STR}
Entities {STR}
ExtendedLinks {STR}
ProductName {STR}
ProductComponentName {STR}
AlertLink {STR}
Status {STR}
CompromisedEntity {STR}
Tactics {STR}
Techniques {STR}
Type {STR}
""",
)

HUNTING_BOOKMARK = _t(
    "HuntingBookmark",
    "Sentinel hunting bookmarks saved by analysts.",
    _COMMON
    + f"""
BookmarkId {STR}
BookmarkName {STR}
CreatedBy {STR}
CreatedTime {TS}
UpdatedBy {STR}
UpdatedTime {TS}
EventTime {TS}
Notes {STR}
Tags {STR}
QueryText {STR}
QueryResultRow {STR}
QueryStartTime {TS}
QueryEndTime {TS}
SoftDeleted {BOOL}
BookmarkType {STR}
Entities {STR}
IncidentInfo {STR}
LastUpdatedTime {TS}
""",
)

HEARTBEAT = _t(
    "Heartbeat",
    "Agent heartbeats: which host had which address, OS and agent.",
    _COMMON
    + f"""
Computer {STR}
ComputerIP {STR}
ComputerPrivateIPs {STR}
Category {STR}
OSType {STR}
OSName {STR}
OSMajorVersion {STR}
OSMinorVersion {STR}
Version {STR}
SCAgentChannel {STR}
IsGatewayInstalled {BOOL}
RemoteIPLongitude {DBL}
RemoteIPLatitude {DBL}
RemoteIPCountry {STR}
SubscriptionId {STR}
ResourceGroup {STR}
ResourceProvider {STR}
Resource {STR}
ResourceId {STR}
ResourceType {STR}
ComputerEnvironment {STR}
Solutions {STR}
VMUUID {STR}
""",
)

AZURE_NETWORK_ANALYTICS = _t(
    "AzureNetworkAnalytics_CL",
    "Network flows (Azure NSG flow analytics layout; Zeek conn.log imports here too).",
    f"""
TenantId {STR}
TimeGenerated {TS}
SourceSystem {STR}
FlowType_s {STR}
FlowStartTime_t {TS}
FlowEndTime_t {TS}
FlowDirection_s {STR}
FlowStatus_s {STR}
SrcIP_s {STR}
DestIP_s {STR}
SrcPort_d {DBL}
DestPort_d {DBL}
L4Protocol_s {STR}
L7Protocol_s {STR}
VM_s {STR}
VMIP_s {STR}
Subnet_s {STR}
PublicIPs_s {STR}
SrcPublicIPs_s {STR}
DestPublicIPs_s {STR}
AllowedInFlows_d {DBL}
DeniedInFlows_d {DBL}
AllowedOutFlows_d {DBL}
DeniedOutFlows_d {DBL}
InboundBytes_d {DBL}
OutboundBytes_d {DBL}
InboundPackets_d {DBL}
OutboundPackets_d {DBL}
NSGRule_s {STR}
Country_s {STR}
Region_s {STR}
Computer {STR}
SubType_s {STR}
FlowIntervalEndTime_t {TS}
AzureRegion_s {STR}
ResourceType {STR}
VirtualMachine_s {STR}
PrivateIPAddresses_s {STR}
PublicIPAddresses_s {STR}
""",
)

THREAT_INTELLIGENCE_INDICATOR = _t(
    "ThreatIntelligenceIndicator",
    "Threat-intelligence indicators (IPs, URLs, domains, hashes).",
    f"""
TenantId {STR}
TimeGenerated {TS}
SourceSystem {STR}
IndicatorId {STR}
Action {STR}
Active {BOOL}
ConfidenceScore {DBL}
Description {STR}
ThreatType {STR}
ThreatSeverity {INT}
TrafficLightProtocolLevel {STR}
ExpirationDateTime {TS}
ExternalIndicatorId {STR}
Tags {STR}
TargetProduct {STR}
ThreatIntelligenceIndicator_Type {STR}
NetworkIP {STR}
NetworkSourceIP {STR}
NetworkDestinationIP {STR}
EmailSourceIpAddress {STR}
EmailSenderAddress {STR}
DomainName {STR}
Url {STR}
FileHashType {STR}
FileHashValue {STR}
FileName {STR}
KillChainActions {STR}
AdditionalInformation {STR}
IndicatorProvider {STR}
""",
)

DEVICE_NETWORK_EVENTS = _t(
    "DeviceNetworkEvents",
    "Microsoft Defender for Endpoint network connections and related events, per device.",
    f"""
TenantId {STR}
TimeGenerated {TS}
Timestamp {TS}
DeviceId {STR}
DeviceName {STR}
ActionType {STR}
RemoteIP {STR}
RemotePort {INT}
RemoteUrl {STR}
LocalIP {STR}
LocalPort {INT}
Protocol {STR}
LocalIPType {STR}
RemoteIPType {STR}
InitiatingProcessSHA1 {STR}
InitiatingProcessSHA256 {STR}
InitiatingProcessMD5 {STR}
InitiatingProcessFileName {STR}
InitiatingProcessFileSize {BIGINT}
InitiatingProcessVersionInfoCompanyName {STR}
InitiatingProcessVersionInfoProductName {STR}
InitiatingProcessId {BIGINT}
InitiatingProcessCommandLine {STR}
InitiatingProcessCreationTime {TS}
InitiatingProcessFolderPath {STR}
InitiatingProcessParentFileName {STR}
InitiatingProcessParentId {BIGINT}
InitiatingProcessAccountDomain {STR}
InitiatingProcessAccountName {STR}
InitiatingProcessAccountSid {STR}
InitiatingProcessAccountUpn {STR}
InitiatingProcessAccountObjectId {STR}
InitiatingProcessIntegrityLevel {STR}
InitiatingProcessTokenElevation {STR}
ReportId {BIGINT}
AppGuardContainerId {STR}
AdditionalFields {STR}
SourceSystem {STR}
Type {STR}
""",
)

DEVICE_PROCESS_EVENTS = _t(
    "DeviceProcessEvents",
    "Microsoft Defender for Endpoint process creations and related events, per device.",
    f"""
TenantId {STR}
TimeGenerated {TS}
Timestamp {TS}
DeviceId {STR}
DeviceName {STR}
ActionType {STR}
FileName {STR}
FolderPath {STR}
SHA1 {STR}
SHA256 {STR}
MD5 {STR}
FileSize {BIGINT}
ProcessVersionInfoCompanyName {STR}
ProcessVersionInfoProductName {STR}
ProcessVersionInfoProductVersion {STR}
ProcessVersionInfoInternalFileName {STR}
ProcessVersionInfoOriginalFileName {STR}
ProcessVersionInfoFileDescription {STR}
ProcessId {BIGINT}
ProcessCommandLine {STR}
ProcessIntegrityLevel {STR}
ProcessTokenElevation {STR}
ProcessCreationTime {TS}
AccountDomain {STR}
AccountName {STR}
AccountSid {STR}
AccountUpn {STR}
AccountObjectId {STR}
LogonId {BIGINT}
InitiatingProcessAccountDomain {STR}
InitiatingProcessAccountName {STR}
InitiatingProcessAccountSid {STR}
InitiatingProcessAccountUpn {STR}
InitiatingProcessAccountObjectId {STR}
InitiatingProcessLogonId {BIGINT}
InitiatingProcessIntegrityLevel {STR}
InitiatingProcessTokenElevation {STR}
InitiatingProcessSHA1 {STR}
InitiatingProcessSHA256 {STR}
InitiatingProcessMD5 {STR}
InitiatingProcessFileName {STR}
InitiatingProcessFileSize {BIGINT}
InitiatingProcessVersionInfoCompanyName {STR}
InitiatingProcessVersionInfoProductName {STR}
InitiatingProcessVersionInfoProductVersion {STR}
InitiatingProcessVersionInfoInternalFileName {STR}
InitiatingProcessVersionInfoOriginalFileName {STR}
InitiatingProcessVersionInfoFileDescription {STR}
InitiatingProcessId {BIGINT}
InitiatingProcessCommandLine {STR}
InitiatingProcessCreationTime {TS}
InitiatingProcessFolderPath {STR}
InitiatingProcessParentId {BIGINT}
InitiatingProcessParentFileName {STR}
InitiatingProcessParentCreationTime {TS}
InitiatingProcessSignerType {STR}
InitiatingProcessSignatureStatus {STR}
InitiatingProcessSessionId {BIGINT}
IsInitiatingProcessRemoteSession {BOOL}
InitiatingProcessRemoteSessionDeviceName {STR}
InitiatingProcessRemoteSessionIP {STR}
CreatedProcessSessionId {BIGINT}
IsProcessRemoteSession {BOOL}
ProcessRemoteSessionDeviceName {STR}
ProcessRemoteSessionIP {STR}
ReportId {BIGINT}
AppGuardContainerId {STR}
AdditionalFields {STR}
SourceSystem {STR}
Type {STR}
""",
)

DEVICE_LOGON_EVENTS = _t(
    "DeviceLogonEvents",
    "Microsoft Defender for Endpoint logons and other authentication events, per device.",
    f"""
TenantId {STR}
TimeGenerated {TS}
Timestamp {TS}
DeviceId {STR}
DeviceName {STR}
ActionType {STR}
LogonType {STR}
AccountDomain {STR}
AccountName {STR}
AccountSid {STR}
Protocol {STR}
FailureReason {STR}
IsLocalAdmin {BOOL}
LogonId {BIGINT}
RemoteDeviceName {STR}
RemoteIP {STR}
RemoteIPType {STR}
RemotePort {INT}
InitiatingProcessAccountDomain {STR}
InitiatingProcessAccountName {STR}
InitiatingProcessAccountSid {STR}
InitiatingProcessAccountUpn {STR}
InitiatingProcessAccountObjectId {STR}
InitiatingProcessIntegrityLevel {STR}
InitiatingProcessTokenElevation {STR}
InitiatingProcessSHA1 {STR}
InitiatingProcessSHA256 {STR}
InitiatingProcessMD5 {STR}
InitiatingProcessFileName {STR}
InitiatingProcessFileSize {BIGINT}
InitiatingProcessVersionInfoCompanyName {STR}
InitiatingProcessVersionInfoProductName {STR}
InitiatingProcessVersionInfoProductVersion {STR}
InitiatingProcessVersionInfoInternalFileName {STR}
InitiatingProcessVersionInfoOriginalFileName {STR}
InitiatingProcessVersionInfoFileDescription {STR}
InitiatingProcessId {BIGINT}
InitiatingProcessCommandLine {STR}
InitiatingProcessCreationTime {TS}
InitiatingProcessFolderPath {STR}
InitiatingProcessParentId {BIGINT}
InitiatingProcessParentFileName {STR}
InitiatingProcessParentCreationTime {TS}
InitiatingProcessSessionId {BIGINT}
IsInitiatingProcessRemoteSession {BOOL}
InitiatingProcessRemoteSessionDeviceName {STR}
InitiatingProcessRemoteSessionIP {STR}
ReportId {BIGINT}
AppGuardContainerId {STR}
AdditionalFields {STR}
SourceSystem {STR}
Type {STR}
""",
)

COMMON_SECURITY_LOG = _t(
    "CommonSecurityLog",
    "Firewalls, proxies and other appliances sending CEF through a log forwarder.",
    _COMMON
    + f"""
DeviceVendor {STR}
DeviceProduct {STR}
DeviceVersion {STR}
DeviceEventClassID {STR}
Activity {STR}
LogSeverity {STR}
OriginalLogSeverity {STR}
AdditionalExtensions {STR}
DeviceAction {STR}
SimplifiedDeviceAction {STR}
ApplicationProtocol {STR}
EventCount {INT}
DestinationDnsDomain {STR}
DestinationServiceName {STR}
DestinationTranslatedAddress {STR}
DestinationTranslatedPort {INT}
CommunicationDirection {STR}
DeviceDnsDomain {STR}
DeviceExternalID {STR}
DeviceFacility {STR}
DeviceInboundInterface {STR}
DeviceNtDomain {STR}
DeviceOutboundInterface {STR}
DevicePayloadId {STR}
ProcessName {STR}
DeviceTranslatedAddress {STR}
DestinationHostName {STR}
DestinationMACAddress {STR}
DestinationNTDomain {STR}
DestinationProcessId {INT}
DestinationUserPrivileges {STR}
DestinationProcessName {STR}
DestinationPort {INT}
DestinationIP {STR}
DeviceTimeZone {STR}
DestinationUserID {STR}
DestinationUserName {STR}
DeviceAddress {STR}
DeviceName {STR}
DeviceMacAddress {STR}
ProcessID {INT}
EndTime {TS}
ExternalID {INT}
ExtID {STR}
FileCreateTime {STR}
FileHash {STR}
FileID {STR}
FileModificationTime {STR}
FilePath {STR}
FileName {STR}
FileSize {INT}
FileType {STR}
ReceivedBytes {BIGINT}
Message {STR}
OldFileCreateTime {STR}
OldFileHash {STR}
OldFileID {STR}
OldFileModificationTime {STR}
OldFileName {STR}
OldFilePath {STR}
OldFileSize {INT}
OldFileType {STR}
SentBytes {BIGINT}
EventOutcome {STR}
Protocol {STR}
Reason {STR}
RequestURL {STR}
RequestClientApplication {STR}
RequestContext {STR}
RequestCookies {STR}
RequestMethod {STR}
ReceiptTime {STR}
SourceHostName {STR}
SourceMACAddress {STR}
SourceNTDomain {STR}
SourceProcessId {INT}
SourceUserPrivileges {STR}
SourceProcessName {STR}
SourcePort {INT}
SourceIP {STR}
StartTime {TS}
SourceTranslatedAddress {STR}
SourceTranslatedPort {INT}
SourceUserID {STR}
SourceUserName {STR}
Computer {STR}
RemoteIP {STR}
RemotePort {STR}
MaliciousIP {STR}
ThreatSeverity {INT}
IndicatorThreatType {STR}
ThreatDescription {STR}
ThreatConfidence {STR}
ReportReferenceLink {STR}
""",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SECURITY_EVENT,
        EVENT,
        SYSLOG,
        SIGNIN_LOGS,
        AUDIT_LOGS,
        AZURE_ACTIVITY,
        OFFICE_ACTIVITY,
        SECURITY_ALERT,
        HUNTING_BOOKMARK,
        HEARTBEAT,
        AZURE_NETWORK_ANALYTICS,
        THREAT_INTELLIGENCE_INDICATOR,
        DEVICE_NETWORK_EVENTS,
        DEVICE_PROCESS_EVENTS,
        DEVICE_LOGON_EVENTS,
        COMMON_SECURITY_LOG,
    )
}


def columns(table: str) -> list[str]:
    """Column names of `table`, in store order; KeyError names the known tables."""
    try:
        return TABLES[table].column_names
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown table {table!r}; known tables: {known}") from None
