"""Kernel-side half of the warm kernel pool: remember a clean state, go back to it.

This module runs *inside* a pooled kernel. After the pool has imported the heavy
modules, `snapshot()` records the state a fresh kernel would show a template; before
each run `restore()` puts everything a template can observe back to it:

- the user namespace, ``In``/``Out`` and the execution counter (IPython's reset);
- working directory and environment variables (set to the caller's, as a fresh
  kernel would inherit them);
- ``sys.path``, and modules first imported by a run from outside the installed
  packages or from nbcatalog (a user's own helper modules are imported afresh
  next time);
- pandas options, matplotlib rcParams and open figures, warnings filters, logging
  levels and handlers; standard streams, recursion limit, socket timeout, umask,
  time zone, and random seeds (reseeded from the OS like a new process);
- the module globals of ``nbcatalog`` itself (``config.init(...)``, enrichment
  session settings, caches): names rebound or added by a run are put back, and
  module-level dicts, lists and sets get their saved contents back.

`%reset -f` alone does none of the second half. msticpy reads its
msticpyconfig.yaml once, at import: when the run's config differs from the last
run's (another MSTICPYCONFIG, working folder, or the file edited), it is read again.
What is *not* undone: state inside third-party modules other than the ones above,
threads a run started and left running, and files it wrote.

Example (in a kernel):
    >>> from nbcatalog import kernelstate              # doctest: +SKIP
    >>> kernelstate.snapshot()                         # doctest: +SKIP
    >>> kernelstate.restore('{"env": {...}, "cwd": "/work"}')   # doctest: +SKIP
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import sys
import sysconfig
import time
import warnings
from typing import Any

_saved: dict[str, Any] = {}
_CONTAINERS = (dict, list, set)
# Caches of read-only data files, kept across runs: reloading the GeoIP tables
# costs most of a second, and a template cannot tell a kept one from a new one.
KEEP_ACROSS_RUNS: dict[str, tuple[str, ...]] = {
    "nbcatalog.enrich.geoip": ("_offline_dbs", "_resolvers"),
}
OWN_PACKAGE = "nbcatalog"


def _installed_roots() -> tuple[str, ...]:
    """Folders of the interpreter and installed packages (not the user's own files)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    return tuple(os.path.realpath(r) + os.sep for r in roots)


def _is_user_module(name: str, module: Any) -> bool:
    """A module a run's import should load afresh: the user's own, or nbcatalog's.

    nbcatalog's modules imported before the snapshot have their globals restored;
    one first imported by a run has no clean state to go back to, so it goes.
    """
    if name == OWN_PACKAGE or name.startswith(OWN_PACKAGE + "."):
        return True
    path = getattr(module, "__file__", None)
    if not path:
        return False
    return not os.path.realpath(path).startswith(_installed_roots())


def _pandas_options() -> dict[str, Any]:
    if "pandas" not in sys.modules:
        return {}
    import pandas as pd

    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key in pd._config.config._registered_options:
            try:
                values[key] = pd.get_option(key)
            except Exception:  # an option that cannot be read has nothing to restore
                pass
    return values


def _own_module_state() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """For each nbcatalog module: its globals, and copies of its container globals."""
    state = {}
    for name, module in list(sys.modules.items()):
        if module is None or not (name == OWN_PACKAGE or name.startswith(OWN_PACKAGE + ".")):
            continue
        if name == __name__:
            continue
        names = dict(vars(module))
        contents = {k: v.copy() for k, v in names.items() if type(v) in _CONTAINERS}
        state[name] = (names, contents)
    return state


def _loggers() -> dict[str, tuple[int, list[Any], bool, bool]]:
    found = {"": (logging.root.level, list(logging.root.handlers), True, False)}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            found[name] = (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
    return found


def snapshot() -> None:
    """Record the clean state (call once, after the preloaded imports)."""
    import IPython

    _saved.clear()
    _saved["modules"] = set(sys.modules)
    _saved["path"] = list(sys.path)
    _saved["pandas"] = _pandas_options()
    _saved["warnings"] = list(warnings.filters)
    _saved["showwarning"] = warnings.showwarning
    _saved["loggers"] = _loggers()
    _saved["logging_disable"] = logging.root.manager.disable
    _saved["own"] = _own_module_state()
    _saved["hidden_ns"] = set(IPython.get_ipython().user_ns_hidden)
    _saved["process"] = _process_settings()
    _saved["msticpy_config"] = _msticpy_config_key()
    if "matplotlib" in sys.modules:
        import matplotlib

        _saved["rc"] = dict(matplotlib.rcParams)
    # Everything alive now is the clean state: move it out of the collector's sight,
    # so the collections that close a run's leftovers scan only what the run made.
    gc.collect()
    gc.freeze()


def _process_settings() -> dict[str, Any]:
    """Interpreter-wide settings a run can change with one call."""
    import socket

    umask = os.umask(0o022)
    os.umask(umask)
    return {
        "streams": (sys.stdout, sys.stderr, sys.displayhook, sys.excepthook),
        "recursion": sys.getrecursionlimit(),
        "socket_timeout": socket.getdefaulttimeout(),
        "umask": umask,
    }


def _restore_process_settings() -> None:
    import random
    import socket

    saved = _saved["process"]
    sys.stdout, sys.stderr, sys.displayhook, sys.excepthook = saved["streams"]
    sys.setrecursionlimit(saved["recursion"])
    socket.setdefaulttimeout(saved["socket_timeout"])
    os.umask(saved["umask"])
    # A fresh kernel's random numbers are seeded from the OS, not by the last run.
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def _restore_env(env: dict[str, str]) -> None:
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    for key, value in env.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    if hasattr(time, "tzset"):
        time.tzset()  # a run that set TZ changed the C library's idea of local time


def _restore_modules() -> None:
    for name in set(sys.modules) - _saved["modules"]:
        module = sys.modules.get(name)
        if module is not None and _is_user_module(name, module):
            del sys.modules[name]
    importlib.invalidate_caches()


def _restore_pandas() -> None:
    saved = _saved.get("pandas")
    if not saved or "pandas" not in sys.modules:
        return
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in saved.items():
            try:
                if pd.get_option(key) != value:
                    pd.set_option(key, value)
            except Exception:  # read-only or removed option: nothing a run could change
                pass


def _restore_matplotlib() -> None:
    if "matplotlib" not in sys.modules:
        return
    import matplotlib

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    saved = _saved.get("rc")
    if saved is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = matplotlib.rcParams
        for key in [k for k in rc if k not in saved]:
            dict.__delitem__(rc, key)
        for key, value in saved.items():
            try:
                same = rc[key] == value
                same = bool(same) if not hasattr(same, "all") else bool(same.all())
            except Exception:
                same = False
            if not same:
                dict.__setitem__(rc, key, value)  # saved values are already validated


def _restore_logging() -> None:
    saved = _saved["loggers"]
    logging.disable(_saved["logging_disable"])
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger) or name in saved:
            continue
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate, logger.disabled = True, False
    for name, (level, handlers, propagate, disabled) in saved.items():
        logger = logging.root if name == "" else logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        if name:
            logger.propagate, logger.disabled = propagate, disabled


def _restore_own_modules() -> None:
    for name, (names, contents) in _saved["own"].items():
        module = sys.modules.get(name)
        if module is None:
            continue
        current = vars(module)
        kept = KEEP_ACROSS_RUNS.get(name, ())
        for key in [k for k in current if k not in names]:
            del current[key]
        for key, value in names.items():
            if key not in kept and current.get(key, _saved) is not value:
                current[key] = value
        for key, copy in contents.items():
            if key in kept:
                continue
            value = names[key]
            try:
                changed = bool(value != copy)
            except Exception:  # contents that cannot be compared: put the copy back
                changed = True
            if changed:
                value.clear()
                if isinstance(value, list):
                    value.extend(copy)
                else:
                    value.update(copy)


def enter(request: str) -> None:
    """Take a run's environment and working directory (JSON ``{"env", "cwd"}``)."""
    wanted = json.loads(request)
    _restore_env(wanted["env"])
    os.chdir(wanted["cwd"])
    _follow_msticpy_config()


# Where msticpy 3 looks for its config, in its order (msticpy.common.pkg_config).
_MSTICPY_CONFIG_FILE = "msticpyconfig.yaml"
_MSTICPY_HOME = "~/.msticpy"


def _msticpy_config_key() -> tuple[Any, ...]:
    """The config files msticpy would read here and now, with their size and mtime."""
    candidates = (
        os.environ.get("MSTICPYCONFIG") or "",
        _MSTICPY_CONFIG_FILE,
        os.path.join(os.path.expanduser(_MSTICPY_HOME), _MSTICPY_CONFIG_FILE),
    )
    key: list[Any] = []
    for path in candidates:
        try:
            stat = os.stat(path) if path else None
        except OSError:
            stat = None
        found = stat is not None
        key.append((os.path.abspath(path), stat.st_mtime_ns, stat.st_size) if found else None)
    return tuple(key)


def _follow_msticpy_config() -> None:
    """Have a loaded msticpy read its config again when the run's is not the last run's.

    A pooled kernel outlives the caller's changes: an analyst who points MSTICPYCONFIG
    at another workspace, or edits the file, between two runs must get the new one
    (a fresh kernel would). Costs two or three stat calls when nothing changed.
    """
    key = _msticpy_config_key()
    previous = _saved.get("msticpy_config")
    _saved["msticpy_config"] = key
    pkg_config = sys.modules.get("msticpy.common.pkg_config")
    if pkg_config is None or previous is None or key == previous:
        return
    with warnings.catch_warnings():  # its validation warnings: the run's source reports problems
        warnings.simplefilter("ignore")
        pkg_config.refresh_config()


def restore(request: str) -> None:
    """Go back to the snapshot, then take the environment and directory in `request`.

    `request` is JSON ``{"env": {...}, "cwd": "..."}``.
    """
    import IPython

    wanted = json.loads(request)
    source = sys.modules.get("nbcatalog.data.source")
    if source is not None:  # the run's shared store connection (a file lock): close it now
        source.close_kept_connections()
    shell = IPython.get_ipython()
    shell.reset(new_session=True)
    for name in set(shell.user_ns_hidden) - _saved["hidden_ns"]:
        shell.user_ns_hidden.pop(name, None)
    sys.path[:] = _saved["path"]
    _restore_modules()
    _restore_pandas()
    _restore_matplotlib()
    warnings.filters[:] = _saved["warnings"]
    warnings._filters_mutated()
    warnings.showwarning = _saved["showwarning"]
    _restore_logging()
    _restore_own_modules()
    _restore_process_settings()
    _restore_env(wanted["env"])
    os.chdir(wanted["cwd"])
    _follow_msticpy_config()
    gc.collect()  # closes what the run left open (DuckDB connections hold file locks)


def preload(request: str) -> None:
    """Import the modules named in JSON list `request`, without binding user names.

    A package of nbcatalog's own is imported with all its submodules, so that a run
    finds them already loaded (and their state is covered by the snapshot).
    """
    import pkgutil

    for name in json.loads(request):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # an optional module that is not installed: nothing to warm
        if name.startswith(OWN_PACKAGE) and hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, name + "."):
                if "msticpy" in info.name:
                    continue  # pulls in msticpy (seconds), needed only by msticpy: sources
                try:
                    importlib.import_module(info.name)
                except Exception:  # a submodule needing an optional extra
                    pass
    exercise()


def exercise() -> None:
    """Render one small table, chart and plot, so a run does not pay for first-use setup.

    Libraries load much lazily on first use (HTML templates, fonts, renderers);
    doing it before the snapshot moves that cost into the pool's start.
    """
    steps = []
    if "pandas" in sys.modules:
        steps.append(lambda: sys.modules["pandas"].DataFrame({"a": [1]})._repr_html_())
    if "matplotlib.pyplot" in sys.modules:

        def chart() -> None:
            import io

            plt = sys.modules["matplotlib.pyplot"]
            figure = plt.figure()
            figure.gca().plot([0, 1], [0, 1])
            figure.savefig(io.BytesIO(), format="png")
            plt.close(figure)

        steps.append(chart)
    if "bokeh.plotting" in sys.modules:

        def plot() -> None:
            from bokeh.embed import components

            figure = sys.modules["bokeh.plotting"].figure()
            figure.line([0, 1], [0, 1])
            components(figure)

        steps.append(plot)
    if "duckdb" in sys.modules:
        steps.append(lambda: sys.modules["duckdb"].connect().execute("select 1").fetchall())
    for step in steps:
        try:
            step()
        except Exception:  # a warm-up only: the run itself reports real problems
            pass


def environ() -> str:
    """The kernel's environment as JSON (the pool learns what the launcher added)."""
    return json.dumps(dict(os.environ))
