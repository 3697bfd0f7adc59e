"""`nbcatalog new` writes a working skeleton; `nbcatalog check` says which cell is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main

from nbcatalog import catalog as cat
from nbcatalog.errors import UsageError
from nbcatalog.scaffold import check_template, new_template, skeleton, write_notebook
from nbcatalog.template import load_template


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("NBCATALOG_PATH", raising=False)
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setattr(cat, "_added_paths", [])


def messages(path: Path) -> list[str]:
    return [str(p) for p in check_template(path)]


def test_new_writes_a_template_that_passes_check(tmp_path):
    path = new_template("beacon_hunt", "network", tmp_path)
    assert path == tmp_path / "network" / "beacon_hunt.ipynb"
    assert check_template(path) == []
    template = load_template(path)
    assert template.name == "beacon_hunt" and template.category == "network"
    assert [p.name for p in template.parameters] == ["ip", "start", "end", "data_source", "options"]
    assert template.parameter("ip").entity_kind == "ip"
    assert [s.id for s in template.sections] == ["summary", "details"]
    assert template.all_options == ["details"]


@pytest.mark.parametrize(
    ("category", "param", "kind"),
    [("host", "host", "host"), ("account", "account", "account"), ("url", "url", "url"),
     ("cloud", "entity", None)],
)  # fmt: skip
def test_skeleton_entity_parameter_follows_the_category(category, param, kind):
    nb = skeleton("probe", category)
    assert nb.cells[1].source.startswith(f'{param}: str = ""')
    assert nb.metadata["nbcatalog"].get("entity_kinds", {}).get(param) == kind


def test_new_refuses_to_overwrite_and_bad_names(tmp_path):
    new_template("probe", "host", tmp_path)
    with pytest.raises(UsageError, match="already exists"):
        new_template("probe", "host", tmp_path)
    new_template("probe", "host", tmp_path, force=True)
    for bad in ("9lives", "has space", "import", "Ünïcode"):
        with pytest.raises(UsageError, match="use lower-case letters"):
            new_template(bad, "host", tmp_path)
    assert new_template("dash-name", "host", tmp_path).name == "dash_name.ipynb"


def test_new_defaults_to_the_first_user_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("NBCATALOG_PATH", str(tmp_path))
    path = new_template("from_env", "host")
    assert path == tmp_path / "host" / "from_env.ipynb"
    assert cat.get_template("from-env").origin == f"user: {tmp_path}"


def test_cli_new_and_check(tmp_path):
    runner = CliRunner()
    made = runner.invoke(
        main, ["new", "dns_probe", "--category", "network", "--dir", str(tmp_path)]
    )
    assert made.exit_code == 0, made.output
    path = Path(made.stdout.strip())
    assert path == tmp_path / "network" / "dns_probe.ipynb"
    again = runner.invoke(main, ["new", "dns_probe", "-c", "network", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    checked = runner.invoke(main, ["check", str(tmp_path)])
    assert checked.exit_code == 0, checked.output
    assert "1 template(s) checked, 0 with problems" in checked.stdout


def test_built_in_catalogue_follows_the_contract():
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.stderr
    assert "0 with problems" in result.stdout


def broken(tmp_path: Path, change) -> Path:
    """The skeleton with one thing broken by `change(nb)`."""
    nb = skeleton("broken_probe", "host")
    change(nb)
    path = tmp_path / "host" / "broken_probe.ipynb"
    write_notebook(nb, path)
    return path


def _untag_parameters(nb):
    nb.cells[1].metadata["tags"] = []


def _drop_help(nb):
    nb.cells[1].source = nb.cells[1].source.replace("  # host name, or the start of one", "")


def _drop_data_source(nb):
    lines = nb.cells[1].source.splitlines()
    nb.cells[1].source = "\n".join(ln for ln in lines if not ln.startswith("data_source"))


def _drop_options(nb):
    lines = nb.cells[1].source.splitlines()
    nb.cells[1].source = "\n".join(ln for ln in lines if not ln.startswith("options"))


def _heading_untagged(nb):
    nb.cells[3].metadata["tags"] = []


def _glue_twice(nb):
    nb.cells[6].source += '\nglue("alerts", by_name)'


def _plain_statement(nb):
    nb.cells[1].source += "\nprint(host)"  # imports are allowed (annotations may need them)


def _bad_kind(nb):
    nb.metadata["nbcatalog"]["entity_kinds"] = {"host": "computer", "hots": "host"}


def _metadata_gaps(nb):
    del nb.metadata["nbcatalog"]["title"]
    nb.metadata["nbcatalog"]["colour"] = "red"


def _reserved_name(nb):
    nb.cells[1].source += "\ntimeout: int = 5  # seconds"


def _unglued_result(nb):
    nb.metadata["nbcatalog"]["results"]["ghost"] = "never glued"


def _split_section(nb):
    nb.cells[6].metadata["tags"] = ["section:summary"]


def _bad_picker(nb):
    nb.metadata["nbcatalog"]["pickers"] = {"hots": {"result": "matches", "column": "Host"}}


def _options_default_differs(nb):
    nb.metadata["nbcatalog"]["options"]["default"] = ["details"]
    nb.metadata["nbcatalog"]["options"]["other"] = []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_untag_parameters, "cell 1: the first code cell must be tagged 'parameters'"),
        (_drop_help, "cell 1: parameter 'host' (line 1) has no help comment"),
        (_drop_data_source, "cell 1: standard parameter 'data_source' is missing"),
        (_drop_options, "cell 1: metadata declares options but the cell has no `options"),
        (_heading_untagged, "cell 4: section 'summary' must start with a markdown heading"),
        (_glue_twice, "cell 6: glue name 'alerts' is already used in cell 4"),
        (_plain_statement, "cell 1: parameters cell line 6: only annotated assignments"),
        (_bad_kind, "cell 1: metadata entity_kinds['host'] = 'computer': accepted kinds"),
        (_bad_kind, "cell 1: metadata entity_kinds names 'hots', which is not a parameter"),
        (_metadata_gaps, "metadata nbcatalog.title is missing"),
        (_metadata_gaps, "metadata nbcatalog has unknown keys ['colour']"),
        (_reserved_name, "cell 1: parameter 'timeout' clashes with an option of `nbcatalog run`"),
        (_unglued_result, "metadata results names 'ghost', which no cell glues"),
        (_split_section, "cell 6: section 'summary' continues after other cells"),
        (_options_default_differs, "cell 1: options default [] differs from metadata"),
        (_bad_picker, "cell 1: metadata pickers names 'hots', which is not a parameter"),
        (_bad_picker, "metadata pickers['hots'] reads result 'matches', which no cell glues"),
    ],
)
def test_check_names_the_cell_and_the_problem(tmp_path, change, expected):
    path = broken(tmp_path, change)
    found = messages(path)
    assert any(expected in m for m in found), found
    assert all(m.startswith(f"{path}: ") for m in found)


def test_check_unreadable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    assert "not a readable notebook" in messages(bad)[0]
    result = CliRunner().invoke(main, ["check", str(bad), str(tmp_path / "missing.ipynb")])
    assert result.exit_code == 2
    assert "not a readable notebook" in result.stderr and "no such file or folder" in result.stderr


def test_cli_check_exit_code_two_with_cell_messages(tmp_path):
    path = broken(tmp_path, _drop_help)
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{path}: cell 1: parameter 'host' (line 1) has no help comment" in result.stderr
    assert "1 template(s) checked, 1 with problems" in result.stdout


@pytest.mark.slow
def test_skeleton_runs_on_the_demo_store(tmp_path, demo_db, demo_source):
    import nbcatalog

    folder = tmp_path / "mine"
    new_template("alert_probe", "host", folder)
    nbcatalog.add_path(folder)
    res = nbcatalog.run(
        "alert-probe",
        host="WKSTN-042",
        options=["+details"],
        data_source=f"duckdb:{demo_db}",
        output_dir=tmp_path / "out",
        quiet=True,
        silent=True,
    )
    assert res.status == "ok"
    assert set(res.sections) == {"summary", "details"}
    # The same rule as the template, computed here from the store directly.
    resolved = res.parameters
    alerts = demo_source.query(
        "SecurityAlert.list_alerts", start=resolved["start"], end=resolved["end"]
    )
    mentions = alerts.astype(str).apply(
        lambda col: col.str.contains("WKSTN-042", case=False, regex=False)
    )
    expected = int(mentions.any(axis=1).sum()) if len(alerts) else 0
    assert res.alert_count == expected
    assert len(res.alerts) == expected
    assert list(res.alerts_by_name.columns) == ["AlertName", "Count"]
    assert int(res.alerts_by_name["Count"].sum()) == expected
    run_json = json.loads((res.run_dir / "run.json").read_text())
    assert run_json["status"] == "ok"
    saved = nbformat.read(res.notebook_path, as_version=4)
    assert any("WKSTN-042" in c.source for c in saved.cells if c.cell_type == "code")
