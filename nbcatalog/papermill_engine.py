"""The papermill engine of the runner: fewer notebook saves, and kernels from the pool.

Two changes to papermill's own nbclient engine, nothing else (papermill's cell
bookkeeping, nbclient's execution and its exceptions for a failing cell, a timeout
or a dead kernel stay theirs, so every run produces the same notebook and failures):

- papermill writes the whole notebook before and after every cell (about 30 writes
  of a few hundred KB for a summary template). Here a save is skipped when the last
  one was less than `SAVE_EVERY` seconds ago; the notebook is still saved when the
  run ends, fails or stops, and during long runs.
- With ``km=`` (a kernel the pool started) nbclient neither starts nor shuts down
  the kernel, but it also never closes the client channels it opened on it: this
  engine opens them itself and closes them when the run ends. It also skips
  jupyter_client's `wait_for_ready`, which ends by waiting 0.2 s for IOPub to stay
  quiet (a fifth of a warm run): one kernel_info round trip whose "idle" status
  arrives on IOPub proves both channels are connected.

Example:
    >>> import papermill as pm                                          # doctest: +SKIP
    >>> pm.execute_notebook(nb, out, engine_name=ENGINE, km=kernel.km,
    ...                     kernel_name="nbcatalog-python")             # doctest: +SKIP
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

ENGINE = "nbcatalog"
SAVE_EVERY = 2.0  # seconds between saves of the running notebook


def _throttle_saves(nb_man: Any) -> list[bool]:
    """Make `nb_man.save` skip saves closer than SAVE_EVERY; set flag[0] to save always."""
    real_save = nb_man.save
    last = [time.monotonic()]
    always = [False]

    def save(**kwargs: Any) -> None:
        now = time.monotonic()
        if always[0] or now - last[0] >= SAVE_EVERY:
            real_save(**kwargs)
            last[0] = now

    nb_man.save = save
    return always


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
        always_save = _throttle_saves(nb_man)
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
            always_save[0] = True  # the final state is always written
            nb_man.save()
            if not client.owns_km and client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register(ENGINE, RunnerEngine)
