"""The notebook-facing catalogue: the nblts tree (signatures, completion) and browse()."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import nbcatalog
from nbcatalog import catalog as cat
from nbcatalog import nblts

FIXTURES = Path(__file__).parent / "fixtures" / "templates"


@pytest.fixture(autouse=True)
def fixtures_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setattr(cat, "_added_paths", [])


def test_tree_has_categories_and_notebooklets_as_attributes():
    assert nbcatalog.nblts is nblts
    assert {"network", "linux"} <= set(dir(nbcatalog.nblts))
    assert "ip_fixture" in dir(nbcatalog.nblts.network)
    nbl = nbcatalog.nblts.network.ip_fixture
    assert nbl.name == "ip_fixture"
    assert nbl.metadata["entity_kinds"] == {"ip": "ip"}
    assert nbcatalog.nblts.network.ip_fixture.template.path == (
        FIXTURES / "network" / "ip_fixture.ipynb"
    )


def test_run_signature_is_the_templates_own_parameters():
    sig = inspect.signature(nbcatalog.nblts.linux.linux_logon_fixture.run)
    params = sig.parameters
    assert list(params)[:2] == ["host", "account"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert params["host"].default == "" and params["host"].annotation is str
    for name in ("start", "end", "data_source", "last", "output_dir", "html", "timeout"):
        assert name in params, name
    assert "options" not in params  # this template has no options
    assert "options" in inspect.signature(nbcatalog.nblts.network.ip_fixture.run).parameters
    assert "SSH logons and failures" in nbcatalog.nblts.linux.linux_logon_fixture.run.__doc__


def test_new_folders_appear_at_once_and_typos_suggest(tmp_path):
    from template_factory import write_template

    write_template(tmp_path, "fresh_probe", category="cloud")
    nbcatalog.add_path(tmp_path)
    assert "cloud" in dir(nbcatalog.nblts)
    assert nbcatalog.nblts.cloud.fresh_probe.name == "fresh_probe"
    with pytest.raises(AttributeError, match="did you mean 'network'"):
        nbcatalog.nblts.netwrk  # noqa: B018
    with pytest.raises(AttributeError, match="did you mean 'ip_fixture'"):
        nbcatalog.nblts.network.ip_fixtur  # noqa: B018


def test_show_help_and_html_repr(capsys):
    nbl = nbcatalog.nblts.network.ip_fixture
    nbl.show_help()
    assert "IP fixture  (ip_fixture)" in capsys.readouterr().out
    assert "<h4>Parameters</h4>" in nbl._repr_html_()


IPYTHON_SCRIPT = textwrap.dedent(
    """
    import json
    from IPython.core.completer import provisionalcompleter
    from IPython.core.interactiveshell import InteractiveShell

    import nbcatalog

    shell = InteractiveShell.instance()
    shell.user_ns["nbcatalog"] = nbcatalog
    out = {}
    for text in ["nbcatalog.nblts.netw", "nbcatalog.nblts.network.ip_f",
                 "nbcatalog.nblts.network.ip_fixture.run(i"]:
        with provisionalcompleter():
            out[text] = [c.text for c in shell.Completer.completions(text, len(text))]
    out["?"] = shell.object_inspect_text("nbcatalog.nblts.network.ip_fixture.run")
    # the browser's insert button puts the example into the next input
    browser = nbcatalog.browse("fixture flows")  # built-in flow templates match "flows" too
    browser.insert_button.click()
    out["next_input"] = shell.rl_next_input
    out["status"] = browser.status.value
    print(json.dumps(out))
    """
)


def test_ipython_completion_and_question_mark_show_parameters():
    env = {**os.environ, "NBCATALOG_PATH": str(FIXTURES)}
    proc = subprocess.run(
        [sys.executable, "-c", IPYTHON_SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["?"] = re.sub(r"\x1b\[[0-9;]*m", "", out["?"])  # drop terminal colours
    assert "network" in out["nbcatalog.nblts.netw"]
    assert "ip_fixture" in out["nbcatalog.nblts.network.ip_f"]
    assert "ip=" in out["nbcatalog.nblts.network.ip_fixture.run(i"]
    assert "ip: str = ''" in out["?"]
    assert "last" in out["?"]
    assert out["next_input"] == (
        'import nbcatalog\nres = nbcatalog.run("ip_fixture", ip="203.0.113.77", last="7d")\nres'
    )
    assert out["status"] == "Inserted into the next cell."


def test_browser_lists_filters_and_shows_help():
    browser = nbcatalog.browse()
    names = [value for _, value in browser.select.options]
    assert {"ip_fixture", "linux_logon_fixture"} <= set(names)
    browser.select.value = "linux_logon_fixture"
    assert "Linux logon fixture" in browser.help.value
    assert 'nbcatalog.run("linux_logon_fixture"' in browser.example.value
    assert 'host="WKSTN-042"' in browser.example.value
    browser.search.value = "ssh"
    shown = [value for _, value in browser.select.options]
    assert [v for v in shown if v.endswith("_fixture")] == ["linux_logon_fixture"]
    browser.search.value = "qqqzzz"
    assert browser.select.options == ()
    assert "No notebooklet matches" in browser.help.value
    label = dict((v, k) for k, v in nbcatalog.browse().select.options)["ip_fixture"]
    assert f"user: {FIXTURES}" in label


def test_browser_without_ipython_says_to_copy(monkeypatch):
    import IPython

    # Another test of the session may have left an InteractiveShell instance behind.
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    browser = nbcatalog.browse("flows")
    browser.insert_button.click()
    assert "Copy the example" in browser.status.value


@pytest.mark.slow
def test_run_goes_through_the_runner_with_checked_parameters(tmp_path, demo_db):
    nbl = nbcatalog.nblts.network.ip_fixture
    with pytest.raises(nbcatalog.ParameterError, match="did you mean 'ip'"):
        nbl.run(ipp="203.0.113.77")
    res = nbl.run(
        ip="203.0.113.77",
        data_source=f"duckdb:{demo_db}",
        output_dir=tmp_path,
        quiet=True,
        silent=True,
    )
    assert res.status == "ok"
    assert res.parameters["ip"] == "203.0.113.77"
    assert res.parameters["options"] == ["flows"]
    assert res.run_dir.parent == tmp_path / "ip_fixture"


@pytest.mark.slow
def test_help_tree_and_browser_render_in_a_real_notebook(monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from nbcatalog.kernel import ProjectKernelManager

    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))  # the kernel inherits it
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('import nbcatalog\nnbcatalog.show_help("ip-fixture")'),
        nbformat.v4.new_code_cell("nbcatalog.nblts.network.ip_fixture"),
        nbformat.v4.new_code_cell('nbcatalog.browse("flows")'),
    ]
    NotebookClient(nb, timeout=120, kernel_manager_class=ProjectKernelManager).execute()
    help_out, tree_out, browser_out = (cell.outputs for cell in nb.cells)
    html = [o["data"]["text/html"] for o in help_out if "text/html" in o.get("data", {})]
    assert len(html) == 1 and "<h4>Parameters</h4>" in html[0] and "IP fixture" in html[0]
    assert "<h4>Options</h4>" in tree_out[0]["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in browser_out[0]["data"]
