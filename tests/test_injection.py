"""Hostile entity values only ever match literally, on both backends.

DuckDB: every query is run with each hostile value in each of its text and list
parameters, on a store whose rows do not contain those values: no error, no rows. One
planted row whose account literally is `x' or '1'='1` is found by that exact value.

msticpy: the KQL text msticpy would send (MSSentinel queries, rendered without a
connection) is split into string literals and the code between them. With a hostile
value the code must be identical to the code with a harmless value, and the hostile
value must come back, decoded, as one of the literals.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from test_query_columns import MSTICPY  # msticpy's Sentinel queries, read from its YAML

from nbcatalog.data import connect
from nbcatalog.data.kql import kql_escape, placeholder_contexts
from nbcatalog.data.querylib import load_library
from nbcatalog.data.store import Store
from nbcatalog.errors import DataSourceError

HOSTILE = [
    "x' or '1'='1",
    'x" | where 1==1',
    "x\\",
    'x\\" | take 10 //',
    "x\\' or 1==1 //",
    '\'; DROP TABLE "SecurityEvent"; --',
    "%",
    "_",
    ".*",
    "WKSTN-042' OR 1=1 --",
    "{host_name}",
    "$host_name",
    "x\n| take 10",
    "x\t\r",
]
T0 = datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
WINDOW = {"start": T0 - timedelta(days=1), "end": T0 + timedelta(days=1)}
LIBRARY = load_library()


@pytest.fixture(scope="module")
def hostile_src(tmp_path_factory):
    path = tmp_path_factory.mktemp("inj") / "inj.duckdb"
    rows = [
        {
            "TimeGenerated": T0,
            "Computer": "WKSTN-042",
            "Account": "CONTOSO\\bob",
            "EventID": 4624,
            "IpAddress": "203.0.113.77",
        },
        {
            "TimeGenerated": T0,
            "Computer": "WKSTN-042",
            "Account": "x' or '1'='1",
            "EventID": 4625,
            "IpAddress": "10.0.0.1",
        },
    ]
    with Store.open(path) as store:
        store.append("SecurityEvent", pd.DataFrame(rows))
        store.append(
            "SigninLogs",
            pd.DataFrame(
                [
                    {
                        "TimeGenerated": T0,
                        "UserPrincipalName": "bob@contoso.com",
                        "IPAddress": "1.2.3.4",
                    }
                ]
            ),
        )
        store.append(
            "SecurityAlert",
            pd.DataFrame(
                [
                    {
                        "TimeGenerated": T0,
                        "SystemAlertId": "a1",
                        "Entities": '[{"HostName": "WKSTN-042", "Address": "203.0.113.77"}]',
                    }
                ]
            ),
        )
    return connect(f"duckdb:{path}")


def _entity_params(query):
    return [
        p
        for p in query.parameters.values()
        if p.type in ("str", "list") and p.name not in ("event_list",)
    ]


CASES = [(name, p.name) for name in LIBRARY.names() for p in _entity_params(LIBRARY[name])]


def _args(query, target, value):
    args = dict(WINDOW)
    for p in query.parameters.values():
        if p.name == target:
            args[p.name] = [value] if p.type == "list" else value
        elif p.required and p.type == "str":
            args[p.name] = "WKSTN-042"
        elif p.required and p.type == "list":
            args[p.name] = ["4624"]
    return args


@pytest.mark.parametrize(("name", "param"), CASES)
def test_duckdb_hostile_values_match_nothing(hostile_src, name, param):
    query = LIBRARY[name]
    with hostile_src.session():
        for value in HOSTILE:
            if value == "x' or '1'='1" and param == "account_name":
                continue  # planted literally; checked below
            frame = hostile_src.query(name, **_args(query, param, value))
            assert frame.empty, f"{name}({param}={value!r}) returned {len(frame)} rows"


def test_duckdb_hostile_value_matches_itself_literally(hostile_src):
    frame = hostile_src.query(
        "WindowsSecurity.list_logon_attempts_by_account", account_name="x' or '1'='1", **WINDOW
    )
    assert frame["Account"].tolist() == ["x' or '1'='1"]


def test_duckdb_sql_binds_hostile_values(hostile_src):
    with hostile_src.session():
        for value in HOSTILE:
            frame = hostile_src.sql(
                'SELECT * FROM "SecurityEvent" WHERE Computer = $c', {"c": value}
            )
            assert frame.empty
    assert hostile_src.sql('SELECT count(*) AS n FROM "SecurityEvent"')["n"].item() == 2


# --- msticpy backend: the KQL text that would be sent ---

_ESC = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "r": "\r", "t": "\t"}


def split_kql(text: str) -> tuple[str, list[str]]:
    """(code with each string literal replaced by `<S>`, decoded literals)."""
    code, literals, i = [], [], 0
    while i < len(text):
        ch = text[i]
        verbatim = ch == "@" and i + 1 < len(text) and text[i + 1] in "\"'"
        if ch in "\"'" or verbatim:
            if verbatim:
                i += 1
            quote, i, buf = text[i], i + 1, []
            while i < len(text) and text[i] != quote:
                if text[i] == "\\" and not verbatim:
                    assert text[i + 1] in _ESC, f"unknown escape in {text[i : i + 2]!r}"
                    buf.append(_ESC[text[i + 1]])
                    i += 2
                    continue
                assert text[i] != "\n", "newline inside a string literal"
                buf.append(text[i])
                i += 1
            assert i < len(text), "unterminated string literal"
            literals.append("".join(buf))
            code.append("<S>")
            i += 1
        else:
            code.append(ch)
            i += 1
    return "".join(code), literals


@pytest.fixture(scope="module")
def sentinel():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return connect("msticpy:MSSentinel")


# Our own queries (not in msticpy's catalogue) run only on DuckDB: no KQL to check.
KQL_CASES = [(n, p) for n, p in CASES if n in MSTICPY and p in MSTICPY[n][1]]


def test_kql_cases_cover_msticpy_queries():
    assert len(KQL_CASES) > 50 and ("WindowsSecurity.list_host_logons", "host_name") in KQL_CASES


@pytest.mark.parametrize(("name", "param"), KQL_CASES)
def test_msticpy_kql_keeps_hostile_values_inside_literals(sentinel, name, param):
    source = sentinel.provider.query_store.get_query(name)
    assert param in source.params
    query = LIBRARY[name]

    def render(value):
        args = _args(query, param, value)
        args = {k: v for k, v in args.items() if k in source.params}
        return sentinel.render_query(name, **args)

    if query.parameters[param].type == "str" and "bare" in placeholder_contexts(
        source.query, param
    ):
        # A column-name pick pasted into the KQL text: callers may not set it at all.
        for value in ("harmless", *HOSTILE):
            with pytest.raises(DataSourceError, match="pasted into the query as KQL text"):
                render(value)
        return
    benign_code, _ = split_kql(render("harmless"))
    for value in HOSTILE:
        code, literals = split_kql(render(value))
        assert code == benign_code, f"{name}({param}={value!r}) changed the query code"
        assert value in literals or any(value in lit.split(",") for lit in literals)


def test_msticpy_rejects_kql_fragments_and_control_characters(sentinel):
    with pytest.raises(DataSourceError, match="add_query_items.*not accepted"):
        sentinel.render_query(
            "WindowsSecurity.list_host_logons", host_name="x", add_query_items="| take 1", **WINDOW
        )
    with pytest.raises(DataSourceError, match="control character"):
        sentinel.render_query("WindowsSecurity.list_host_logons", host_name="x\x00y", **WINDOW)


def test_msticpy_render_matches_msticpy_print_for_plain_values(sentinel):
    """For harmless values our rendering is msticpy's own (up to the datetime format)."""
    args = {"host_name": "WKSTN-042", "start": "2024-05-01T00:00:00Z", "end": "2024-05-02"}
    ours = sentinel.render_query("WindowsSecurity.list_host_logons", **args)
    theirs = sentinel.provider.WindowsSecurity.list_host_logons("print", **args)

    def norm(text):
        return re.sub(r"datetime\([^)]*\)", "datetime()", text)

    assert norm(ours) == norm(theirs)


def test_kql_escape_round_trips():
    for value in HOSTILE:
        code, literals = split_kql('T | where C has "' + kql_escape(value) + '"')
        assert code == "T | where C has <S>" and literals == [value]


def test_msticpy_localdata_runs_queries_end_to_end(tmp_path):
    """MsticpySource.query through msticpy's LocalData environment (files, no network)."""
    from nbcatalog.data.source import MsticpySource

    frame = pd.DataFrame(
        {"TimeGenerated": ["2024-05-01T12:00:00Z"], "Computer": ["WKSTN-042"], "EventID": [4624]}
    )
    frame.to_pickle(tmp_path / "host_logons.pkl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = MsticpySource("LocalData", data_paths=[str(tmp_path)])
        # LocalData's files hold every host's rows: the parameters select from them
        # as data (a hostile name matches nothing); names neither knows are refused.
        got = src.query("WindowsSecurity.list_host_logons", host_name="WKSTN-042", **WINDOW)
        hostile = src.query("WindowsSecurity.list_host_logons", host_name="x' or '1'='1")
    assert got["Computer"].tolist() == ["WKSTN-042"]
    assert hostile.empty
    assert str(got["TimeGenerated"].dt.tz) == "UTC"
    with pytest.raises(DataSourceError, match="no parameter 'hostname'"):
        src.query("WindowsSecurity.list_host_logons", hostname="x")
    with pytest.raises(DataSourceError, match="unknown query"):
        src.query("WindowsSecurity.list_host_logonz")


def test_msticpy_list_queries_offers_entity_parameters_only(sentinel):
    listing = sentinel.list_queries().set_index("name")
    params = listing.loc["WindowsSecurity.list_host_logons", "parameters"]
    assert "host_name" in params and "start" in params
    assert "add_query_items" not in params and "table" not in params
