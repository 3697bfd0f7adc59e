"""nbcatalog: a catalogue of parameterized Jupyter notebooks for security operations.

Example:
    >>> import nbcatalog
    >>> res = nbcatalog.run("host_summary", host="WKSTN-042")   # doctest: +SKIP
    >>> res.related_alerts.shape                                 # doctest: +SKIP

Attributes are imported on first use, so that `import nbcatalog` inside a
template kernel stays cheap (the kernel only needs `nbcatalog.data`/`nblib`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> "module:attribute"
_EXPORTS = {
    "run": "nbcatalog.runner:run",
    "run_many": "nbcatalog.batch:run_many",
    "Results": "nbcatalog.results:Results",
    "RunError": "nbcatalog.errors:RunError",
    "ParameterError": "nbcatalog.errors:ParameterError",
    "UsageError": "nbcatalog.errors:UsageError",
    "catalog": "nbcatalog.catalog:",  # the module itself: callable, and holds get_template
    "find": "nbcatalog.catalog:find",
    "show_help": "nbcatalog.catalog:show_help",
    "add_path": "nbcatalog.catalog:add_path",
    "init": "nbcatalog.config:init",
    "browse": "nbcatalog.browser:browse",
    "nblts": "nbcatalog.nblts:",  # the module itself: categories are its attributes
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'nbcatalog' has no attribute {name!r}") from None
    module_name, attr = target.split(":")
    # An empty attribute exports the module itself: `nbcatalog.catalog()` and
    # `nbcatalog.catalog.get_template` then work in whichever order they are imported.
    module = importlib.import_module(module_name)
    value = getattr(module, attr) if attr else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
