"""Batch runs: `nbcatalog.run_many`, `nbcatalog batch`, and the Dask executor.

A small probe template stands in for a real notebooklet (a real kernel still runs
every parameter set): it glues a value and a frame made from its host, fails for
hosts starting with FAIL, and fails only on the first attempt for hosts starting
with FLAKY (it leaves a marker file in `marker_dir`), so retries can be seen.
The Dask test starts `dask scheduler` and two `dask worker` processes on
127.0.0.1 and runs 20 parameter sets through them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from template_factory import write_template

BIN = Path(sys.executable).parent
PARAMETERS = """\
host: str = ""  # host name
marker_dir: str = ""  # folder for the FLAKY hosts' first-attempt markers
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""
PROBE = """\
import pathlib

import pandas as pd

from nbcatalog.nblib.glue import glue

if host.startswith("FAIL"):
    raise RuntimeError(f"cannot summarise {host}")
if host.startswith("FLAKY"):
    marker = pathlib.Path(marker_dir) / host
    if not marker.exists():
        marker.touch()
        raise RuntimeError("first attempt fails")
glue("host_upper", host.upper())
glue("host_frame", pd.DataFrame({"host": [host], "letters": [len(host)]}))
"""
RANGE = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}


def expected_frame(host: str) -> pd.DataFrame:
    return pd.DataFrame({"host": [host], "letters": [len(host)]})


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The probe template (a host template with one section)."""
    directory = tmp_path_factory.mktemp("batch-templates")
    return write_template(
        directory,
        "batch_probe",
        parameters=PARAMETERS,
        sections=[("probe", "## Probe", [PROBE])],
        options={},
        entity_kinds={"host": "host"},
    )


@pytest.fixture(scope="module")
def local_batch(probe: Path, tmp_path_factory: pytest.TempPathFactory):
    """One local batch: two good hosts, one that always fails, one that fails once."""
    import nbcatalog

    out = tmp_path_factory.mktemp("batch-out")
    markers = tmp_path_factory.mktemp("markers")
    hosts = ["H-01", "FAIL-01", "FLAKY-01", "H-02"]
    batch = nbcatalog.run_many(
        str(probe),
        [{"host": h} for h in hosts],
        workers=2,
        retries=1,
        output_dir=out,
        html=True,
        quiet=True,
        marker_dir=str(markers),
        **RANGE,
    )
    return batch, out, hosts


def _run_json(run_dir: str | Path) -> dict:
    return json.loads((Path(run_dir) / "run.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------ fast checks


def test_bad_parameter_set_stops_the_batch_before_any_run(probe, tmp_path):
    import nbcatalog

    with pytest.raises(nbcatalog.ParameterError, match=r"parameter set 2 \(host=bad host!\)"):
        nbcatalog.run_many(
            str(probe), [{"host": "H-01"}, {"host": "bad host!"}], output_dir=tmp_path
        )
    with pytest.raises(nbcatalog.ParameterError, match="no parameter sets"):
        nbcatalog.run_many(str(probe), [], output_dir=tmp_path)
    with pytest.raises(nbcatalog.ParameterError, match="also given for the whole batch"):
        nbcatalog.run_many(str(probe), [{"host": "H-01"}], host="H-02", output_dir=tmp_path)
    assert not any(tmp_path.iterdir()), "nothing is written for a batch that cannot start"


def test_param_files_and_csv(tmp_path):
    from nbcatalog.cli.batch_cmd import param_sets_from_files, read_csv

    from nbcatalog.errors import UsageError

    hosts = tmp_path / "hosts.txt"
    hosts.write_text("\ufeffH-01\n\n  # a comment\n H-02 \n", encoding="utf-8")
    sets = param_sets_from_files({"host": str(hosts)}, None, ["host"])
    assert sets == [{"host": "H-01"}, {"host": "H-02"}]

    table = tmp_path / "sets.csv"
    table.write_text("host,--last\nH-01,24h\nH-02,\n", encoding="utf-8")
    assert read_csv(table, ["host", "last"]) == [{"host": "H-01", "last": "24h"}, {"host": "H-02"}]
    table.write_text("hots\nH-01\n", encoding="utf-8")
    with pytest.raises(UsageError, match="unknown column.*'hots'.*host"):
        read_csv(table, ["host", "last"])

    accounts = tmp_path / "accounts.txt"
    accounts.write_text("bob\n", encoding="utf-8")
    with pytest.raises(UsageError, match="side by side"):
        param_sets_from_files({"host": str(hosts), "account": str(accounts)}, None, ["host"])
    with pytest.raises(UsageError, match="no entities"):
        param_sets_from_files({}, None, ["host"])


# ------------------------------------------------------- local executor


@pytest.mark.slow
def test_one_failing_host_does_not_stop_the_rest(local_batch):
    batch, _, hosts = local_batch
    table = batch.table
    assert list(table["host"]) == hosts, "rows keep the order the sets were given in"
    status = dict(zip(table["host"], table["status"], strict=True))
    assert status == {"H-01": "ok", "FAIL-01": "failed", "FLAKY-01": "ok", "H-02": "ok"}
    assert not batch.ok
    assert list(batch.failed["host"]) == ["FAIL-01"]
    failed = table.set_index("host").loc["FAIL-01"]
    assert "RuntimeError" in failed["error"] and "cannot summarise FAIL-01" in failed["error"]
    assert _run_json(failed["run_dir"])["status"] == "failed"


@pytest.mark.slow
def test_retries_count_attempts_and_keep_every_run_folder(local_batch):
    from nbcatalog.batch_index import batch_records

    batch, out, _ = local_batch
    attempts = dict(zip(batch.table["host"], batch.table["attempts"], strict=True))
    assert attempts == {"H-01": 1, "FAIL-01": 2, "FLAKY-01": 2, "H-02": 1}
    records = batch_records(out, batch.batch_id)
    by_host: dict[str, list] = {}
    for r in records:
        by_host.setdefault(r.parameters["host"], []).append((r.attempt, r.status))
    assert sorted(by_host["FLAKY-01"]) == [(1, "failed"), (2, "ok")]
    assert sorted(by_host["FAIL-01"]) == [(1, "failed"), (2, "failed")]
    assert len(records) == 6 and all(r.labels["trigger"] == "batch" for r in records)


@pytest.mark.slow
def test_results_come_back_from_each_run_folder(local_batch):
    batch, _, _ = local_batch
    ok = dict(batch.results())
    assert set(ok) == {"host=H-01", "host=FLAKY-01", "host=H-02"}
    for key, res in ok.items():
        host = key.split("=", 1)[1]
        assert res.host_upper == host.upper()
        pd.testing.assert_frame_equal(res.host_frame, expected_frame(host))
        assert res.report_path is not None and res.report_path.is_file()
        assert res.run_info["labels"]["batch"] == batch.batch_id
    with pytest.raises(Exception, match="FAIL-01"):
        batch.result("host=FAIL-01")


@pytest.mark.slow
def test_batch_summary_page_and_combined_index(local_batch):
    batch, out, _ = local_batch
    page = batch.index_path.read_text(encoding="utf-8")
    assert batch.index_path == out / "batches" / batch.batch_id / "index.html"
    assert "3 of 4 run(s) ok, 0 no_data, 1 failed" in page  # no_data counted apart
    assert "cannot summarise FAIL-01" in page
    for row in batch.table.itertuples():
        if row.status == "ok":
            link = "../../" + Path(row.report).relative_to(out).as_posix()
            assert f'href="{link}"' in page
            assert (batch.index_path.parent / link).resolve() == Path(row.report).resolve()
    saved = json.loads((batch.batch_dir / "batch.json").read_text(encoding="utf-8"))
    assert saved["ok"] == 3 and saved["failed"] == 1
    # The output root's report index lists the batch's runs with the others.
    assert "FLAKY-01" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_batch_with_a_host_file(probe, tmp_path):
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("H-11\nFAIL-11\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(BIN / "nbcatalog"), "batch", str(probe), "--host-file", str(hosts),
         "--marker-dir", str(tmp_path), "--start", RANGE["start"], "--end", RANGE["end"],
         "--retries", "0", "--workers", "2", "--output", str(out), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["runs"], summary["ok"], summary["failed"]) == (2, 1, 1)
    rows = {r["params"]["host"]: r for r in summary["results"]}
    assert rows["FAIL-11"]["status"] == "failed" and rows["FAIL-11"]["attempts"] == 1
    assert _run_json(rows["H-11"]["run_dir"])["parameters"]["host"] == "H-11"
    assert Path(summary["index"]).is_file()

    human = subprocess.run(
        [str(BIN / "nbcatalog"), "batch", str(probe), "--host-file", str(hosts),
         "--host", "H-12", "--output", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert human.returncode == 2 and "also given for the whole batch" in human.stderr


# --------------------------------------------------------- Dask executor


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,  # its own process group: torn down as one
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def dask_cluster(tmp_path: Path):
    """A scheduler and two single-thread workers, each its own process, on 127.0.0.1."""
    from distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    procs = [
        _start(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(scheduler_file)],
            tmp_path / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.is_file(), (tmp_path / "scheduler.log").read_text()
        for i in range(2):
            procs.append(
                _start(
                    [str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file),
                     "--host", "127.0.0.1", "--nthreads", "1", "--no-dashboard",
                     "--name", f"w{i}"],
                    tmp_path / f"worker{i}.log",
                )
            )  # fmt: skip
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            address = client.scheduler.address
        yield address, procs
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.mark.slow
def test_dask_scheduler_runs_a_batch_of_20_like_the_local_executor(
    probe, dask_cluster, local_batch, tmp_path
):
    import nbcatalog

    address, procs = dask_cluster
    hosts = [f"H-{i:02d}" for i in range(20)]
    out = tmp_path / "out"
    batch = nbcatalog.run_many(
        str(probe),
        [{"host": h} for h in hosts],
        scheduler=address,
        retries=0,
        output_dir=out,
        html=True,
        quiet=True,
        marker_dir=str(tmp_path),
        **RANGE,
    )
    assert batch.executor == "dask" and batch.ok, batch.failed
    assert list(batch.table["host"]) == hosts
    workers = {o.worker for o in batch.outcomes}
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    folders = sorted(p for p in (out / "batch_probe").iterdir() if p.is_dir())
    assert len(folders) == 20

    local, _, _ = local_batch
    reference = Path(local.result("host=H-01").run_dir)
    for row, outcome in zip(batch.table.itertuples(), batch.outcomes, strict=True):
        folder = Path(row.run_dir)
        assert folder.parent == out / "batch_probe"
        # Same files as a run of the local executor; run.json with the same fields.
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            p.name for p in reference.iterdir()
        )
        info = _run_json(folder)
        assert sorted(info) == sorted(_run_json(reference))
        assert info["status"] == "ok" and info["parameters"]["host"] == row.host
        assert info["labels"]["batch"] == batch.batch_id
        res = batch.result(outcome.index)
        assert res.host_upper == row.host.upper()
        pd.testing.assert_frame_equal(res.host_frame, expected_frame(row.host))
        assert sorted(res.keys()) == sorted(local.result("host=H-01").keys())
        assert res.sections == local.result("host=H-01").sections
    # Workers still alive: the batch did not tear down a cluster it does not own.
    assert all(p.poll() is None for p in procs)


def test_one_time_window_and_store_for_the_whole_batch(probe):
    from nbcatalog.batch import _prepare
    from nbcatalog.runner import find_template

    template = find_template(str(probe))
    fixed = _prepare(template, [{"host": "H-01"}, {"host": "H-02"}], {"last": "24h"})
    assert "last" not in fixed and fixed["data_source"]
    start, end = (pd.Timestamp(fixed[k]) for k in ("start", "end"))
    assert end - start == pd.Timedelta(hours=24)
    # A set with its own time range keeps the batch's `last` for the others.
    own = _prepare(template, [{"host": "H-01", "start": RANGE["start"]}], {"end": RANGE["end"]})
    assert own == {"end": RANGE["end"], "data_source": fixed["data_source"]}
