"""`nbcatalog show NAME --json`: the template's metadata for scripts, read from the file.

Expected values are read from the template notebook's own JSON (its metadata key and
parameters cell), not from the code under test.
"""

from __future__ import annotations

import ast
import json

import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main

from nbcatalog.catalog import catalog, get_template


def _show(name: str, env: dict | None = None) -> dict:
    result = CliRunner().invoke(main, ["show", name, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _notebook(name: str) -> dict:
    return json.loads(get_template(name).path.read_text(encoding="utf-8"))


def _cell_parameters(nb: dict) -> dict[str, object]:
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(code["source"]) if isinstance(code["source"], list) else code["source"]
    return {
        node.target.id: ast.literal_eval(node.value)
        for node in ast.parse(source).body
        if isinstance(node, ast.AnnAssign)
    }


@pytest.mark.parametrize("name", [t.name for t in catalog()])
def test_show_json_matches_the_notebook_file(name):
    info = _show(name.replace("_", "-"))
    nb = _notebook(name)
    meta = nb["metadata"]["nbcatalog"]
    assert info["format"] == 1
    assert info["name"] == meta["name"] == name
    assert info["title"] == meta["title"]
    assert info["version"] == str(meta["version"])
    assert info["description"] == meta.get("description", "")
    assert info["tables"] == meta.get("tables", [])
    # Every parameter of the cell, with its default, plus `last`.
    cell = _cell_parameters(nb)
    by_name = {p["name"]: p for p in info["parameters"]}
    assert list(by_name) == list(cell) + ["last"]
    for pname, default in cell.items():
        if not by_name[pname]["secret"]:
            assert by_name[pname]["default"] == default, pname
    # Required entities: the metadata's single-name groups are flagged required.
    singles = [g for g in meta.get("required", []) if isinstance(g, str)]
    assert sorted(p for p, v in by_name.items() if v["required"]) == sorted(singles)
    # Sections: each section:<id> tag, in cell order.
    tags = []
    for cell_ in nb["cells"]:
        for tag in cell_.get("metadata", {}).get("tags", []):
            if tag.startswith("section:") and tag[8:] not in tags:
                tags.append(tag[8:])
    assert [s["id"] for s in info["sections"]] == tags
    assert [d["name"] for d in info["drilldowns"]] == list(meta.get("drilldowns", {}))
    opts = meta.get("options", {})
    if opts:
        assert info["options"]["all"] == opts.get("default", []) + opts.get("other", [])
        assert by_name["options"]["choices"] == info["options"]["all"]


def test_host_summary_fields_an_integrator_reads():
    info = _show("host_summary")
    host = next(p for p in info["parameters"] if p["name"] == "host")
    assert host == {
        **host,
        "type": "str",
        "required": True,
        "entity_kind": "host",
        "cli_flag": "--host",
        "secret": False,
    }
    expand = next(d for d in info["drilldowns"] if d["name"] == "expand_events")
    assert expand["kind"] == "template" and expand["template"] == "win_host_events"
    assert expand["accepts"] == ["event_ids"]
    assert "SecurityEvent" in info["tables"]
    assert info["example"]["shell"].startswith("nbcatalog run host-summary --host ")


def test_secret_default_is_redacted_and_its_envvar_named(tmp_path):
    src = get_template("ip_summary")
    nb = json.loads(src.path.read_text(encoding="utf-8"))
    nb["metadata"]["nbcatalog"]["name"] = "ip_lookup_with_key"
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["source"] = "".join(code["source"]) + '\napi_key: str = "s3cr3t-value"  # TI key\n'
    folder = tmp_path / "network"
    folder.mkdir()
    (folder / "ip_lookup_with_key.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["show", "ip-lookup-with-key", "--json"], env={"NBCATALOG_PATH": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert "s3cr3t-value" not in result.output
    key = next(p for p in json.loads(result.output)["parameters"] if p["name"] == "api_key")
    assert key["secret"] is True and key["default"] == "<redacted>"
    assert key["envvar"] == "NBCATALOG_API_KEY"


def test_hostile_metadata_stays_data_in_json(tmp_path):
    src = get_template("ip_summary")
    nb = json.loads(src.path.read_text(encoding="utf-8"))
    nb["metadata"]["nbcatalog"].update(
        name="odd_one", title='"}]<script>alert(1)</script>', description='line\n"two"'
    )
    (tmp_path / "odd_one.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    info = _show("odd_one", env={"NBCATALOG_PATH": str(tmp_path)})
    assert info["title"] == '"}]<script>alert(1)</script>'
    assert info["description"] == 'line\n"two"'


def test_unknown_template_exits_2_naming_close_names():
    result = CliRunner().invoke(main, ["show", "host-sumary", "--json"])
    assert result.exit_code == 2
    assert "host_summary" in result.output
