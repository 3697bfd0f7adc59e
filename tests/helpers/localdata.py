"""msticpy LocalData for tests: the store exported as pickles, a msticpyconfig.yaml that
names their folder, a source reading them, and a clean environment for the CLI.

Example:
    folder = export_store(demo_db, tmp_path / "pickles")       # `nbcatalog data localdata`
    config = write_config(tmp_path / "msticpyconfig.yaml", folder, "top-level")
    env = clean_env("NBCATALOG", "MSTICPY") | {"MSTICPYCONFIG": str(config)}
    source = localdata_source(folder)                           # MsticpySource("LocalData")
    done = run_on_localdata("host-summary", "--host", "h", "--json", output=out, env=env, cwd=work)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

NBCATALOG = Path(sys.executable).with_name("nbcatalog")  # the venv's command

# The ways a msticpyconfig.yaml can name LocalData's folder(s); msticpy documents the first.
FORMS = {
    "documented": "DataProviders:\n  LocalData:\n    data_paths:\n      - {path}\n",
    "top-level": "LocalData:\n  data_paths:\n    - {path}\n",
    "one string": "DataProviders:\n  LocalData:\n    data_paths: {path}\n",
}


def config_text(folder: str | os.PathLike, form: str = "documented") -> str:
    """msticpyconfig.yaml text naming `folder` in one of `FORMS` (quoted: any path is safe)."""
    return FORMS[form].format(path=json.dumps(str(folder)))


def write_config(path: Path, folder: str | os.PathLike, form: str = "documented") -> Path:
    """Write `config_text(folder, form)` to `path`; returns `path`."""
    path.write_text(config_text(folder, form), encoding="utf-8")
    return path


def export_store(db: str | os.PathLike, folder: Path) -> Path:
    """`nbcatalog data localdata FOLDER --db DB` (in process); asserts exit 0, returns FOLDER."""
    from click.testing import CliRunner
    from nbcatalog.cli.main import main

    result = CliRunner().invoke(main, ["data", "localdata", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return folder


def localdata_source(folder: str | os.PathLike | None = None) -> Any:
    """`MsticpySource("LocalData")` on `folder` (None: the folders msticpy's config names),
    without msticpy's start-up warnings."""
    from nbcatalog.data.source import MsticpySource

    extra = {} if folder is None else {"data_paths": [str(folder)]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MsticpySource("LocalData", **extra)


def clean_env(*prefixes: str) -> dict[str, str]:
    """This process's environment without the variables starting with any of `prefixes`
    (so a CLI run sees no store or msticpy config of the user's)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def run_on_localdata(
    template: str, *args: str, output: Path, env: dict[str, str], cwd: Path, timeout: float = 600
) -> subprocess.CompletedProcess:
    """`nbcatalog run TEMPLATE ARGS... --source msticpy:LocalData --output OUTPUT`, started
    as a shell would in `cwd` with `env`; the finished process (output captured as text)."""
    return subprocess.run(
        [str(NBCATALOG), "run", template, *args, "--source", "msticpy:LocalData"]
        + ["--output", str(output)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
