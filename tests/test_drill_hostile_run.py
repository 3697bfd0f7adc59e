"""`nbcatalog drill` on a crafted run folder executes nothing the folder names (issue 10).

A run folder can come from anyone: a shared case folder, an attachment. Here a real
account_summary run folder (made by a real run on the demo store) is copied and
edited the way an attacker would: its notebook metadata and run.json name a planted
notebook and a planted module. The planted notebook and module each leave a marker
file when they run or are imported; the installed `nbcatalog` command, run as a
shell would, must refuse or use the installed template's drill-downs, and no marker
may appear.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from run_helpers import NBCATALOG
from summary_runs import summary_run
from template_factory import write_template

pytestmark = pytest.mark.slow


@pytest.fixture
def planted(tmp_path: Path) -> dict[str, Path]:
    """A planted template notebook and a planted module, each writing a marker."""
    marker = tmp_path / "planted-ran.txt"
    notebook = write_template(
        tmp_path / "planted",
        "planted",
        sections=[("s", "## S", [f"open({str(marker)!r}, 'w').write('notebook ran')"])],
    )
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "nbc_planted_mod.py").write_text(
        f"open({str(marker)!r}, 'w').write('module imported')\n"
        "def events(results, asn=''):\n"
        f"    open({str(marker)!r}, 'w').write('function called')\n"
    )
    return {"marker": marker, "notebook": notebook, "modules": modules}


@pytest.fixture
def run_copy(demo_db, tmp_path: Path) -> Path:
    """A copy of a real account_summary run folder (the cached run stays untouched)."""
    res = summary_run(demo_db, "account_summary", account="bob", html=True)
    copy = tmp_path / "shared-case" / res.run_dir.name
    shutil.copytree(res.run_dir, copy)
    return copy


def _drill(folder: Path, *args: str, planted: dict[str, Path], tmp_path: Path):
    """`nbcatalog drill FOLDER ARGS` in a shell whose Python path holds the planted module."""
    env = {k: v for k, v in os.environ.items() if k != "NBCATALOG_PATH"}
    env["PYTHONPATH"] = str(planted["modules"])
    env["NBCATALOG_OUTPUT"] = str(tmp_path / "drill-output")
    return subprocess.run(
        [str(NBCATALOG), "drill", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def _edit_notebook_drilldowns(folder: Path, planted: dict[str, Path]) -> None:
    path = folder / "notebook.ipynb"
    nb = nbformat.read(path, as_version=4)
    declared = nb.metadata["nbcatalog"]["drilldowns"]
    declared["pick_ip"] = {
        "description": "summarise an address",
        "template": str(planted["notebook"]),
        "result": "ip_summary",
        "parameters": {},
    }
    declared["planted"] = {"description": "x", "template": str(planted["notebook"])}
    declared["pick_asn"] = {"function": "nbc_planted_mod:events", "result": "ip_summary"}
    nbformat.write(nb, path)


def _edit_run_json(folder: Path, **changes) -> None:
    path = folder / "run.json"
    info = json.loads(path.read_text())
    info.update(changes)
    path.write_text(json.dumps(info))


def test_planted_notebook_metadata_is_ignored(run_copy, planted, tmp_path):
    _edit_notebook_drilldowns(run_copy, planted)

    listed = _drill(run_copy, planted=planted, tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "planted" not in listed.stdout
    assert "pick_ip (template: ip_summary)" in listed.stdout

    unknown = _drill(run_copy, "planted", planted=planted, tmp_path=tmp_path)
    assert unknown.returncode == 2
    assert "account_summary has no drill-down 'planted'" in unknown.stderr

    # The names the planted metadata redefined run the installed template's drill-downs.
    asn = _drill(
        run_copy,
        "pick_asn",
        "--param",
        "asn=COMCAST-7922",
        "--json",
        planted=planted,
        tmp_path=tmp_path,
    )
    assert asn.returncode == 0, asn.stderr
    assert {r["IpAddress"] for r in json.loads(asn.stdout)} == {"24.16.39.94"}

    ip = _drill(
        run_copy, "pick_ip", "--row", "203.0.113.77", "--json", planted=planted, tmp_path=tmp_path
    )
    assert ip.returncode == 0, ip.stderr
    summary = json.loads(ip.stdout)
    assert summary["template"] == "ip_summary" and summary["status"] == "ok"
    assert summary["parameters"]["ip"] == "203.0.113.77"
    assert not planted["marker"].exists()


@pytest.mark.parametrize("field", ["template", "template_path"])
def test_run_json_naming_a_planted_notebook_is_refused(run_copy, planted, tmp_path, field):
    changes = {"template_path": str(planted["notebook"])}
    if field == "template":
        changes["template"] = str(planted["notebook"])
    _edit_run_json(run_copy, **changes)

    proc = _drill(
        run_copy, "pick_ip", "--row", "203.0.113.77", "--print", planted=planted, tmp_path=tmp_path
    )
    if field == "template":
        assert proc.returncode == 2
        assert "is not a template name" in proc.stderr
        assert "Traceback" not in proc.stderr
    else:  # the path is not what drill-downs are read from: the installed template's
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split()[:3] == ["nbcatalog", "run", "ip-summary"]
    assert not planted["marker"].exists()


def test_a_changed_or_swapped_template_is_refused(run_copy, planted, tmp_path):
    _edit_run_json(run_copy, content_hash="0" * 64)
    changed = _drill(
        run_copy, "pick_ip", "--row", "203.0.113.77", "--print", planted=planted, tmp_path=tmp_path
    )
    assert changed.returncode == 2
    assert "account_summary changed since this run" in changed.stderr
    assert "--allow-changed" in changed.stderr

    allowed = _drill(
        run_copy,
        "pick_ip",
        "--row",
        "203.0.113.77",
        "--print",
        "--allow-changed",
        planted=planted,
        tmp_path=tmp_path,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.split()[:3] == ["nbcatalog", "run", "ip-summary"]

    # run.json naming another catalogue template: its hash is not the run's
    real_hash = json.loads((run_copy / "run.json").read_text())["content_hash"]
    _edit_run_json(run_copy, template="host_summary", content_hash=real_hash)
    swapped = _drill(
        run_copy, "pick_ip", "--row", "203.0.113.77", planted=planted, tmp_path=tmp_path
    )
    assert swapped.returncode == 2
    assert "host_summary changed since this run" in swapped.stderr
    assert not planted["marker"].exists()


def test_a_drilldown_missing_its_value_lists_what_it_accepts(demo_db, run_copy, planted, tmp_path):
    asn = _drill(run_copy, "pick_asn", planted=planted, tmp_path=tmp_path)
    assert asn.returncode == 2
    assert "Traceback" not in asn.stderr and "TypeError" not in asn.stderr
    assert "needs asn" in asn.stderr and "--param asn=VALUE" in asn.stderr
    res = summary_run(demo_db, "account_summary", account="bob", html=True)
    owners = set(res["ip_summary"]["AsnOrg"].dropna())
    assert owners and all(owner in asn.stderr for owner in owners)

    ip = _drill(run_copy, "pick_ip", planted=planted, tmp_path=tmp_path)
    assert ip.returncode == 2
    assert "choose a row of ip_summary" in ip.stderr and "203.0.113.77" in ip.stderr


def test_hostile_values_are_not_echoed_whole(run_copy, planted, tmp_path):
    hostile = "\x1b[2J" + "203.0.113.77;rm -rf ~ " * 2000
    proc = _drill(run_copy, "pick_ip", "--row", hostile, planted=planted, tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and len(proc.stderr) < 2000
    assert "characters)" in proc.stderr
