"""End to end: two scheduled host_summary runs of WKSTN-042, the second store with one
planted alert more. Real kernels, real DuckDB files, a real SMTP server and webhook.

The planted alert (its display name hostile HTML) must show as exactly one new alert
in run.json ``diff``, the report's "since last run" block, the index, ``run-due
--json`` and exactly one notification per channel; the first run (nothing new)
sends nothing.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import yaml
from click.testing import CliRunner

from tests.helpers.receivers import smtp_server, webhook_server

pytestmark = pytest.mark.slow

HOST = "WKSTN-042"
PLANTED_NAME = '<img src=x onerror="alert(1)">Planted beacon'


def _plant(src: Path, dst: Path, when: datetime) -> str:
    """Copy the store and add one alert on HOST at `when` (bound parameters)."""
    shutil.copy(src, dst)
    alert_id = str(uuid.uuid4())
    with duckdb.connect(str(dst)) as con:
        con.execute(
            "INSERT INTO SecurityAlert SELECT * REPLACE (? AS SystemAlertId, ? AS DisplayName, "
            "? AS AlertName, ? AS TimeGenerated, ? AS StartTime, ? AS EndTime) "
            "FROM SecurityAlert WHERE CompromisedEntity = ? LIMIT 1",
            [alert_id, PLANTED_NAME, PLANTED_NAME, when, when, when, HOST],
        )
    return alert_id


def _alert_ids(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT SystemAlertId FROM SecurityAlert WHERE CompromisedEntity = ?", [HOST]
        ).fetchall()
    return {r[0] for r in rows}


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory, demo_db):
    from nbcatalog.cli.main import main

    tmp = tmp_path_factory.mktemp("rundiff-e2e")
    root = tmp / "output"
    top = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    first_fire, second_fire = top - timedelta(hours=1), top
    store_1 = tmp / "store1.duckdb"
    shutil.copy(demo_db, store_1)
    store_2 = tmp / "store2.duckdb"
    planted = _plant(demo_db, store_2, second_fire - timedelta(minutes=20))
    schedule = tmp / "schedules.yaml"
    schedule.write_text(
        yaml.safe_dump(
            {
                "jobs": [
                    {
                        "name": "wkstn-hourly",
                        "notebooklet": "host_summary",
                        "parameters": {"host": HOST},
                        "cron": "0 * * * *",
                        "covers": "7d",
                        "catch_up": "latest",
                        "notify": {
                            "when": "on_new_findings",
                            "email": ["soc@example.org"],
                            "webhook": "soc",
                        },
                    },
                    {  # no report, so no data/*.parquet: tables come from the notebook
                        "name": "wkstn-notebook-only",
                        "notebooklet": "host_summary",
                        "parameters": {"host": HOST},
                        "cron": "0 * * * *",
                        "covers": "7d",
                        "formats": ["notebook"],
                    },
                ]
            }
        )
    )
    runner = CliRunner()
    outputs = []
    with smtp_server() as smtp, webhook_server() as hook:
        env = {
            "NBCATALOG_SMTP_HOST": smtp.host,
            "NBCATALOG_SMTP_PORT": str(smtp.port),
            "NBCATALOG_SMTP_FROM": "nbcatalog@example.org",
            "NBCATALOG_WEBHOOK_SOC": hook.url,
            "NBCATALOG_CONFIG": str(tmp / "none.toml"),
        }
        counts = []
        for store, fire in ((store_1, first_fire), (store_2, second_fire)):
            result = runner.invoke(
                main,
                [
                    "schedule",
                    "run-due",
                    "--file",
                    str(schedule),
                    "--output",
                    str(root),
                    "--now",
                    fire.isoformat(),
                    "--json",
                ],
                env={**env, "NBCATALOG_SOURCE": f"duckdb:{store}"},
                catch_exceptions=False,
            )
            assert result.exit_code == 0, result.output
            outputs.append(json.loads(result.output))
            counts.append((len(smtp.messages), len(hook.bodies)))
        messages, bodies = list(smtp.messages), list(hook.bodies)
    new_ids = _alert_ids(store_2) - _alert_ids(store_1)
    return {
        "root": root,
        "outputs": outputs,
        "messages": messages,
        "bodies": bodies,
        "counts": counts,
        "planted": planted,
        "new_ids": new_ids,
    }


def _outcome(scheduled, call: int, job: str = "wkstn-hourly") -> dict:
    (found,) = [o for o in scheduled["outputs"][call] if o["job"] == job]
    return found


def test_each_call_ran_one_ok_run_per_job(scheduled):
    assert [sorted((o["job"], o["status"]) for o in out) for out in scheduled["outputs"]] == [
        [("wkstn-hourly", "ok"), ("wkstn-notebook-only", "ok")]
    ] * 2


def test_run_json_diff_shows_exactly_the_planted_alert(scheduled):
    second = _outcome(scheduled, 1)
    info = json.loads((scheduled["root"] / second["run_dir"] / "run.json").read_text())
    diff = info["diff"]
    first_id = Path(_outcome(scheduled, 0)["run_dir"]).name
    assert diff["previous"] == first_id
    alerts = diff["tables"]["related_alerts"]
    assert (
        {r["SystemAlertId"] for r in alerts["new"]}
        == scheduled["new_ids"]
        == {scheduled["planted"]}
    )
    assert alerts["counts"] == {"new": 1, "gone": 0, "changed": 0}
    assert "1 new related_alerts row" in diff["summary"]
    # Findings, when the template glues them, show the planted alert as new too.
    # host_summary states alerts as one finding per severity: the planted alert makes its
    # severity's finding new or changed.
    if diff["findings_compared"]:
        assert "alerts:" in json.dumps(diff["new"] + diff["changed"])


def test_run_due_json_carries_the_diff(scheduled):
    first, second = _outcome(scheduled, 0), _outcome(scheduled, 1)
    assert first["diff"]["previous"] is None
    rows = second["diff"]["tables"]["related_alerts"]["new"]
    assert [r["SystemAlertId"] for r in rows] == [scheduled["planted"]]


def test_report_shows_since_last_run_block_escaped(scheduled):
    second = _outcome(scheduled, 1)
    page = (scheduled["root"] / second["run_dir"] / "report.html").read_text()
    start = page.index('id="since-last-run"')
    block = page[start : page.index("</div>", start)]
    assert start < page.index('class="nbc-details"')  # at the top, beside the verdict
    assert scheduled["planted"] in block
    assert "&lt;img src=x onerror=" in block and "<img src=x" not in page


def test_index_shows_the_new_alert(scheduled):
    page = (scheduled["root"] / "index.html").read_text()
    assert "Since last run" in page
    assert f"new related_alerts: {scheduled['planted']} (&lt;img src=x onerror=" in page
    assert "<img src=x" not in page
    assert "1 new related_alerts row" in page


def _first_run_findings(scheduled) -> bool:
    first = _outcome(scheduled, 0)
    info = json.loads((scheduled["root"] / first["run_dir"] / "run.json").read_text())
    return bool(info.get("findings"))


def test_one_notification_per_channel_for_the_run_with_a_new_alert(scheduled):
    # A first run has no previous run: under on_new_findings every finding it has is new,
    # so it is sent when host_summary states findings; the second run is sent for its alert.
    first = 1 if _first_run_findings(scheduled) else 0
    assert scheduled["counts"] == [(first, first), (first + 1, first + 1)]
    assert len(scheduled["messages"]) == len(scheduled["bodies"]) == first + 1
    mail = scheduled["messages"][-1]
    body = scheduled["bodies"][-1]
    html_part = mail.get_body(preferencelist=("html",)).get_content()
    assert scheduled["planted"] in html_part
    assert "&lt;img src=x onerror=" in html_part and "<img src=x" not in html_part
    subject = " ".join(mail["Subject"].split())  # unfolded
    assert subject.startswith("[nbcatalog] wkstn-hourly host=WKSTN-042: ok")
    assert "1 new related_alerts row" in subject
    assert mail["To"] == "soc@example.org"
    new_rows = body["diff"]["tables"]["related_alerts"]["new"]
    assert [r["SystemAlertId"] for r in new_rows] == [scheduled["planted"]]
    assert body["status"] == "ok" and body["job"] == "wkstn-hourly"


def test_deliveries_recorded_without_webhook_url(scheduled):
    from nbcatalog import history

    deliveries = history.list_deliveries(scheduled["root"])
    runs = 2 if _first_run_findings(scheduled) else 1
    assert (
        sorted((d.channel, d.status) for d in deliveries)
        == [("email", "sent")] * runs + [("webhook", "sent")] * runs
    )
    assert all("http" not in d.target for d in deliveries)


def test_job_without_report_diffs_tables_from_its_notebook(scheduled):
    second = _outcome(scheduled, 1, "wkstn-notebook-only")
    run_dir = scheduled["root"] / second["run_dir"]
    assert not (run_dir / "data" / "related_alerts.parquet").exists()
    rows = second["diff"]["tables"]["related_alerts"]["new"]
    assert [r["SystemAlertId"] for r in rows] == [scheduled["planted"]]
    assert (
        second["diff"]["previous"]
        == Path(_outcome(scheduled, 0, "wkstn-notebook-only")["run_dir"]).name
    )
