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
  engine opens them itself, keeps them on the kernel for its next run on the same
  thread, and closes them after a failed run or when the pool stops the kernel
  (`drop_client`). It also skips
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
from nbformat import NotebookNode, from_dict
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


_KEPT = "_nbcatalog_client"  # attribute of a pooled kernel's manager: its kept client


def _kept_client(km: Any, timeout: float) -> Any:
    """The client kept on `km` by an earlier run on this thread, else a new connected one.

    A warm run used to open a client and prove its channels connected (a kernel_info
    round trip) every time, then close it: about 7 ms of a 0.2 s run. The client now
    stays with the pooled kernel between runs. Only on the thread that opened it (zmq
    sockets belong to one thread; a batch lends a kernel to several): another thread
    closes it and opens its own. Messages it received between runs (the pool's reset
    requests' status) carry other parents, which nbclient skips.
    """
    import threading

    kept = getattr(km, _KEPT, None)
    if kept is not None:
        kc, owner = kept
        if owner == threading.get_ident() and kc.channels_running:
            return kc
        drop_client(km)
    kc = _connected_client(km, timeout)
    setattr(km, _KEPT, (kc, threading.get_ident()))
    return kc


def drop_client(km: Any) -> None:
    """Close the client a run kept on `km` (when its kernel stops, or a run failed).

    Example:
        >>> class Manager: pass
        >>> drop_client(Manager())   # nothing kept: nothing to do
    """
    kept = getattr(km, _KEPT, None)
    if kept is None:
        return
    setattr(km, _KEPT, None)
    try:
        kept[0].stop_channels()
    except Exception:  # the kernel is gone already; its sockets close with it
        pass


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


_OUTPUT_FIELDS = {
    "execute_result": ("metadata", "data", "execution_count"),
    "stream": ("name", "text"),
    "display_data": ("metadata", "data"),
    "error": ("ename", "evalue", "traceback"),
}


def output_node(msg: dict[str, Any]) -> NotebookNode:
    """nbformat's `output_from_msg` without its JSON-schema check of every output.

    That check (jsonschema: fastjsonschema cannot check one part of a notebook) was
    13 ms of a 0.25 s warm run for its ~23 outputs; the whole notebook is checked
    once anyway when written (`runfolder.write_notebook`, nbformat logs what is
    invalid). Same fields, same ValueError for a message that is not an output.

    Example:
        >>> msg = {"header": {"msg_type": "stream"}, "content": {"name": "stdout", "text": "hi"}}
        >>> output_node(msg)
        {'output_type': 'stream', 'name': 'stdout', 'text': 'hi'}
    """
    msg_type = msg["header"]["msg_type"]
    fields = _OUTPUT_FIELDS.get(msg_type)
    if fields is None:
        raise ValueError(f"Unrecognized output msg type: {msg_type!r}")
    content = msg["content"]
    return from_dict({"output_type": msg_type, **{name: content[name] for name in fields}})


class _RunnerClient(PapermillNotebookClient):
    """papermill's client whose outputs are built by `output_node`."""

    def output(
        self,
        outs: list[NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> NotebookNode | None:
        """nbclient 0.11's `NotebookClient.output`, with `output_node` (see there)."""
        parent_msg_id = msg["parent_header"].get("msg_id")
        if self.output_hook_stack[parent_msg_id]:
            # a registered hook (e.g. an output widget) overrides the default behaviour
            self.output_hook_stack[parent_msg_id][-1].output(outs, msg, display_id, cell_index)
            return None
        try:
            out = output_node(msg)
        except ValueError:
            self.log.error(f"unhandled iopub msg: {msg['msg_type']}")
            return None
        if self.clear_before_next_output:
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
        if display_id:
            cell_map = self._display_id_map.setdefault(display_id, {})
            cell_map.setdefault(cell_index, []).append(len(outs))
        outs.append(out)
        return out


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
        client = _RunnerClient(
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
        finished = False
        try:
            if km is not None:
                client.kc = _kept_client(km, start_timeout)
            result = client.execute()
            finished = True
            return result
        finally:
            if km is not None:
                client.kc = None
                if not finished:  # a timeout or an interrupt may leave replies in flight
                    drop_client(km)


papermill_engines.register(ENGINE, RunnerEngine)
