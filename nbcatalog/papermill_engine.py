"""A papermill engine that executes on a kernel someone else started (the pool's).

papermill's own nbclient engine already hands a ``km`` keyword to nbclient's
`NotebookClient`, which then neither starts nor shuts down that kernel (it does not
own it). What it also does not do is close the client channels it opened on the
kernel, so every run would leave a set of zmq sockets behind: this engine closes
them when the run ends. Everything else (papermill's cell bookkeeping, the notebook
saved after each cell, the exceptions for a failing cell, a timeout or a dead
kernel) is papermill's and nbclient's, so a pooled run produces the same executed
notebook and the same failures as a run on a fresh kernel.

Example:
    >>> import papermill as pm                                          # doctest: +SKIP
    >>> pm.execute_notebook(nb, out, engine_name=POOLED_ENGINE, km=kernel.km,
    ...                     kernel_name="nbcatalog-python")             # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger

POOLED_ENGINE = "nbcatalog-pooled"


class PooledKernelEngine(NBClientEngine):
    """papermill's nbclient engine on a running kernel manager passed as ``km``."""

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
        """Execute `nb_man`'s notebook on ``kwargs["km"]``, then close the channels."""
        km = kwargs.pop("km")
        kwargs.pop("input_path", None)
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
            return client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
                client.kc = None


papermill_engines.register(POOLED_ENGINE, PooledKernelEngine)
