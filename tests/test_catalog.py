"""The catalogue: where templates come from, names, search, help, and the CLI commands."""

from __future__ import annotations

import importlib.metadata
import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from nbcatalog.cli.main import main
from template_factory import write_template

import nbcatalog
from nbcatalog import catalog as cat
from nbcatalog.errors import UnknownTemplateError, UsageError

FIXTURES = Path(__file__).parent / "fixtures" / "templates"


@pytest.fixture(autouse=True)
def clean_catalog(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No user folders from the environment or from earlier tests, no cached scans."""
    monkeypatch.delenv("NBCATALOG_PATH", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(cat, "_ep_cache", None)
    monkeypatch.setenv("NBCATALOG_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setattr(cat, "_added_paths", [])


def built_in_names() -> set[str]:
    return {t.name for t in cat.catalog() if t.origin == cat.BUILT_IN}


def test_user_folder_from_env_and_add_path(monkeypatch, tmp_path):
    env_dir, added_dir = tmp_path / "env", tmp_path / "added"
    write_template(env_dir, "env_probe")
    write_template(added_dir, "added_probe", category="account")
    monkeypatch.setenv("NBCATALOG_PATH", f"{env_dir}{__import__('os').pathsep}{FIXTURES}")
    nbcatalog.add_path(added_dir)

    by_name = {t.name: t for t in nbcatalog.catalog()}
    assert by_name["env_probe"].origin == f"user: {env_dir}"
    assert by_name["added_probe"].origin == f"user: {added_dir}"
    assert by_name["ip_fixture"].origin == f"user: {FIXTURES}"
    assert by_name["added_probe"].category == "account"


def test_user_template_wins_over_built_in_and_list_says_so(monkeypatch, tmp_path):
    names = built_in_names()
    assert names, "the built-in catalogue is empty"
    name = sorted(names)[0]
    write_template(tmp_path, name, title="My own version")
    nbcatalog.add_path(tmp_path)

    template = cat.get_template(name)
    assert template.title == "My own version"
    assert template.origin == f"user: {tmp_path}"
    assert template.shadows == (cat.BUILT_IN,)

    result = CliRunner().invoke(main, ["list", "--json"])
    assert result.exit_code == 0, result.output
    entry = next(e for e in json.loads(result.stdout) if e["name"] == name)
    assert entry["origin"] == f"user: {tmp_path}"
    assert entry["overrides"] == [cat.BUILT_IN]
    table = CliRunner().invoke(main, ["list"]).stdout
    assert f"overrides {cat.BUILT_IN}" in table


def test_later_add_path_wins_and_env_loses_to_add_path(monkeypatch, tmp_path):
    first, second, env = tmp_path / "first", tmp_path / "second", tmp_path / "env"
    for folder in (first, second, env):
        write_template(folder, "same_name", title=f"from {folder.name}")
    monkeypatch.setenv("NBCATALOG_PATH", str(env))
    nbcatalog.add_path(first)
    nbcatalog.add_path(second)
    template = cat.get_template("same_name")
    assert template.title == "from second"
    assert template.shadows == (f"user: {first}", f"user: {env}")


def test_templates_from_an_installed_package_entry_point(monkeypatch, tmp_path):
    site = tmp_path / "site"
    pkg = site / "nbcat_extra_pkg"
    write_template(pkg / "notebooklets", "pkg_probe", category="url")
    write_template(pkg / "notebooklets", "shared_probe")
    (pkg / "__init__.py").write_text("")
    dist = site / "nbcat_extra_pkg-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nbcat-extra-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[nbcatalog.templates]\nextra = nbcat_extra_pkg:notebooklets\n"
    )
    monkeypatch.syspath_prepend(str(site))
    user = tmp_path / "user"
    write_template(user, "shared_probe", title="user copy")
    nbcatalog.add_path(user)

    by_name = {t.name: t for t in cat.catalog()}
    assert by_name["pkg_probe"].origin == "package: nbcat-extra-pkg"
    assert by_name["pkg_probe"].category == "url"
    assert by_name["shared_probe"].title == "user copy"
    assert by_name["shared_probe"].shadows == ("package: nbcat-extra-pkg",)


def test_both_spellings_and_unknown_name_suggests_closest(tmp_path):
    write_template(tmp_path, "probe_summary")
    nbcatalog.add_path(tmp_path)
    assert cat.get_template("probe-summary").name == "probe_summary"
    assert cat.get_template("Probe_Summary").name == "probe_summary"
    with pytest.raises(UnknownTemplateError, match="did you mean probe_summary"):
        cat.get_template("probe_sumary")
    assert UnknownTemplateError.exit_code == 2


def test_get_template_accepts_a_notebook_path():
    path = FIXTURES / "network" / "ip_fixture.ipynb"
    template = cat.get_template(str(path))
    assert template.name == "ip_fixture"
    assert template.origin.startswith("file: ")


def test_broken_notebook_is_reported_not_silently_dropped(tmp_path):
    write_template(tmp_path, "good_one")
    (tmp_path / "host" / "broken_one.ipynb").write_text("{not json")
    nbcatalog.add_path(tmp_path)
    assert [t.name for t in cat.catalog() if t.origin != cat.BUILT_IN] == ["good_one"]
    problems = cat.catalog_problems()
    assert [p.path.name for p in problems] == ["broken_one.ipynb"]
    with pytest.raises(UnknownTemplateError, match="broken_one.ipynb is broken"):
        cat.get_template("broken-one")
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    assert "warning: skipped" in result.stderr and "broken_one.ipynb" in result.stderr


def test_missing_user_folder_is_a_problem_and_add_path_checks(monkeypatch, tmp_path):
    monkeypatch.setenv("NBCATALOG_PATH", str(tmp_path / "nowhere"))
    assert any("not a folder" in p.message for p in cat.catalog_problems())
    with pytest.raises(UsageError, match="is not a folder"):
        nbcatalog.add_path(tmp_path / "nowhere")


def test_find_ranks_by_words_matched_and_searches_every_field(monkeypatch):
    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))
    found = [t.name for t in nbcatalog.find("logon linux")]
    assert found[0] == "linux_logon_fixture"
    # keyword "ssh", entity type "ip", description words; plural finds singular
    # (built-in templates that mention sshd match too; only the fixtures are compared)
    ssh = [t.name for t in nbcatalog.find("ssh") if t.name.endswith("_fixture")]
    assert ssh == ["linux_logon_fixture"]
    assert "ip_fixture" in [t.name for t in nbcatalog.find("ip")]
    intelligence = [t.name for t in nbcatalog.find("intelligence") if t.name.endswith("_fixture")]
    assert intelligence == ["ip_fixture"]
    assert "linux_logon_fixture" in [t.name for t in nbcatalog.find("logons")]
    assert nbcatalog.find("zzzqqq") == []


def test_help_text_lists_parameters_options_sections_results(tmp_path):
    write_template(tmp_path, "probe_help")
    nbcatalog.add_path(tmp_path)
    text = cat.help_text(cat.get_template("probe_help"))
    for expected in (
        "days (int, default 3)",
        "how many days of detail",
        "api_token (str, default '')",
        "secret, redacted in saved output",
        "host entity",
        "* summary",
        "geo: where the IP addresses are",
        "timeline: Timeline",
        "timeline_rows",
        'nbcatalog.run("probe_help", host="WKSTN-042", last="7d")',
        "nbcatalog run probe-help --host WKSTN-042 --last 7d",
    ):
        assert expected in text, expected


def test_help_html_escapes_template_text(tmp_path):
    write_template(
        tmp_path,
        "probe_html",
        description='<img src=x onerror="alert(1)">',
        options={"default": [], "other": ["x"], "descriptions": {"x": "<b>bold</b>"}},
    )
    nbcatalog.add_path(tmp_path)
    page = cat.help_html(cat.get_template("probe_html"))
    assert "<img" not in page and "&lt;img src=x" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold" in page
    assert "<h4>Parameters</h4>" in page


def test_show_help_prints_text_outside_a_notebook(tmp_path, capsys):
    write_template(tmp_path, "probe_show")
    nbcatalog.add_path(tmp_path)
    nbcatalog.show_help("probe-show")
    assert "Probe Show  (probe_show)" in capsys.readouterr().out


def test_cli_find_show_and_exit_codes(monkeypatch):
    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))
    runner = CliRunner()
    found = runner.invoke(main, ["find", "logon", "linux"])
    assert found.exit_code == 0
    assert found.stdout.splitlines()[0].startswith("linux_logon_fixture")
    shown = runner.invoke(main, ["show", "ip-fixture"])
    assert shown.exit_code == 0
    assert "ip (str, default '')" in shown.stdout and "required" in shown.stdout
    missing = runner.invoke(main, ["show", "ip-fixtur"])
    assert missing.exit_code == 2
    assert "did you mean ip_fixture" in missing.stderr


def test_catalog_is_callable_and_a_module_in_any_import_order():
    import nbcatalog.catalog as module

    assert nbcatalog.catalog is module
    assert isinstance(nbcatalog.catalog(), list)
    assert nbcatalog.catalog.get_template is module.get_template


def test_list_json_describes_each_template(monkeypatch):
    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))
    entries = json.loads(CliRunner().invoke(main, ["list", "--json"]).stdout)
    ip = next(e for e in entries if e["name"] == "ip_fixture")
    assert ip["category"] == "network"
    assert ip["origin"] == f"user: {FIXTURES}"
    assert [p["name"] for p in ip["parameters"]] == ["ip", "start", "end", "data_source", "options"]
    assert ip["options"]["default"] == ["flows"] and ip["options"]["all"] == ["flows", "geo"]
    assert ip["sections"] == {"flows": "Flows"}
    assert ip["results"] == {"flow_count": ""}


def test_user_folder_with_flat_notebooks_and_checkpoints_ignored(tmp_path):
    write_template(tmp_path, "nested_probe")
    nb = (tmp_path / "host" / "nested_probe.ipynb").read_text()
    flat = json.loads(nb)
    flat["metadata"]["nbcatalog"]["name"] = "flat_probe"
    (tmp_path / "flat_probe.ipynb").write_text(json.dumps(flat))
    checkpoints = tmp_path / "host" / ".ipynb_checkpoints"
    checkpoints.mkdir()
    (checkpoints / "nested_probe-checkpoint.ipynb").write_text(textwrap.dedent("{}"))
    nbcatalog.add_path(tmp_path)
    names = {t.name for t in cat.catalog() if t.origin != cat.BUILT_IN}
    assert names == {"nested_probe", "flat_probe"}
    assert cat.catalog_problems() == []


def test_a_broken_plug_in_is_reported_and_the_rest_still_listed(monkeypatch, tmp_path):
    site = tmp_path / "site"
    dist = site / "nbcat_broken_pkg-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nbcat-broken-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[nbcatalog.templates]\nbroken = no_such_module_xyz\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("NBCATALOG_PATH", str(FIXTURES))
    assert "ip_fixture" in {t.name for t in cat.catalog()}
    (problem,) = [p for p in cat.catalog_problems() if "nbcat-broken-pkg" in p.message]
    assert "entry point 'broken' = 'no_such_module_xyz': cannot import it" in problem.message
    listed = CliRunner().invoke(main, ["list"])
    assert listed.exit_code == 0 and "ip_fixture" in listed.stdout
    assert "nbcat-broken-pkg" in listed.stderr


def _plugin(site, package: str, dist_name: str, value: str) -> None:
    """A package with templates and its dist-info, as `pip install` leaves them."""
    write_template(site / package / "notebooklets", f"{package}_probe")
    (site / package / "__init__.py").write_text("")
    dist = site / f"{package}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[nbcatalog.templates]\n{value}\n")


def test_entry_point_scan_is_cached_and_sees_a_newly_installed_plugin(monkeypatch, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    os.utime(site, ns=(1_000_000_000, 1_000_000_000))  # installed long ago
    scans = []
    real = importlib.metadata.entry_points
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda **kw: scans.append(kw) or real(**kw)
    )
    names = {t.name for t in cat.catalog()}
    assert "nbcat_new_pkg_probe" not in names
    cat.catalog()
    cat.get_template("host_summary")
    assert len(scans) == 1  # listed three times, installed packages scanned once
    # pip install: a new package folder and dist-info in site-packages.
    _plugin(site, "nbcat_new_pkg", "nbcat-new-pkg", "extra = nbcat_new_pkg:notebooklets")
    found = cat.get_template("nbcat_new_pkg_probe")
    assert found.origin == "package: nbcat-new-pkg" and len(scans) == 2


def test_catalog_refresh_rescans_entry_points_changed_in_place(monkeypatch, tmp_path):
    site = tmp_path / "site"
    _plugin(site, "nbcat_edit_pkg", "nbcat-edit-pkg", "extra = nbcat_edit_pkg:notebooklets")
    monkeypatch.syspath_prepend(str(site))
    assert "nbcat_edit_pkg_probe" in {t.name for t in cat.catalog()}
    # Editing entry_points.txt in place changes no folder's modification time.
    stamp = os.stat(site).st_mtime_ns
    points = site / "nbcat_edit_pkg-1.0.dist-info" / "entry_points.txt"
    points.write_text("[other.group]\nextra = nbcat_edit_pkg:notebooklets\n")
    os.utime(site, ns=(stamp, stamp))
    assert "nbcat_edit_pkg_probe" in {t.name for t in cat.catalog()}  # still the cached scan
    cat.refresh()
    assert "nbcat_edit_pkg_probe" not in {t.name for t in cat.catalog()}


def test_a_new_process_reuses_the_scan_from_disk_until_a_package_is_installed(
    monkeypatch, tmp_path
):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    os.utime(site, ns=(1_000_000_000, 1_000_000_000))
    cat.catalog()  # scans, and writes the cache file
    assert cat._disk_cache_path().is_file()
    monkeypatch.setattr(cat, "_ep_cache", None)  # as a new process starts

    def no_scan(**kw):
        raise AssertionError("scanned although the cache on disk is current")

    with monkeypatch.context() as scanless:
        scanless.setattr(importlib.metadata, "entry_points", no_scan)
        assert "host_summary" in {t.name for t in cat.catalog()}
    # Installing changes site's mtime: the next process scans again and finds it.
    monkeypatch.setattr(cat, "_ep_cache", None)
    _plugin(site, "nbcat_disk_pkg", "nbcat-disk-pkg", "extra = nbcat_disk_pkg:notebooklets")
    assert cat.get_template("nbcat_disk_pkg_probe").origin == "package: nbcat-disk-pkg"


@pytest.mark.parametrize(
    "content",
    ['{"key": [], "sources": "x"}', "not json", '{"sources": [{"origin": 1, "root": "/"}]}'],
)
def test_a_damaged_or_foreign_cache_file_is_ignored(monkeypatch, tmp_path, content):
    path = cat._disk_cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert "host_summary" in {t.name for t in cat.catalog()}
    assert cat._read_disk_cache(cat._import_path_key()) is not None  # rewritten, current


def test_a_broken_plug_in_is_not_cached_on_disk(monkeypatch, tmp_path):
    site = tmp_path / "site"
    dist = site / "nbcat_broken2_pkg-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: nbcat-broken2-pkg\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[nbcatalog.templates]\nbroken = no_such_module_q\n")
    monkeypatch.syspath_prepend(str(site))
    assert any("nbcat-broken2-pkg" in p.message for p in cat.catalog_problems())
    assert not cat._disk_cache_path().exists()  # the next process tries the import again
