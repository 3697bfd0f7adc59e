"""nblib.winevents: event summaries, account changes in words, safe EventData parsing."""

from __future__ import annotations

import pandas as pd
import pytest

from nbcatalog.nblib import Investigation, winevents

NS = "http://schemas.microsoft.com/win/2004/08/events/event"
ADMINS_SID = "S-1-5-32-544"
NEW_SID = "S-1-5-21-1004336348-1177238915-682003330-1009"


def _data(**fields: str) -> str:
    items = "".join(f'<Data Name="{k}">{v}</Data>' for k, v in fields.items())
    return f"<EventData>{items}</EventData>"


# ------------------------------------------------------------------ EventData


def test_event_data_fields_named_unnamed_and_namespaced():
    assert winevents.parse_event_data(_data(TargetUserName="svc_backup", MemberSid="-")) == {
        "TargetUserName": "svc_backup",
        "MemberSid": "-",
    }
    assert winevents.parse_event_data(
        f'<Event xmlns="{NS}"><EventData><Data Name="A">1</Data><Data>x</Data></EventData></Event>'
    ) == {"A": "1", "Data1": "x"}
    user_data = (
        "<UserData><LogFileCleared><SubjectUserName>bob</SubjectUserName>"
        "</LogFileCleared></UserData>"
    )
    assert winevents.parse_event_data(user_data) == {"SubjectUserName": "bob"}


@pytest.mark.parametrize(
    "hostile",
    [
        # entity expansion ("billion laughs")
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><EventData>'
        '<Data Name="x">&b;</Data></EventData>',
        # external entity (file read)
        '<!DOCTYPE x [<!ENTITY f SYSTEM "file:///etc/passwd">]><EventData>'
        '<Data Name="x">&f;</Data></EventData>',
        '<EventData><Data Name="x">unclosed</Data',
        "<EventData>" + "<Data Name='x'>y</Data>" * 5000 + "</EventData>",  # > 64 kB
        "not xml at all",
        None,
        float("nan"),
    ],
)
def test_hostile_or_broken_event_data_gives_no_fields(hostile):
    assert winevents.parse_event_data(hostile) == {}


def test_markup_in_a_value_is_kept_as_text():
    fields = winevents.parse_event_data(_data(CommandLine="&lt;script&gt;alert(1)&lt;/script&gt;"))
    assert fields == {"CommandLine": "<script>alert(1)</script>"}


# ------------------------------------------------------------------ account events


def _events() -> pd.DataFrame:
    times = pd.date_range("2024-05-01 10:00", periods=4, freq="min", tz="UTC")
    return pd.DataFrame(
        {
            "TimeGenerated": times,
            "Computer": "WKSTN-042",
            "EventID": [4720, 4732, 4733, 4672],
            "Activity": [
                "4720 - A user account was created.",
                "4732 - A member was added to a security-enabled local group.",
                "4733 - A member was removed from a security-enabled local group.",
                "4672 - Special privileges assigned to new logon.",
            ],
            "Account": "CONTOSO\\bob",
            "SubjectAccount": ["CONTOSO\\bob"] * 3 + [None],
            "TargetAccount": [
                "WKSTN-042\\svc_backup",
                "Builtin\\Administrators",
                "Builtin\\Administrators",
                None,
            ],
            "TargetSid": [NEW_SID, ADMINS_SID, ADMINS_SID, None],
            "MemberName": [None, "-", "-", None],
            "MemberSid": [None, NEW_SID, "S-1-5-21-9-9-9-500", None],
        }
    )


def test_account_events_say_who_did_what_to_whom():
    table = winevents.account_events(_events())
    assert table["EventID"].tolist() == [4720, 4732, 4733]  # 4672 is not account management
    assert table["Description"].tolist() == [
        "CONTOSO\\bob created user WKSTN-042\\svc_backup",
        "CONTOSO\\bob added WKSTN-042\\svc_backup to local group Builtin\\Administrators",
        "CONTOSO\\bob removed S-1-5-21-9-9-9-500 from local group Builtin\\Administrators",
    ]
    assert table["Member"].tolist() == ["", "WKSTN-042\\svc_backup", "S-1-5-21-9-9-9-500"]


def test_repeated_index_labels_keep_rows_apart():
    twice = pd.concat([_events(), _events()])
    assert len(winevents.account_events(twice)) == 6


def test_account_fields_come_from_event_data_when_columns_are_missing():
    bare = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
            "EventID": ["4724"],
            "EventData": [
                _data(
                    TargetUserName="alice",
                    TargetDomainName="CONTOSO",
                    SubjectUserName="admin",
                    SubjectDomainName="CONTOSO",
                )
            ],
        }
    )
    table = winevents.account_events(bare)
    assert table["Description"].tolist() == ["CONTOSO\\admin reset the password of CONTOSO\\alice"]


def test_event_summary_and_account_pivot():
    summary = winevents.event_summary(_events())
    assert summary["Events"].sum() == 4
    row = summary.set_index("EventID").loc[4672]
    assert row["Accounts"] == 1 and row["AccountNames"] == "CONTOSO\\bob"
    pivot = winevents.account_pivot(winevents.account_events(_events()))
    assert pivot["Events"].sum() == 3
    assert set(pivot["TargetAccount"]) == {"WKSTN-042\\svc_backup", "Builtin\\Administrators"}
    assert winevents.event_summary(pd.DataFrame()).empty
    assert winevents.account_events(pd.DataFrame({"EventID": [4672]})).empty


def test_expand_events_chosen_ids_bad_ids_and_collisions():
    events = _events().assign(
        EventData=[
            _data(SamAccountName="svc_backup", Computer="spoofed"),
            _data(MemberSid=NEW_SID),
            "<EventData><Data Name='x'>broken",
            _data(PrivilegeList="SeDebugPrivilege"),
        ]
    )
    default = winevents.expand_events(events)  # the account-management events present
    assert default.data["EventID"].tolist() == [4720, 4732, 4733]
    assert default.data.loc[0, "SamAccountName"] == "svc_backup"
    assert default.data.loc[0, "Computer"] == "WKSTN-042"  # a field cannot overwrite a column
    assert default.data.loc[0, "EventData.Computer"] == "spoofed"
    assert any("not well-formed" in m for m in default.messages())
    chosen = winevents.expand_events(events, ["4672", "4672; DROP TABLE x"])
    assert chosen.data["PrivilegeList"].tolist() == ["SeDebugPrivilege"]
    assert any("not event IDs, ignored" in m for m in chosen.messages())
    none = winevents.expand_events(events, [4625])
    assert none.empty and "no events with ID 4625" in none.messages()[0]


# ------------------------------------------------------------------ demo store


@pytest.fixture(scope="module")
def inv(demo_db):
    return Investigation.open(f"duckdb:{demo_db}")


def test_wkstn_042_svc_backup_created_and_made_admin(inv):
    events = winevents.host_events(inv, "WKSTN-042")
    ids = set(events.data["EventID"])
    assert ids and not ids & {4624, 4625, 4688}
    direct = inv.source.sql(
        "SELECT count(*) AS n FROM \"SecurityEvent\" WHERE Computer = 'WKSTN-042' "
        "AND EventID NOT IN (4624, 4625, 4688) AND TimeGenerated >= $start",
        {"start": inv.start},
    )["n"][0]
    assert len(events.data) == direct
    changes = winevents.account_events(events.data)["Description"].tolist()
    assert any(c.endswith("created user WKSTN-042\\svc_backup") for c in changes)
    assert any(
        "added WKSTN-042\\svc_backup to local group Builtin\\Administrators" in c for c in changes
    )


def test_data_passed_in_and_missing_tables(inv, tmp_path):
    import duckdb

    raw = inv.source.sql("SELECT * FROM \"SecurityEvent\" WHERE Computer = 'WKSTN-042' LIMIT 500")
    passed = winevents.host_events(inv, None, data=raw)
    assert not passed.empty and not set(passed.data["EventID"]) & {4624, 4625, 4688}
    assert winevents.host_events(inv, "WIN-DC01", data=raw).empty
    no_ids = winevents.host_events(inv, None, data=pd.DataFrame({"x": [1]}))
    assert no_ids.empty and "no EventID column" in no_ids.messages()[0]
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    missing = winevents.host_events(Investigation.open(f"duckdb:{bare}"), "WKSTN-042")
    assert missing.empty and "SecurityEvent table" in " ".join(missing.messages())


def test_account_changes_from_an_imported_evtx(tmp_path):
    from datetime import datetime, timezone

    from helpers.evtx_writer import EvtxEvent, write_evtx

    from nbcatalog.data.importers import import_paths

    subject = {"SubjectUserName": "bob", "SubjectDomainName": "CONTOSO"}
    when = datetime(2026, 11, 27, 10, 5, tzinfo=timezone.utc)
    written = [
        EvtxEvent(
            4720,
            when,
            "WKSTN-042",
            data={
                "TargetUserName": "svc_backup",
                "TargetDomainName": "WKSTN-042",
                "TargetSid": NEW_SID,
                **subject,
            },
        ),
        EvtxEvent(
            4732,
            when.replace(second=30),
            "WKSTN-042",
            data={
                "MemberName": "-",
                "MemberSid": NEW_SID,
                "TargetUserName": "Administrators",
                "TargetDomainName": "Builtin",
                "TargetSid": ADMINS_SID,
                **subject,
            },
        ),
        EvtxEvent(4624, when, "WKSTN-042", data={"TargetUserName": "bob", "LogonType": "2"}),
    ]
    evtx = write_evtx(tmp_path / "Security.evtx", written)
    import_paths([evtx], db=tmp_path / "case.duckdb")
    case = Investigation.open(
        f"duckdb:{tmp_path / 'case.duckdb'}", "2026-11-26T00:00:00Z", "2026-11-28T00:00:00Z"
    )
    events = winevents.host_events(case, "WKSTN-042").data
    assert sorted(events["EventID"]) == [4720, 4732]  # the logon is left out
    assert winevents.account_events(events)["Description"].tolist() == [
        "CONTOSO\\bob created user WKSTN-042\\svc_backup",
        "CONTOSO\\bob added WKSTN-042\\svc_backup to local group Builtin\\Administrators",
    ]
