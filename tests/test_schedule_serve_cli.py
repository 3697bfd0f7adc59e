"""serve's loop (in-process, fake runner) and the schedule/history commands' messages."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from nbcatalog.cli.main import main
from schedule_fakes import FakeRunner

from nbcatalog import history
from nbcatalog.schedules import serve as serve_module
from nbcatalog.schedules.serve import Clock, serve

UTC = timezone.utc

EVERY_MINUTE = """
jobs:
  - name: tick
    notebooklet: host_summary
    parameters: {host: WKSTN-042}
    cron: "* * * * *"
    catch_up: skip
    misfire_grace: 1s
"""


def test_serve_sleeps_until_the_fire_time_runs_it_and_stops_when_idle(tmp_path):
    (tmp_path / "s.yaml").write_text(EVERY_MINUTE)
    fake = FakeRunner()
    stop = threading.Event()
    start = datetime(2026, 3, 29, 0, 59, 58, 500000, tzinfo=UTC)
    clock = Clock(start)
    messages: list[str] = []
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(
            serve(
                tmp_path / "s.yaml",
                output_dir=tmp_path / "out",
                clock=clock,
                run=fake,
                stop=stop,
                on_message=messages.append,
                handle_signals=False,
            )
        )
    )
    began = time.monotonic()
    thread.start()
    deadline = time.monotonic() + 10
    while not fake.calls and time.monotonic() < deadline:
        time.sleep(0.05)
    # Nothing ran at start (00:59 was 58 s late); 01:00 ran when the clock reached it.
    assert [r[1] for r in fake.runs()] == ["2026-03-29T01:00:00Z"]
    assert 1.0 < time.monotonic() - began < 5
    stop.set()  # serve is now asleep until 01:01: it must wake and return at once
    thread.join(5)
    assert not thread.is_alive() and codes == [0]
    assert messages[-1] == "stopped" and any("next fire time" in m for m in messages)
    assert [r.status for r in history.list_runs(tmp_path / "out")] == ["ok"]


def test_serve_keeps_the_last_good_schedule_when_the_file_breaks(tmp_path, monkeypatch):
    monkeypatch.setattr(serve_module, "MAX_SLEEP", 0.2)  # wake (and re-read) often
    path = tmp_path / "s.yaml"
    path.write_text(EVERY_MINUTE)
    fake = FakeRunner()
    stop = threading.Event()
    messages: list[str] = []
    clock = Clock(datetime(2026, 1, 1, 0, 0, 59, 700000, tzinfo=UTC))

    def run(*args, **kwargs):
        path.write_text("jobs: [\n")  # someone saves a broken file mid-run
        result = fake(*args, **kwargs)
        return result

    thread = threading.Thread(
        target=serve,
        args=(path,),
        kwargs=dict(
            output_dir=tmp_path,
            clock=clock,
            run=run,
            stop=stop,
            on_message=messages.append,
            handle_signals=False,
        ),
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not any("not reloaded" in m for m in messages) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert any("not reloaded" in m and "not valid YAML" in m for m in messages)
    assert not thread.is_alive() and [r[1] for r in fake.runs()] == ["2026-01-01T00:01:00Z"]


def test_clock_shift():
    start = datetime(2030, 1, 1, tzinfo=UTC)
    clock = Clock(start)
    assert timedelta(0) <= clock.now() - start < timedelta(seconds=1)
    assert abs(Clock().now() - datetime.now(UTC)) < timedelta(seconds=1)


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_check_reports_problems_with_exit_2(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "jobs:\n  - name: dc\n    notebooklet: host_summary\n    cron: '0 25 * * *'\n"
        "    timezone: Mars/Olympus\n"
    )
    result = invoke("schedule", "check", "--file", str(path))
    assert result.exit_code == 2
    assert "job 'dc': field 'cron'" in result.output
    assert "job 'dc': field 'timezone': 'Mars/Olympus'" in result.output
    missing = invoke("schedule", "run-due", "--file", str(tmp_path / "none.yaml"))
    assert missing.exit_code == 2 and "no schedule file at" in missing.output


def test_check_names_unknown_notebooklets_and_parameters(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "jobs:\n"
        "  - {name: a, notebooklet: host_sumary, cron: '@daily'}\n"
        "  - {name: b, notebooklet: host-summary, cron: '@daily', parameters: [{hots: X}]}\n"
    )
    result = invoke("schedule", "check", "--file", str(path))
    assert result.exit_code == 2
    assert "job 'a': field 'notebooklet'" in result.output and "host_summary" in result.output
    assert "job 'b': field 'parameters'" in result.output and "'host'" in result.output
    # A host_summary job with no host would report on nothing every morning: refused.
    path.write_text("jobs:\n  - {name: b, notebooklet: host-summary, cron: '0 6 * * *'}\n")
    hostless = invoke("schedule", "check", "--file", str(path))
    assert hostless.exit_code == 2
    assert "job 'b': field 'parameters': host_summary needs host" in hostless.output
    path.write_text(
        "jobs:\n  - {name: b, notebooklet: host-summary, cron: '0 6 * * *', "
        "parameters: {host: WIN-DC01}}\n"
    )
    ok = invoke("schedule", "check", "--file", str(path), "--now", "2026-03-28T07:00:00Z")
    assert ok.exit_code == 0, ok.output
    assert "1 job(s) OK" in ok.output and "next 2026-03-29T06:00:00+00:00" in ok.output


def test_bad_now_is_a_usage_error(tmp_path):
    (tmp_path / "s.yaml").write_text(EVERY_MINUTE)
    result = CliRunner().invoke(
        main, ["schedule", "run-due", "--file", str(tmp_path / "s.yaml"), "--now", "tomorrow"]
    )
    assert result.exit_code == 2 and "not an ISO-8601 time" in result.output


def test_history_lists_and_filters(tmp_path):
    fake = FakeRunner(fail=lambda name, params, labels: params.get("host") == "B")
    fake("host_summary", output_dir=tmp_path, host="A", labels={"job": "j"})
    try:
        fake("host_summary", output_dir=tmp_path, host="B", labels={"job": "j"})
    except Exception:  # noqa: BLE001
        pass
    fake("account_summary", output_dir=tmp_path, account="bob")
    rows = json.loads(invoke("history", "--output", str(tmp_path), "--json").output)
    assert len(rows) == 3
    failed = json.loads(
        invoke("history", "--output", str(tmp_path), "--status", "failed", "--json").output
    )
    assert [r["parameters"]["host"] for r in failed] == ["B"]
    text = invoke("history", "--output", str(tmp_path), "--template", "account-summary").output
    assert "account_summary" in text and "host_summary" not in text
    assert "planted failure" in invoke("history", "--output", str(tmp_path), "--job", "j").output
    assert "no runs" in invoke("history", "--output", str(tmp_path / "empty")).output
