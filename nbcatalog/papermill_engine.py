"""The papermill engine of the runner: fewer notebook saves, and kernels from the pool.

Two changes to papermill's own nbclient engine, nothing else (papermill's cell
bookkeeping, nbclient's execution and its exceptions for a failing cell, a timeout
or a dead kernel stay theirs, so every run produces the same notebook and failures):

- papermill writes the whole notebook before and after every cell (about 30 writes
  of a few hundred KB for a summary template), truncating the file and writing it
  in place, so a reader (or a failed write) can meet a half-written file. Here the
  running notebook is written only to ``partial_path``, at most every `SAVE_EVERY`
  seconds, atomically (temp file + rename), so it shows how far a long run got and
  is never half-written. The executed notebook itself is handed back in memory
  (``notebook_sink``): the caller writes the final file once, and never re-reads
  the partial one. papermill's own output path is None, so it writes nothing.
- With ``km=`` (a kernel the pool started) nbclient neither starts nor shuts down
  the kernel, but it also never closes the client channels it opened on it: this
  engine opens them itself and closes them when the run ends. It also skips
  jupyter_client's `wait_for_ready`, which ends by waiting 0.2 s for IOPub to stay
  quiet (a fifth of a warm run): one kernel_info round trip whose "idle" status
  arrives on IOPub proves both channels are connected.

Example:
    >>> import papermill as pm                                          # doctest: +SKIP
    >>> sink = []                                                       # doctest: +SKIP
    >>> pm.execute_notebook(nb, None, engine_name=ENGINE, km=kernel.km,
    ...                     partial_path=str(run_dir / ".notebook.partial.ipynb"),
    ...                     notebook_sink=sink, kernel_name="nbcatalog-python")  # doctest: +SKIP
    >>> executed = sink[0].nb                                           # doctest: +SKIP
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

from nbcatalog.runfolder import write_notebook

ENGINE = "nbcatalog"
SAVE_EVERY = 2.0  # seconds between saves of the running notebook


def _throttle_saves(nb_man: Any, partial_path: str | None) -> None:
    """Make `nb_man.save` write `partial_path` atomically, at most every SAVE_EVERY s.

    Every save papermill asks for (cell start and end, outputs, run end) comes here
    and runs on the thread executing the notebook, so saves never overlap.
    """
    last = [time.monotonic()]

    def save(**kwargs: Any) -> None:
        nb = kwargs.get("nb")
        if nb is not None:
            nb_man.nb = nb  # papermill's save(nb=...) convention
        now = time.monotonic()
        if partial_path and now - last[0] >= SAVE_EVERY:
            write_notebook(partial_path, nb_man.nb)
            last[0] = time.monotonic()

    nb_man.save = save


async def _handshake(kc: Any, timeout: float) -> None:
    """Wait until a kernel_info request's reply and its IOPub "idle" have arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg_id = kc.kernel_info()
        got_reply = False
        while time.monotonic() < deadline:
            try:
                if not got_reply:
                    reply = await kc.shell_channel.get_msg(timeout=1)
                    got_reply = reply["parent_header"].get("msg_id") == msg_id
                    continue
                msg = await kc.iopub_channel.get_msg(timeout=1)
            except Empty:
                break  # IOPub subscribed too late for this request's messages: ask again
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "status"
                and msg["content"].get("execution_state") == "idle"
            ):
                return
    raise RuntimeError(f"kernel did not answer kernel_info within {timeout:g} s")


def _connected_client(km: Any, timeout: float) -> Any:
    """An async client on `km`'s kernel with every channel known to be connected."""
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(_handshake)(kc, timeout)
    except BaseException:
        kc.stop_channels()
        raise
    kc.allow_stdin = False
    return kc


class RunnerEngine(NBClientEngine):
    """papermill's nbclient engine with throttled saves, on a fresh kernel or ``km``."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: float = 60,
        execution_timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Execute `nb_man`'s notebook; on ``kwargs["km"]`` when given."""
        kwargs.pop("input_path", None)
        _throttle_saves(nb_man, kwargs.pop("partial_path", None))
        sink = kwargs.pop("notebook_sink", None)
        if sink is not None:
            sink.append(nb_man)  # its .nb is the executed notebook, whatever happens
        km = kwargs.pop("km", None)
        client = PapermillNotebookClient(
            nb_man,
            km=km,
            kernel_name=kernel_name,
            timeout=execution_timeout if execution_timeout else kwargs.pop("timeout", None),
            startup_timeout=start_timeout,
            log=logger,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
            **kwargs,
        )
        try:
            if km is not None:
                client.kc = _connected_client(km, start_timeout)
            return client.execute()
        finally:
            if not client.owns_km and client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register(ENGINE, RunnerEngine)
