"""Notifications of scheduled runs: when they are sent, what they say, retries, records.

Real receivers: aiosmtpd on 127.0.0.1 and a local HTTP server (tests/helpers/receivers).
The scheduler runs with the fake runner (real run folders and history, no kernel);
the end-to-end test with real kernels is test_rundiff_schedule_e2e.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from nbcatalog import history
from nbcatalog.notify.deliver import notify_run
from nbcatalog.notify.policy import qualifies
from nbcatalog.notify.spec import NotifySpec
from nbcatalog.schedules.rundue import run_job_now
from nbcatalog.schedules.spec import ScheduleError, parse_schedule
from tests.helpers.receivers import free_port, smtp_server, webhook_server
from tests.schedule_fakes import FakeRunner

HOSTILE = "<script>alert('x')</script>\r\nBcc: victim@example.org"
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


def _job(notify, **extra):
    raw = {"name": "dc", "notebooklet": "host_summary", "cron": "0 6 * * *", "notify": notify}
    return parse_schedule({"jobs": [{**raw, **extra}]})


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "absent.toml"))
    for name in ("NBCATALOG_SMTP_HOST", "NBCATALOG_REPORT_URL", "NBCATALOG_WEBHOOK_SOC"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class FindingsRunner(FakeRunner):
    """The fake runner, whose run.json also holds the findings `plan` gives per call."""

    def __init__(self, plan, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan

    def __call__(self, name, **kwargs):
        result = super().__call__(name, **kwargs)
        findings = self.plan(len(self.calls))
        if findings is not None:
            path = Path(result.run_dir) / "run.json"
            info = json.loads(path.read_text())
            path.write_text(json.dumps({**info, "findings": findings}))
        return result


def _finding(key, title="Brute force from 192.0.2.10"):
    return {"severity": "high", "title": title, "section": "alerts", "count": 1, "key": key}


# --- the schedule's notify field ------------------------------------------------------


def test_notify_field_checked_naming_job_field_and_accepted_values():
    with pytest.raises(ScheduleError) as caught:
        _job({"when": "sometimes", "email": ["not-an-address"], "webhook": "https://h/x?t=1"})
    text = str(caught.value)
    assert "job 'dc': field 'notify': when 'sometimes'" in text
    assert "always, on_findings, on_new_findings, on_failure" in text
    assert "'not-an-address' is not an address" in text
    assert "webhook must be a name, not a URL" in text


def test_notify_needs_a_recipient_and_pdf_needs_the_pdf_format():
    with pytest.raises(ScheduleError, match="names no recipient"):
        _job({"when": "always"})
    with pytest.raises(ScheduleError, match="add pdf to the job's formats"):
        _job({"when": "always", "email": "soc@example.org", "pdf": True})
    job = _job({"when": "always", "email": "soc@example.org", "pdf": True}, formats=["html", "pdf"])
    assert job.jobs[0].notify == NotifySpec("always", ("soc@example.org",), None, True)


@pytest.mark.parametrize(
    ("when", "info", "diff", "strict", "expected"),
    [
        ("always", {"status": "ok"}, None, False, True),
        ("on_failure", {"status": "failed"}, None, False, True),
        ("on_failure", {"status": "ok", "findings": [_finding("a")]}, None, False, False),
        ("on_failure", {"status": "no_data"}, None, True, True),
        ("on_failure", {"status": "no_data"}, None, False, False),
        ("on_findings", {"status": "ok", "findings": [_finding("a")]}, None, False, True),
        ("on_findings", {"status": "ok", "findings": []}, None, False, False),
        ("on_findings", {"status": "no_data", "findings": []}, None, False, False),
        (
            "on_new_findings",
            {"status": "ok", "findings": [_finding("a")]},
            {"previous": "r1", "new": []},
            False,
            False,
        ),
        (
            "on_new_findings",
            {"status": "ok", "findings": [_finding("a")]},
            {"previous": "r1", "new": [_finding("a")]},
            False,
            True,
        ),
        (
            "on_new_findings",
            {"status": "ok", "findings": []},
            {"previous": "r1", "new": [], "tables": {"related_alerts": {"counts": {"new": 1}}}},
            False,
            True,
        ),
        (
            "on_new_findings",
            {"status": "ok", "findings": [_finding("a")]},
            {"previous": None},
            False,
            True,
        ),
    ],
)
def test_policy(when, info, diff, strict, expected):
    assert qualifies(when, info, diff, strict=strict) is expected


# --- through the scheduler: one message per qualifying run ----------------------------


def test_on_new_findings_sends_once_per_run_with_a_new_finding(env, tmp_path):
    plan = {1: [_finding("a")], 2: [_finding("a")], 3: [_finding("a"), _finding("b", HOSTILE)]}
    runner = FindingsRunner(lambda n: plan[n])
    schedule = _job({"when": "on_new_findings", "email": ["soc@example.org"], "webhook": "soc"})
    root = tmp_path / "out"
    counts = []
    with smtp_server() as smtp, webhook_server() as hook:
        env.setenv("NBCATALOG_SMTP_HOST", smtp.host)
        env.setenv("NBCATALOG_SMTP_PORT", str(smtp.port))
        env.setenv("NBCATALOG_WEBHOOK_SOC", hook.url)
        env.setenv("NBCATALOG_WEBHOOK_SOC_TOKEN", "tok-s3cret")
        env.setenv("NBCATALOG_REPORT_URL", "https://soc.example.org/reports")
        for hour in (6, 7, 8):
            run_job_now(schedule, "dc", now=NOW.replace(hour=hour), output_dir=root, run=runner)
            counts.append((len(smtp.messages), len(hook.bodies)))
        mails, bodies, headers = list(smtp.messages), list(hook.bodies), list(hook.headers)
    # Run 1: the first run's finding is new; run 2: nothing new; run 3: finding b.
    assert counts == [(1, 1), (1, 1), (2, 2)]
    last = mails[-1]
    assert [k for k in last.keys() if k.lower() == "bcc"] == []  # no header injected
    html_part = last.get_body(preferencelist=("html",)).get_content()
    assert "&lt;script&gt;" in html_part and "<script>" not in html_part
    assert "https://soc.example.org/reports/host_summary/" in html_part
    assert [f["key"] for f in bodies[-1]["diff"]["new"]] == ["b"]
    assert headers[-1]["Authorization"] == "Bearer tok-s3cret"
    deliveries = history.list_deliveries(root)
    assert [(d.channel, d.status, d.attempts) for d in deliveries] == [
        ("email", "sent", 1),
        ("webhook", "sent", 1),
    ] * 2
    stored = (root / history.DB_NAME).read_bytes()
    assert b"tok-s3cret" not in stored and b"127.0.0.1" not in stored


def test_on_failure_sends_for_the_failed_run_only(env, tmp_path):
    runner = FakeRunner(
        fail=lambda name, params, labels: labels["fire_time"].startswith("2026-03-02T07")
    )
    schedule = _job({"when": "on_failure", "webhook": "soc"})
    root = tmp_path / "out"
    with webhook_server() as hook:
        env.setenv("NBCATALOG_WEBHOOK_SOC", hook.url)
        for hour in (6, 7):
            run_job_now(schedule, "dc", now=NOW.replace(hour=hour), output_dir=root, run=runner)
        bodies = list(hook.bodies)
    assert len(bodies) == 1
    assert bodies[0]["status"] == "failed" and "planted failure" in bodies[0]["verdict"]


# --- delivery: retries, failures recorded, never raised -------------------------------


def _ok_run(root: Path) -> str:
    run_dir = root / "host_summary" / "20260302T060000Z-abc123"
    run_dir.mkdir(parents=True)
    info = {
        "template": "host_summary",
        "status": "ok",
        "run_id": run_dir.name,
        "parameters": {"host": "WKSTN-042"},
        "findings": [_finding("a")],
    }
    (run_dir / "run.json").write_text(json.dumps(info))
    return "host_summary/20260302T060000Z-abc123"


def test_webhook_retried_with_backoff_then_sent(env, tmp_path):
    waits: list[float] = []
    run_dir = _ok_run(tmp_path)
    with webhook_server(fail_first=2) as hook:
        env.setenv("NBCATALOG_WEBHOOK_SOC", hook.url)
        (sent,) = notify_run(
            tmp_path,
            "dc",
            NotifySpec("always", webhook="soc"),
            run_dir=run_dir,
            status="ok",
            sleep=waits.append,
        )
        assert len(hook.bodies) == 1 and hook.hits == 3
    assert (sent.status, sent.attempts) == ("sent", 3)
    assert waits == [2.0, 4.0]


def test_undeliverable_is_recorded_and_never_raises(env, tmp_path):
    run_dir = _ok_run(tmp_path)
    with webhook_server(fail_first=99) as hook:
        env.setenv("NBCATALOG_WEBHOOK_SOC", hook.url + "?token=t0ps3cret")
        env.setenv("NBCATALOG_SMTP_HOST", "127.0.0.1")
        env.setenv("NBCATALOG_SMTP_PORT", str(free_port()))  # nothing listens there
        spec = NotifySpec("always", email=("soc@example.org",), webhook="soc")
        done = notify_run(tmp_path, "dc", spec, run_dir=run_dir, status="ok", sleep=lambda s: 0)
        assert hook.hits == 3
    assert [(d.channel, d.status, d.attempts) for d in done] == [
        ("email", "failed", 3),
        ("webhook", "failed", 3),
    ]
    recorded = history.list_deliveries(tmp_path, run_dir=run_dir)
    assert [d.status for d in recorded] == ["failed", "failed"]
    assert all(d.error for d in recorded)
    assert not any("t0ps3cret" in (d.error or "") + d.target for d in recorded)


def test_channel_not_configured_names_what_to_set(env, tmp_path):
    run_dir = _ok_run(tmp_path)
    spec = NotifySpec("always", email=("soc@example.org",), webhook="soc-alerts")
    done = notify_run(tmp_path, "dc", spec, run_dir=run_dir, status="ok")
    assert "NBCATALOG_SMTP_HOST" in done[0].error
    assert "NBCATALOG_WEBHOOK_SOC_ALERTS" in done[1].error
    assert [d.attempts for d in done] == [0, 0]


def test_pdf_attached_when_asked(env, tmp_path):
    run_dir = _ok_run(tmp_path)
    (tmp_path / run_dir / "report.pdf").write_bytes(b"%PDF-1.4 test\n")
    with smtp_server() as smtp:
        env.setenv("NBCATALOG_SMTP_HOST", smtp.host)
        env.setenv("NBCATALOG_SMTP_PORT", str(smtp.port))
        spec = NotifySpec("always", email=("soc@example.org",), pdf=True)
        notify_run(tmp_path, "dc", spec, run_dir=run_dir, status="ok")
        (mail,) = smtp.messages
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test\n"


def test_schedule_deliveries_lists_failed_ones(env, tmp_path):
    from click.testing import CliRunner
    from nbcatalog.cli.main import main

    run_dir = _ok_run(tmp_path)
    spec = NotifySpec("always", email=("soc@example.org",), webhook="soc")
    notify_run(tmp_path, "dc", spec, run_dir=run_dir, status="ok")  # neither configured
    runner = CliRunner()
    text = runner.invoke(main, ["schedule", "deliveries", "--output", str(tmp_path)])
    assert text.exit_code == 0, text.output
    assert text.output.count("failed") == 2 and "NBCATALOG_SMTP_HOST" in text.output
    data = runner.invoke(
        main, ["schedule", "deliveries", "--output", str(tmp_path), "--json", "--status", "sent"]
    )
    assert json.loads(data.output) == []
