"""The clients kept on a pooled kernel between calls and runs give each its own answer.

The pool's management calls reuse one shell client per kernel, and the engine keeps
its connected client for the kernel's next run on the same thread. A reply that came
too late for one call must never be taken for the next call's, and a run on another
thread or after a failed run must still get its own outputs.
"""

from __future__ import annotations

import threading

import pytest
from template_factory import write_template

import nbcatalog
from nbcatalog.errors import RunError
from nbcatalog.pool import KernelPool, PoolError, _evaluate

pytestmark = pytest.mark.slow

PARAMETERS = """\
value: int = 0  # echoed back
pause: float = 0.0  # seconds to sleep first
start: str = ""  # start of the time range (ISO-8601)
end: str = ""  # end of the time range (ISO-8601)
data_source: str = ""  # data source spec
"""

ECHO = """\
import os, time
from nbcatalog.nblib.glue import glue
time.sleep(pause)
glue("echo", value * 10)
glue("pid", os.getpid())
"""


@pytest.fixture(scope="module")
def pool():
    with KernelPool(size=1) as pool:
        yield pool


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("echo")
    path = write_template(
        root / "templates",
        "pool_echo",
        parameters=PARAMETERS,
        sections=[("echo", "## Echo", [ECHO])],
        options={},
        entity_kinds={},
        tables=[],
    )
    return str(path)


def test_a_late_reply_is_not_taken_for_the_next_calls(pool):
    kernel = pool.checkout()
    try:
        with pytest.raises(PoolError, match="did not answer"):
            _evaluate(kernel, "import time; time.sleep(1.5); late = 'stale'", timeout=0.3)
        # The first call's reply arrives while this one waits: its value must be its own.
        assert _evaluate(kernel, "answer = 6 * 7", "answer") == 42
        first = kernel.shell_client()
        assert _evaluate(kernel, "answer = 43", "answer") == 43
        assert kernel.shell_client() is first  # kept between calls that were answered
    finally:
        pool.release(kernel)


def test_runs_on_the_kept_client_after_a_failure_and_on_another_thread(pool, echo, tmp_path):
    def run(value: int, **kw):
        return nbcatalog.run(
            echo, value=value, output_dir=tmp_path, silent=True, quiet=True, pool=pool, **kw
        )

    first, second = run(1), run(2)
    assert (first.echo, second.echo) == (10, 20)
    assert first.pid == second.pid  # one warm kernel, its client kept between the runs
    with pytest.raises(RunError):
        run(3, pause=30.0, timeout=1)  # the cell's reply is still due when the run fails
    assert run(4).echo == 40

    results = []
    worker = threading.Thread(target=lambda: results.append(run(5)))
    worker.start()
    worker.join(timeout=120)
    assert [r.echo for r in results] == [50]
    assert run(6).echo == 60  # and back on this thread


@pytest.mark.parametrize(
    "msg",
    [
        {"msg_type": "stream", "content": {"name": "stderr", "text": "<b>x</b>"}},
        {
            "msg_type": "display_data",
            "content": {
                "data": {"text/plain": "x", "image/png": "iVBOR"},
                "metadata": {"scrapbook": {"name": "chart", "display": True}},
                "transient": {"display_id": "d1"},
            },
        },
        {
            "msg_type": "execute_result",
            "content": {"data": {"text/plain": "1"}, "metadata": {}, "execution_count": 3},
        },
        {"msg_type": "error", "content": {"ename": "E", "evalue": "v", "traceback": ["t"]}},
    ],
)
def test_engine_outputs_are_nbformats(msg):
    """The engine builds outputs without a schema check per output: the same nodes."""
    from nbformat.v4 import output_from_msg

    from nbcatalog.papermill_engine import output_node

    msg = {"header": {"msg_type": msg["msg_type"]}, **msg}
    ours, theirs = output_node(msg), output_from_msg(msg)
    assert ours == theirs
    assert type(ours.get("data", ours)) is type(theirs.get("data", theirs))


def test_engine_refuses_what_is_not_an_output():
    from nbcatalog.papermill_engine import output_node

    with pytest.raises(ValueError, match="status"):
        output_node({"header": {"msg_type": "status"}, "content": {}})
