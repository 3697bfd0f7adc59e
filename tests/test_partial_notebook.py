"""The running notebook's progress file is never half-written, and a run never re-reads it.

A batch of 100 runs once failed with nbformat's NotJSONError when the runner read
``.notebook.partial.ipynb`` back: papermill truncates that file and rewrites it in
place on every save. Saves now go through `papermill_engine._throttle_saves`
(atomic temp file + rename) and `execute` takes the executed notebook from memory.
"""

from __future__ import annotations

import threading

import nbformat
from nbformat.reader import NotJSONError
from papermill.engines import NotebookExecutionManager
from template_factory import write_template

from nbcatalog import papermill_engine
from nbcatalog.execution import PARTIAL, execute
from nbcatalog.scraps import RUN_DIR_ENV
from nbcatalog.template import load_template


def _big_notebook(cells: int) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    for i in range(cells):
        cell = nbformat.v4.new_code_cell(f"x = {i}")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="y" * 2000)]
        nb.cells.append(cell)
    return nb


def test_a_reader_never_sees_a_half_written_partial_notebook(tmp_path, monkeypatch):
    # Every save writes (no throttling) a notebook of about 1 MB whose size changes,
    # while another thread reads the file as fast as it can.
    monkeypatch.setattr(papermill_engine, "SAVE_EVERY", 0.0)
    partial = tmp_path / PARTIAL
    nb_man = NotebookExecutionManager(_big_notebook(400), output_path=None, progress_bar=False)
    papermill_engine._throttle_saves(nb_man, str(partial))
    nb_man.save()
    done = threading.Event()
    reads: list[int] = []
    bad: list[str] = []

    def reader() -> None:
        while not done.is_set():
            try:
                reads.append(len(nbformat.read(partial, as_version=4).cells))
            except NotJSONError as exc:
                bad.append(str(exc)[:80])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(40):
            nb_man.nb = _big_notebook(300 + (i % 2) * 100)
            nb_man.save()
    finally:
        done.set()
        thread.join()
    assert bad == []
    assert len(reads) > 10 and set(reads) <= {300, 400}
    assert [p.name for p in tmp_path.iterdir()] == [PARTIAL]  # no temp files left


def test_partial_notebook_shows_progress_and_the_run_keeps_the_in_memory_notebook(tmp_path):
    # A cell that outlasts SAVE_EVERY lets the run write its progress file; the next
    # cell reads it from inside the kernel (valid JSON, the finished cell's output).
    # Then the cell overwrites it with garbage: the run's notebook.ipynb must still
    # hold every output, because the runner never reads the progress file back.
    sleep = papermill_engine.SAVE_EVERY + 0.5
    path = write_template(
        tmp_path / "templates",
        "slow_progress",
        sections=[
            ("summary", "## Summary", [f'import time\nprint("first")\ntime.sleep({sleep})']),
            (
                "timeline",
                "## Timeline",
                [
                    "import json, os, pathlib\n"
                    f"p = pathlib.Path(os.environ[{RUN_DIR_ENV!r}]) / {PARTIAL!r}\n"
                    "nb = json.loads(p.read_text())\n"
                    "print('saved outputs:', sum(len(c.get('outputs', [])) for c in nb['cells']))\n"
                    "p.write_text('{\"cells\": [')\n"
                    "print('done')"
                ],
            ),
        ],
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    ex = execute(load_template(path), {"host": "h"}, run_dir=run_dir, timeout=120)
    assert ex.failure is None
    text = "".join(
        "".join(o.get("text", "")) for c in ex.notebook.cells for o in c.get("outputs", [])
    )
    assert "first" in text and "done" in text
    saved = int(text.split("saved outputs:")[1].split()[0])
    assert saved >= 1  # the progress file held the first cell's output
    on_disk = nbformat.read(ex.notebook_path, as_version=4)
    assert on_disk.cells == ex.notebook.cells
    assert not (run_dir / PARTIAL).exists()
