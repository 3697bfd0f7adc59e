"""Warm kernels for the runner: started once, heavy modules imported, reset between runs.

A fresh kernel costs about half a second to start plus the imports a template
needs (pandas, DuckDB, matplotlib, nbcatalog's own modules: seconds). A `KernelPool`
keeps a few of this project's kernels (IPC transport, see `nbcatalog.kernel`) with
those modules already imported, lends one to a run, and afterwards puts it back to
the state it had right after the imports (`nbcatalog.kernelstate`: names, working
directory, environment, options, plotting state, nbcatalog's settings).

A kernel is replaced when it died or did not come back from an interrupt after a
timeout, and recycled after `max_runs` runs or when its resident memory passes
`max_memory_mb`. Replacements start in the background, so the next run rarely waits.
Checkout is thread-safe: batch runs lend kernels to several threads at once.

Example:
    >>> from nbcatalog.pool import KernelPool
    >>> pool = KernelPool(size=2, max_runs=50)                   # doctest: +SKIP
    >>> lease = pool.checkout(env={}, cwd="/tmp")                # doctest: +SKIP
    >>> lease.km.is_alive()                                      # doctest: +SKIP
    True
    >>> pool.release(lease)                                      # doctest: +SKIP
    >>> pool.shutdown()                                          # doctest: +SKIP
"""

from __future__ import annotations

import ast
import atexit
import json
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_core.utils import run_sync

from nbcatalog.errors import NbcatalogError
from nbcatalog.kernel import ProjectKernelManager, private_dir

log = logging.getLogger(__name__)

# What the templates import, once per kernel. nbcatalog packages are imported with
# all their submodules (see kernelstate.preload). No bokeh or folium: nblib draws
# static matplotlib images and its own maps.
DEFAULT_PRELOAD: tuple[str, ...] = (
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "scrapbook",
    "matplotlib.pyplot",
    "nbcatalog.config",
    "nbcatalog.data",
    "nbcatalog.nblib",
    "nbcatalog.enrich",
)
DEFAULT_MAX_RUNS = 200
DEFAULT_MAX_MEMORY_MB = 2048
START_TIMEOUT = 60.0  # seconds for a kernel to start and import the preloaded modules
RESET_TIMEOUT = 30.0
INTERRUPT_GRACE = 3.0  # seconds a kernel gets to come back after an interrupt
SECRET_ENV_PREFIX = "NBCATALOG_SECRET_"
_HISTORY_IN_MEMORY = "--HistoryManager.hist_file=:memory:"


class PoolError(NbcatalogError):
    """A pooled kernel could not be started, reset or reached."""


# Read only when an interpreter starts (sys.path, site hooks such as sitecustomize,
# hash seed, preloaded libraries): setting them in a running kernel changes nothing,
# so a kernel started under other values cannot serve a run as a fresh kernel would.
STARTUP_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSAFEPATH",
    "PYTHONNOUSERSITE",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
    "PYTHONHASHSEED",
    "PYTHONWARNINGS",
    "PYTHONOPTIMIZE",
    "PYTHONDEVMODE",
    "PYTHONUTF8",
    "PYTHONIOENCODING",
    "PYTHONDONTWRITEBYTECODE",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
)


def startup_env(env: Mapping[str, str]) -> dict[str, str | None]:
    """The interpreter-start variables of `env` (None when unset).

    Example:
        >>> startup_env({"PYTHONPATH": "/x", "HOME": "/root"})["PYTHONPATH"]
        '/x'
    """
    return {name: env.get(name) for name in STARTUP_ENV}


@dataclass
class PooledKernel:
    """One kernel of the pool: its manager, process id and how much it has served."""

    km: ProjectKernelManager
    pid: int
    launcher_env: dict[str, str]  # variables the kernel's launcher set (kept for runs)
    startup_env: dict[str, str | None] = field(default_factory=dict)  # STARTUP_ENV at start
    started: float = field(default_factory=time.monotonic)
    runs: int = 0
    clean: bool = True  # in the snapshot state (new, or reset after its last run)
    shell: Any = field(default=None, repr=False)  # kept shell-only client of `_evaluate`

    def shell_client(self) -> Any:
        """A blocking client on the kernel's shell channel, opened once and kept.

        Opening and closing one per management call cost about 4 ms of each ~7 ms
        round trip. One client serves every thread: a kernel is used by one thread
        at a time (lent, being reset, or starting), handed over under the pool's
        lock, and zmq allows a socket to move between threads that way.
        """
        if self.shell is None or not self.shell.channels_running:
            kc = self.km.blocking_client()
            kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            self.shell = kc
        return self.shell

    def close_shell(self) -> None:
        """Close the kept shell client (after a call that went wrong, or at stop)."""
        kc, self.shell = self.shell, None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # the kernel is gone: its sockets close with the process
                pass

    def is_alive(self) -> bool:
        """True while the kernel process runs."""
        return bool(run_sync(self.km.is_alive)())

    def rss_mb(self) -> float:
        """Resident memory of the kernel process in MiB (from /proc; 0 when unknown)."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0


def _evaluate(
    kernel: PooledKernel,
    code: str,
    expression: str | None = None,
    timeout: float = 30.0,
) -> Any:
    """Run management `code` silently in the kernel; return `expression`'s value.

    Only the shell channel is used: its messages queue until the kernel reads
    them (no subscription race as on IOPub, no waiting for IOPub to go quiet), so
    this also works on a kernel that is still starting. The kernel's kept client
    (`PooledKernel.shell_client`) sends it; replies to earlier calls that gave up
    waiting are told apart by their parent's id, and the client is replaced after
    any call that did not get its reply.
    """
    from queue import Empty

    kc = kernel.shell_client()
    answered = False
    try:
        msg_id = kc.execute(
            code,
            silent=True,
            store_history=False,
            user_expressions={"r": expression} if expression else None,
            allow_stdin=False,
        )
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PoolError(f"kernel {kernel.pid} did not answer within {timeout:g} s")
            try:
                reply = kc.get_shell_msg(timeout=min(remaining, 1.0))
            except Empty:
                if not kernel.is_alive():
                    raise PoolError(f"kernel {kernel.pid} died") from None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                answered = True
                break
    finally:
        if not answered:
            kernel.close_shell()
    content = reply["content"]
    if content.get("status") != "ok":
        raise PoolError(
            f"kernel {kernel.pid}: {content.get('ename')}: {content.get('evalue')} in pool code"
        )
    if not expression:
        return None
    result = content["user_expressions"]["r"]
    if result.get("status") != "ok":
        raise PoolError(f"kernel {kernel.pid}: {result.get('ename')}: {result.get('evalue')}")
    return ast.literal_eval(result["data"]["text/plain"])


def run_env(extra: Mapping[str, str], launcher_env: Mapping[str, str]) -> dict[str, str]:
    """The environment a fresh kernel would get now: ours, the launcher's, the run's.

    Secrets meant for other runs (NBCATALOG_SECRET_*) are left out.

    Example:
        >>> env = run_env({"NBCATALOG_RUN_DIR": "/tmp/r"}, {"JPY_PARENT_PID": "1"})
        >>> env["NBCATALOG_RUN_DIR"], env["JPY_PARENT_PID"]
        ('/tmp/r', '1')
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV_PREFIX)}
    env.update(launcher_env)
    env.update({str(k): str(v) for k, v in extra.items()})
    return env


class KernelPool:
    """Up to `size` warm kernels lent out one run at a time.

    `max_runs` and `max_memory_mb` decide when a kernel is recycled; `preload`
    names the modules imported in every kernel before its first run.

    Example:
        >>> pool = KernelPool(size=1, max_runs=100, max_memory_mb=1024)   # doctest: +SKIP
        >>> pool.warm()                                                   # doctest: +SKIP
    """

    def __init__(
        self,
        size: int = 1,
        *,
        max_runs: int = DEFAULT_MAX_RUNS,
        max_memory_mb: float = DEFAULT_MAX_MEMORY_MB,
        preload: tuple[str, ...] | list[str] = DEFAULT_PRELOAD,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        if size < 1:
            raise ValueError(f"size={size!r}: a pool needs at least one kernel")
        if max_runs < 1:
            raise ValueError(f"max_runs={max_runs!r}: give a positive number of runs")
        self.size = size
        self.max_runs = max_runs
        self.max_memory_mb = max_memory_mb
        self.preload = tuple(preload)
        self.start_timeout = start_timeout
        self._cond = threading.Condition()
        self._idle: list[PooledKernel] = []
        self._live = 0  # idle + lent + starting
        self._starting = 0  # started in the background, not yet idle
        self._closed = False
        self._threads: list[threading.Thread] = []
        self.started_kernels = 0  # counters for tests and benchmarks
        self.replaced_kernels = 0
        self.last_error: BaseException | None = None
        self.owner = os.getpid()  # the process whose kernels these are

    # ------------------------------------------------------------- kernels

    def _start_kernel(self) -> PooledKernel:
        km = ProjectKernelManager()
        parent_env = dict(os.environ)
        run_sync(km.start_kernel)(extra_arguments=[_HISTORY_IN_MEMORY], env=parent_env)
        pid = km.provisioner.process.pid if km.provisioner is not None else 0
        kernel = PooledKernel(km=km, pid=pid, launcher_env={}, startup_env=startup_env(parent_env))
        try:
            code = (
                "import nbcatalog.kernelstate as __nbc_state\n"
                f"__nbc_state.preload({json.dumps(json.dumps(list(self.preload)))})\n"
            )
            kernel_env = json.loads(
                _evaluate(
                    kernel,
                    code,
                    "__nbc_state.environ()",
                    timeout=self.start_timeout,
                )
            )
            # Set by the launcher (parent pid, matplotlib backend): a fresh kernel has them too.
            kernel.launcher_env = {k: v for k, v in kernel_env.items() if parent_env.get(k) != v}
            _evaluate(
                kernel,
                "del __nbc_state\n__import__('nbcatalog.kernelstate').kernelstate.snapshot()",
                timeout=self.start_timeout,
            )
        except BaseException:
            self._stop(kernel)
            raise
        with self._cond:
            self.started_kernels += 1
        return kernel

    @staticmethod
    def _stop(kernel: PooledKernel) -> None:
        from nbcatalog.papermill_engine import drop_client

        drop_client(kernel.km)  # the runs' kept client (papermill_engine)
        kernel.close_shell()
        try:
            run_sync(kernel.km.shutdown_kernel)(now=True)
        except Exception:  # already gone: only its files are left, removed below
            try:
                run_sync(kernel.km.cleanup_resources)()
            except Exception:
                pass

    def _start_in_background(self) -> None:
        """Start one kernel for the idle list (a replacement or a warm-up)."""

        def start() -> None:
            try:
                kernel = self._start_kernel()
            except Exception as exc:
                with self._cond:
                    self.last_error = exc  # the next checkout starts one itself and says why
                    self._live -= 1
                    self._starting -= 1
                    self._cond.notify_all()
                return
            with self._cond:
                self._starting -= 1
                if not self._closed:
                    self._idle.append(kernel)
                    self._cond.notify_all()
                    return
                self._live -= 1
            self._stop(kernel)

        with self._cond:
            if self._closed or self._live >= self.size:
                return
            self._live += 1
            self._starting += 1
        thread = threading.Thread(target=start, name="nbcatalog-pool-start", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def warm(self, wait: bool = True) -> None:
        """Start kernels up to `size` now instead of at the first checkout."""
        for _ in range(self.size):
            self._start_in_background()
        if wait:
            with self._cond:
                self._cond.wait_for(lambda: self._starting == 0 or self._closed)

    def _discard(self, kernel: PooledKernel, *, replace: bool = True) -> None:
        with self._cond:
            self._live -= 1
            self.replaced_kernels += 1
            self._cond.notify_all()
        threading.Thread(target=self._stop, args=(kernel,), daemon=True).start()
        if replace:
            self._start_in_background()

    # ------------------------------------------------------------- lending

    def checkout(
        self,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        *,
        wait: float | None = None,
    ) -> PooledKernel:
        """Lend a clean kernel with the caller's environment (plus `env`) and `cwd`.

        Waits up to `wait` seconds (default: forever) when all kernels are lent out.
        Give it back with `release`.
        """
        deadline = None if wait is None else time.monotonic() + wait
        failures = 0
        while failures < 3:
            kernel = self._take(deadline)
            if kernel.startup_env != startup_env(os.environ):
                # e.g. PYTHONPATH changed since it started: the next _take starts a kernel
                # under today's settings, as a fresh kernel would see them.
                self._discard(kernel, replace=False)
                continue
            try:
                if not kernel.is_alive():
                    raise PoolError(f"kernel {kernel.pid} is gone")
                wanted = run_env(env or {}, kernel.launcher_env)
                self._reset(kernel, wanted, cwd or os.getcwd(), full=not kernel.clean)
                kernel.clean = False
            except PoolError:
                self._discard(kernel)
                failures += 1
                continue
            except BaseException:  # e.g. the caller's working folder was deleted
                self._discard(kernel)
                raise
            return kernel
        raise PoolError("no kernel of the pool could be reset for a run (see the kernel logs)")

    def _take(self, deadline: float | None) -> PooledKernel:
        with self._cond:
            while True:
                if self._closed:
                    raise PoolError("the kernel pool is shut down")
                if self._idle:
                    return self._idle.pop()
                if self._live < self.size:
                    self._live += 1
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise PoolError(f"no free kernel within the wait; all {self.size} are busy")
                self._cond.wait(remaining)
        try:
            return self._start_kernel()
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify_all()
            raise

    def _reset(
        self,
        kernel: PooledKernel,
        env: Mapping[str, str],
        cwd: str | os.PathLike,
        *,
        full: bool = True,
    ) -> None:
        """Restore the snapshot (`full`) or only set environment and directory."""
        request = json.dumps({"env": dict(env), "cwd": os.fspath(cwd)})
        step = "restore" if full else "enter"
        _evaluate(
            kernel,
            f"__import__('nbcatalog.kernelstate').kernelstate.{step}({request!r})",
            timeout=RESET_TIMEOUT,
        )

    def _recovers(self, kernel: PooledKernel) -> bool:
        """Interrupt a kernel still busy after a timeout; True if it answers again."""
        try:
            run_sync(kernel.km.interrupt_kernel)()
        except Exception:
            return False
        deadline = time.monotonic() + INTERRUPT_GRACE
        while time.monotonic() < deadline:
            try:
                _evaluate(kernel, "pass", timeout=max(deadline - time.monotonic(), 0.1))
                return True
            except PoolError:
                time.sleep(0.05)  # a request aborted right after the interrupt: ask again
        return False

    def release(
        self, kernel: PooledKernel, outcome: str | None = None, *, wait: bool = True
    ) -> None:
        """Take a kernel back after a run; `outcome` is the failure kind, if any.

        A dead kernel, or one that stays busy after a timeout, is replaced; one
        that served `max_runs` runs or grew past `max_memory_mb` is recycled; any
        other is reset (so the run's data is freed now) and lent again. With
        ``wait=False`` that happens in a background thread (the caller carries on;
        the next checkout waits for it).
        """
        if wait:
            self._take_back(kernel, outcome)
            return
        thread = threading.Thread(
            target=self._take_back_quietly,
            args=(kernel, outcome),
            name="nbcatalog-pool-release",
            daemon=True,
        )
        with self._cond:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _take_back(self, kernel: PooledKernel, outcome: str | None) -> None:
        try:
            self._check_in(kernel, outcome)
        except BaseException:  # never leave a kernel neither lent nor idle
            self._discard(kernel)
            raise

    def _take_back_quietly(self, kernel: PooledKernel, outcome: str | None) -> None:
        """`_take_back` in a background thread: a kernel that died while being reset
        is already replaced; its traceback goes to the log, not the user's terminal."""
        try:
            self._take_back(kernel, outcome)
        except Exception:
            log.info("kernel pool: a kernel failed while being taken back", exc_info=True)

    def _check_in(self, kernel: PooledKernel, outcome: str | None) -> None:
        kernel.runs += 1
        with self._cond:
            closing = self._closed  # shut down meanwhile: stopped below, not reset
        healthy = kernel.is_alive()
        if healthy and outcome in ("timeout", "interrupted") and not closing:
            healthy = self._recovers(kernel)
        worn = kernel.runs >= self.max_runs or kernel.rss_mb() > self.max_memory_mb
        if healthy and not worn and not closing:
            try:
                # Idle in our private folder: the caller's may be gone by the next run.
                self._reset(kernel, run_env({}, kernel.launcher_env), private_dir())
                kernel.clean = True
            except PoolError:
                healthy = False
        if not healthy or worn:
            self._discard(kernel)
            return
        with self._cond:
            if self._closed:
                self._live -= 1
            else:
                self._idle.append(kernel)
                self._cond.notify_all()
                return
        self._stop(kernel)

    # ------------------------------------------------------------ lifetime

    def stats(self) -> dict[str, Any]:
        """Counts for tests and benchmarks: live, idle, started, replaced kernels."""
        with self._cond:
            return {
                "size": self.size,
                "live": self._live,
                "idle": len(self._idle),
                "idle_pids": [k.pid for k in self._idle],
                "started": self.started_kernels,
                "replaced": self.replaced_kernels,
            }

    def shutdown(self) -> None:
        """Stop every idle kernel; lent ones are stopped when given back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._live -= len(idle)
            self._cond.notify_all()
        for kernel in idle:
            self._stop(kernel)
        for thread in list(self._threads):
            thread.join(timeout=self.start_timeout)

    def __enter__(self) -> KernelPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


_default_pool: KernelPool | None = None
_default_lock = threading.Lock()


def _env_number(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise PoolError(f"{name}={text!r}: give a whole number") from None


def get_default_pool() -> KernelPool:
    """This process's pool (created on first use, shut down at exit).

    Its size is ``NBCATALOG_POOL_SIZE`` (default 1: an interactive session runs one
    template at a time; batch runs grow it), its limits ``NBCATALOG_POOL_MAX_RUNS``
    and ``NBCATALOG_POOL_MAX_MEMORY_MB``.

    Example:
        >>> from nbcatalog.pool import get_default_pool
        >>> get_default_pool() is get_default_pool()
        True
    """
    global _default_pool
    with _default_lock:
        # A forked child must not share its parent's kernels: it gets a pool of its own.
        if _default_pool is None or _default_pool._closed or _default_pool.owner != os.getpid():
            _default_pool = KernelPool(
                size=max(_env_number("NBCATALOG_POOL_SIZE", 1), 1),
                max_runs=max(_env_number("NBCATALOG_POOL_MAX_RUNS", DEFAULT_MAX_RUNS), 1),
                max_memory_mb=_env_number("NBCATALOG_POOL_MAX_MEMORY_MB", DEFAULT_MAX_MEMORY_MB),
            )
            # atexit runs the last registered first: the private folder (our kernels'
            # socket files) must exist before the shutdown is registered, so that it is
            # removed after the shutdown. Removed first, a kernel reset still running in
            # a release thread (the exit-time chart drawing's) lost its sockets and the
            # shutdown waited its whole RESET_TIMEOUT (30 s) for the answer.
            private_dir()
            atexit.register(_default_pool.shutdown)
        return _default_pool
