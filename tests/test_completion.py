"""Shell completion through click's own protocol, in a subprocess, as bash asks for it.

Each case sets COMP_WORDS / COMP_CWORD and _NBCATALOG_COMPLETE=bash_complete (what the
script from `_NBCATALOG_COMPLETE=bash_source nbcatalog` does on <TAB>) and reads the
`type,value` lines the command prints. Expected values come from the catalogue.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nbcatalog.catalog import catalog, get_template

NBCATALOG = Path(sys.executable).with_name("nbcatalog")


def _complete(line: str, shell: str = "bash", env: dict | None = None) -> list[str]:
    words = line.split(" ")
    full_env = {
        **os.environ,
        **(env or {}),
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
        "_NBCATALOG_COMPLETE": f"{shell}_complete",
    }
    done = subprocess.run(
        [str(NBCATALOG)], env=full_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return [ln.split(",", 1)[1] for ln in done.stdout.splitlines() if "," in ln]


def test_bash_source_script_registers_the_completion_function():
    done = subprocess.run(
        [str(NBCATALOG)],
        env={**os.environ, "_NBCATALOG_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "complete -o nosort -F _nbcatalog_completion nbcatalog" in done.stdout


def test_subcommands_complete_from_the_group():
    assert _complete("nbcatalog r") == ["report", "run"]
    assert "schedule" in _complete("nbcatalog s") and "show" in _complete("nbcatalog s")


@pytest.mark.parametrize("verb", ["run", "report", "batch", "show"])
def test_template_names_complete_for_every_verb(verb):
    names = sorted(t.name.replace("_", "-") for t in catalog())
    assert sorted(_complete(f"nbcatalog {verb} ")) == names
    hosts = sorted(n for n in names if n.startswith("host"))
    assert len(hosts) >= 2
    assert sorted(_complete(f"nbcatalog {verb} host")) == hosts
    # Once an underscore is typed, names come back in that spelling.
    assert sorted(_complete(f"nbcatalog {verb} host_")) == [h.replace("-", "_") for h in hosts]


def test_a_template_name_from_a_user_folder_completes(tmp_path):
    src = get_template("ip_summary").path
    folder = tmp_path / "mine" / "network"
    folder.mkdir(parents=True)
    text = src.read_text(encoding="utf-8").replace('"ip_summary"', '"zz_case_lookup"')
    (folder / "zz_case_lookup.ipynb").write_text(text, encoding="utf-8")
    got = _complete("nbcatalog run zz", env={"NBCATALOG_PATH": str(tmp_path / "mine")})
    assert got == ["zz-case-lookup"]


def test_each_template_completes_its_own_parameter_options():
    for template in catalog():
        flags = _complete(f"nbcatalog run {template.name.replace('_', '-')} --")
        own = [
            "--" + p.name.replace("_", "-")
            for p in template.parameters
            if p.name not in ("start", "end", "data_source", "options") and p.type != "DataFrame"
        ]
        for flag in own + ["--last", "--source", "--json", "--html"]:
            assert flag in flags, (template.name, flag)
        assert ("--option" in flags) == template.has_options, template.name


def test_batch_completes_file_options_of_the_template():
    flags = _complete("nbcatalog batch host-summary --host")
    assert "--host" in flags and "--host-file" in flags


def test_option_values_complete_from_the_template_options():
    template = get_template("host_summary")
    assert _complete("nbcatalog run host-summary --option ") == template.all_options
    removable = [o for o in template.all_options if o.startswith("t")]
    assert _complete("nbcatalog run host-summary --option -t") == ["-" + o for o in removable]
    adding = ["+" + o for o in template.all_options if o.startswith("ti")]
    assert len(adding) >= 2
    assert _complete("nbcatalog run host-summary --option +ti") == adding


def test_unknown_template_completes_to_nothing_without_error():
    assert _complete("nbcatalog run no-such-template --") == []
    assert _complete("nbcatalog run ../../etc/passwd.ipynb --") == []


def test_zsh_completion_carries_the_titles():
    out = subprocess.run(
        [str(NBCATALOG)],
        env={
            **os.environ,
            "COMP_WORDS": "nbcatalog show ip",
            "COMP_CWORD": "2",
            "_NBCATALOG_COMPLETE": "zsh_complete",
        },
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "ip-summary" in out and get_template("ip_summary").title in out


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_real_bash_loads_the_script_and_completes(tmp_path):
    # The documented line, then what bash does on <TAB> after `nbcatalog run host-summary --ho`.
    script = (
        'eval "$(_NBCATALOG_COMPLETE=bash_source nbcatalog)"\n'
        "COMP_WORDS=(nbcatalog run host-summary --ho)\nCOMP_CWORD=3\n"
        "_nbcatalog_completion nbcatalog\n"  # bash passes the command as $1
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", script],
        env={**os.environ, "PATH": f"{NBCATALOG.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.split() == ["--host"], done.stderr
