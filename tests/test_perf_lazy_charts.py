"""Lazy charts: a run without a report records how to draw its charts, and draws them on demand.

What an analyst checks: the tables come back the same; the charts are there when the
results are shown in a notebook, in an HTML report written later, and in
notebook.ipynb after `nbcatalog draw`; a run nobody looked at is never drawn (not
even when its process exits), and its notebook says how to draw it; a chart is drawn
once; a notebook naming code that is not an nbcatalog chart function gets it refused. The
runner harvests without scrapbook's schema checks and decodes frames on first use:
the same values as scrapbook reads.

One store and two runs of host_logons_summary (one lazy, one with --html, drawn in
the kernel) are shared by the module. The auth.log lines are written here in
OpenSSH's shapes; the figures asserted are counted from those lines.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest

import nbcatalog
from nbcatalog import lazycharts
from nbcatalog.lazycharts import LAZY_ENV, LAZY_MIME
from nbcatalog.report_assets import CHART_MIME

ATTACKER = "203.0.113.41"
WINDOW = {"start": "2025-03-01T00:00:00Z", "end": "2025-03-10T00:00:00Z"}


def _auth_lines() -> list[str]:
    lines = []
    for i in range(24):  # a brute force on root from one address
        lines.append(
            f"Mar  3 04:{10 + i // 6:02d}:{(i * 9) % 60:02d} web-fra-03 sshd[{2100 + i}]: "
            f"Failed password for root from {ATTACKER} port {50000 + i} ssh2"
        )
    lines.append(
        f"Mar  3 04:20:00 web-fra-03 sshd[2200]: Accepted password for deploy from {ATTACKER} "
        "port 51230 ssh2"
    )
    lines.append(
        "Mar  3 05:00:00 web-fra-03 sshd[2300]: Accepted publickey for mkowalski from "
        "192.0.2.10 port 40122 ssh2: ED25519 SHA256:Qm3kT0cVn8Jb2yLr5Ws1Hd7Pa4Ze9Xu6Fi0Og2Ek"
    )
    return lines


def _frame(lines: list[str]) -> pd.DataFrame:
    rows = []
    for line in lines:
        stamp, rest = line[:15], line[16:]
        host, tag, message = rest.split(" ", 2)
        rows.append(
            {
                "TimeGenerated": pd.Timestamp(f"2025 {stamp}", tz="UTC"),
                "Computer": host,
                "ProcessName": tag.split("[")[0],
                "ProcessID": tag.split("[")[1].rstrip("]:"),
                "SyslogMessage": message,
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A lazy run and an eager report run of the same frame, and the frame's lines."""
    folder = tmp_path_factory.mktemp("lazy")
    db = folder / "empty.duckdb"
    duckdb.connect(str(db)).close()
    lines = _auth_lines()
    common = dict(
        data=_frame(lines),
        data_source=f"duckdb:{db}",
        output_dir=folder / "output",
        silent=True,
        quiet=True,
        **WINDOW,
    )
    lazy = nbcatalog.run("host_logons_summary", **common)
    # Read before anything draws it: what the run itself left on disk.
    lazy_file = json.loads((lazy.run_dir / "notebook.ipynb").read_text(encoding="utf-8"))
    eager = nbcatalog.run("host_logons_summary", html=True, **common)
    return {"lazy": lazy, "lazy_file": lazy_file, "eager": eager, "lines": lines, "common": common}


def _outputs(nb) -> list[dict]:
    return [o for c in nb["cells"] for o in c.get("outputs", [])]


def test_the_run_leaves_charts_undrawn_and_the_tables_whole(runs):
    outputs = _outputs(runs["lazy_file"])
    assert any(LAZY_MIME in o.get("data", {}) for o in outputs)
    assert not any("image/png" in o.get("data", {}) for o in outputs)
    lazy, eager, lines = runs["lazy"], runs["eager"], runs["lines"]
    failed = sum("Failed password" in line for line in lines)
    accepted = sum("Accepted " in line for line in lines)
    sessions = lazy.logon_sessions
    assert len(sessions) == failed + accepted
    assert (sessions["LogonResult"] == "Failure").sum() == failed
    # The same results as the run drawn in the kernel, frame for frame.
    assert set(lazy.keys()) == set(eager.keys())
    for name in lazy.keys():
        left, right = lazy[name], eager[name]
        if isinstance(left, pd.DataFrame):
            pd.testing.assert_frame_equal(left, right)
        else:
            assert left == right, name


def test_showing_the_results_draws_the_charts(runs):
    res = runs["lazy"]
    timeline = res.section_bundles("timeline")
    assert any("image/png" in data and CHART_MIME in data for data, _ in timeline)
    assert not any(LAZY_MIME in data for data, _ in res.section_bundles())
    png = next(data["image/png"] for data, _ in timeline if "image/png" in data)
    assert base64.b64decode(png).startswith(b"\x89PNG")
    # What res.show() displays in the caller's notebook has every chart drawn (the
    # timeline and the logon matrix), and the file now holds them.
    drawn = [data for data, _ in res.section_bundles() if "image/png" in data]
    assert len(drawn) >= 2
    saved = json.loads(res.notebook_path.read_text(encoding="utf-8"))
    assert not any(LAZY_MIME in o.get("data", {}) for o in _outputs(saved))
    assert any("image/png" in o.get("data", {}) for o in _outputs(saved))
    assert "image/png" in res.displays["timeline"]["data"]


def test_asking_for_the_notebook_file_draws_it(runs):
    res = nbcatalog.run("host_logons_summary", **runs["common"])
    saved = res.run_dir / "notebook.ipynb"
    summary = res.to_json_summary()  # what --json and run.json give: names the file only
    assert summary["notebook"] == str(saved)
    assert LAZY_MIME in saved.read_text(encoding="utf-8")
    assert res.notebook_path == saved
    text = saved.read_text(encoding="utf-8")
    assert LAZY_MIME not in text and '"image/png"' in text


def test_a_chart_drawn_late_is_the_chart_drawn_in_the_kernel(runs):
    lazy, eager = runs["lazy"], runs["eager"]
    for name in ("timeline", "logon_matrix_plot"):
        late = lazy.displays[name]["data"]["image/png"]
        early = eager.displays[name]["data"]["image/png"]
        assert base64.b64decode(late) == base64.b64decode(early), name
    # side_by_side's two bar charts, HTML holding both images
    assert lazy.displays["plots"]["data"]["text/html"].count("data:image/png") == 2


def test_a_report_written_later_has_every_chart(runs, tmp_path):
    from nbcatalog.reports import write_report

    lazy, eager = runs["lazy"], runs["eager"]
    # From the run's own file as the run left it (stand-ins), as `nbcatalog report` would.
    copy = tmp_path / "notebook.ipynb"
    copy.write_text(json.dumps(runs["lazy_file"]), encoding="utf-8")
    report = write_report(copy, tmp_path / "report.html", lazy.run_info).read_text()
    eager_report = eager.report_path.read_text(encoding="utf-8")
    assert report.count("data:image/png;base64") == eager_report.count("data:image/png;base64")
    assert report.count("data:image/png;base64") >= 4
    assert "drawn when shown" not in report


def _cli(*args: str) -> subprocess.CompletedProcess:
    nbcatalog_cli = Path(sys.executable).parent / "nbcatalog"
    return subprocess.run([str(nbcatalog_cli), *args], capture_output=True, text=True, timeout=600)


def test_a_run_nobody_looks_at_is_never_drawn_until_asked(runs, tmp_path):
    common = runs["common"]
    frame_path = tmp_path / "frame.pkl"
    common["data"].to_pickle(frame_path)
    code = (
        "import pandas as pd, nbcatalog\n"
        f"res = nbcatalog.run('host_logons_summary', data=pd.read_pickle({str(frame_path)!r}), "
        f"data_source={common['data_source']!r}, output_dir={str(tmp_path / 'out')!r}, "
        f"start={WINDOW['start']!r}, end={WINDOW['end']!r}, silent=True, quiet=True"
        ")\n"
        "print(res.run_dir)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    notebook = run_dir / "notebook.ipynb"
    # The process has exited: its charts are still stand-ins, each saying how to draw it.
    outputs = _outputs(nbformat.read(str(notebook), as_version=4))
    stand_ins = [o["data"] for o in outputs if LAZY_MIME in o.get("data", {})]
    assert len(stand_ins) >= 2
    assert not any("image/png" in o.get("data", {}) for o in outputs)
    for data in stand_ins:
        assert "nbcatalog draw RUN_FOLDER" in data["text/plain"]

    drawn = _cli("draw", str(run_dir))
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout.strip() == f"{notebook}: {len(stand_ins)} charts drawn"
    saved = nbformat.read(str(notebook), as_version=4)
    nbformat.validate(saved)
    assert not any(LAZY_MIME in o.get("data", {}) for o in _outputs(saved))
    # The same pictures as the run drawn in its kernel.
    eager = runs["eager"].displays
    for name in ("timeline", "logon_matrix_plot"):
        late = next(
            o["data"]["image/png"]
            for o in _outputs(saved)
            if o.get("metadata", {}).get("scrapbook", {}).get("name") == name
        )
        assert base64.b64decode(late) == base64.b64decode(eager[name]["data"]["image/png"])
    again = _cli("draw", str(run_dir))
    assert again.returncode == 0 and again.stdout.strip() == f"{notebook}: nothing to draw"


def test_draw_refuses_what_is_not_a_run_and_leaves_a_bad_notebook_alone(runs, tmp_path):
    missing = _cli("draw", str(tmp_path / "nope"))
    assert missing.returncode == 2
    assert "neither a run folder (with run.json) nor a run id" in missing.stderr

    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "run.json").write_text("{}", encoding="utf-8")
    no_notebook = _cli("draw", str(kept))
    assert no_notebook.returncode == 2 and "kept no notebook.ipynb" in no_notebook.stderr

    good = tmp_path / "good"
    good.mkdir()
    (good / "run.json").write_text("{}", encoding="utf-8")
    (good / "notebook.ipynb").write_text(json.dumps(runs["lazy_file"]), encoding="utf-8")
    broken = b'{"cells": [{"outputs": [ truncated by a full disk'
    (kept / "notebook.ipynb").write_bytes(broken)
    mixed = _cli("draw", str(good), str(kept))
    assert mixed.returncode == 1
    assert f"{kept / 'notebook.ipynb'}: not drawn" in mixed.stderr
    assert (kept / "notebook.ipynb").read_bytes() == broken  # untouched
    assert "charts drawn" in mixed.stdout  # the readable one was drawn all the same
    assert LAZY_MIME not in (good / "notebook.ipynb").read_text(encoding="utf-8")


# ---------------------------------------------------------------- no kernel


def _counts() -> pd.DataFrame:
    return pd.DataFrame({"Account": ["root", "deploy"], "Success": [0, 1], "Failure": [24, 0]})


def test_a_template_run_by_hand_draws_at_once(monkeypatch):
    from nbcatalog.nblib import logonplots
    from nbcatalog.nblib.plots import Chart

    monkeypatch.delenv(LAZY_ENV, raising=False)
    drawn = logonplots.result_bars(_counts(), "Account", title="Logons by account")
    assert not isinstance(drawn, lazycharts.LazyChart) and drawn.data.startswith(b"\x89PNG")
    sessions = pd.DataFrame(
        {
            "TimeGenerated": pd.to_datetime(["2025-03-03T04:10:00Z"] * 2, utc=True),
            "LogonResult": ["Failure", "Success"],
        }
    )
    from nbcatalog.nblib import plots

    assert isinstance(plots.timeline(sessions, group="LogonResult", title="t"), Chart)


def test_a_lazy_chart_is_drawn_once(monkeypatch):
    from nbcatalog.nblib import logonplots

    monkeypatch.setenv(LAZY_ENV, "1")
    chart = logonplots.result_bars(_counts(), "Account", title="Logons by account")
    assert isinstance(chart, lazycharts.LazyChart)
    data = chart._repr_mimebundle_()
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x",
                outputs=[nbformat.v4.new_output("display_data", data=data, metadata={"k": 1})],
            )
        ]
    )
    monkeypatch.delenv(LAZY_ENV)
    assert lazycharts.draw_outputs(nb) == 1
    output = nb.cells[0].outputs[0]
    assert base64.b64decode(output.data["image/png"]).startswith(b"\x89PNG")
    assert output.metadata["k"] == 1
    assert lazycharts.draw_outputs(nb) == 0  # nothing left to draw


def test_a_notebook_naming_other_code_is_refused(tmp_path):
    planted = tmp_path / "planted"
    spec = {
        "call": "os.system",
        "title": "x",
        "args": [{"$value": f"touch {planted}"}],
        "kwargs": {},
    }
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "x", outputs=[nbformat.v4.new_output("display_data", data={LAZY_MIME: spec})]
            )
        ]
    )
    assert lazycharts.draw_outputs(nb) == 1
    text = nb.cells[0].outputs[0].data["text/plain"]
    assert "could not be drawn" in text and "not one nbcatalog draws" in text
    assert not planted.exists() and not os.path.exists(planted)


# ------------------------------------------------------ harvest, read lazily


def test_harvest_reads_what_scrapbook_reads(runs):
    import scrapbook as sb

    from nbcatalog.findings_model import check_findings, ranked
    from nbcatalog.harvest import harvest
    from nbcatalog.scraps import reading_from

    path = runs["eager"].notebook_path
    ours = harvest(path)
    with reading_from(path.parent):
        theirs = sb.read_notebook(str(path)).scraps
    expected = {n: s.data for n, s in theirs.items() if s.encoder != "display"}
    expected.pop("nbcatalog_outcome", None)
    # The findings scrap is checked and ranked into its own field, not a result.
    assert ours.findings == ranked(check_findings(expected.pop("findings")))
    assert set(ours.data) == set(expected)
    for name, value in expected.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(ours.data[name], value)
        else:
            assert ours.data[name] == value, name
    shown = {n: dict(s.display) for n, s in theirs.items() if s.display is not None}
    assert ours.displays == shown


def test_frames_are_decoded_when_first_read(runs):
    from nbcatalog.harvest import harvest
    from nbcatalog.results import Results
    from nbcatalog.scraps import InlineFrame

    eager = runs["eager"]
    lazy = harvest(eager.notebook_path, lazy=True)
    stored = lazy.data["logon_sessions"]
    assert isinstance(stored, InlineFrame) and stored.rows == len(eager.logon_sessions)
    res = Results(
        template="host_logons_summary",
        data=lazy.data,
        displays=lazy.displays,
        sections={},
        notebook=eager.notebook,
        parameters={},
        run_dir=eager.run_dir,
        notebook_path=eager.notebook_path,
        report_path=None,
        status="ok",
        duration=0.0,
    )
    summary = res.to_json_summary()["results"]["logon_sessions"]
    assert summary["rows"] == len(eager.logon_sessions)
    assert summary["columns"] == list(eager.logon_sessions.columns)
    assert isinstance(res.data.stored("logon_sessions"), InlineFrame)  # summarised unread
    pd.testing.assert_frame_equal(res.logon_sessions, eager.logon_sessions)
    assert isinstance(res.data.stored("logon_sessions"), pd.DataFrame)  # decoded once, kept
