"""Marking your own functions as drill-downs a template may name.

A template names a function drill-down by text (``"mypkg.drills:count_alerts"``),
and the run folder it is applied to may come from anyone. So a name is honoured
only when nbcatalog already knows the function: nbcatalog's own drill-downs are
listed in `nbcatalog.drilldowns.BUILT_IN_FUNCTIONS`, and yours register themselves
with this decorator when *you* import their module. Nothing is imported because a
template or a run folder names it.

Example:
    >>> from nbcatalog.drilldown_registry import drilldown_function
    >>> @drilldown_function(choices={"user": "Account"})
    ... def logons_of(results, user):
    ...     frame = results["host_logons"]
    ...     return frame[frame["Account"] == user]
    >>> registered(f"{__name__}:logons_of").choices
    {'user': 'Account'}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegisteredFunction:
    """A function marked with `drilldown_function`.

    `choices` maps a keyword the function needs to the column of the drill-down's
    ``result`` that lists the values it accepts (shown when the keyword is missing).
    """

    path: str
    function: Callable[..., Any]
    choices: Mapping[str, str] = field(default_factory=dict)


_registered: dict[str, RegisteredFunction] = {}


def function_path(func: Callable[..., Any]) -> str:
    """The ``module:qualname`` text a template uses to name `func`."""
    return f"{func.__module__}:{func.__qualname__}"


def drilldown_function(
    func: Callable[..., Any] | None = None, *, choices: Mapping[str, str] | None = None
) -> Any:
    """Mark `func` as a drill-down templates may name (``@drilldown_function`` or
    ``@drilldown_function(choices={"keyword": "Column"})``).

    Example:
        >>> @drilldown_function
        ... def count_alerts(results):
        ...     return len(results["related_alerts"])
        >>> count_alerts.__nbcatalog_drilldown__
        True
    """

    def mark(target: Callable[..., Any]) -> Callable[..., Any]:
        target.__nbcatalog_drilldown__ = True  # type: ignore[attr-defined]
        path = function_path(target)
        _registered[path] = RegisteredFunction(path, target, dict(choices or {}))
        return target

    return mark(func) if func is not None else mark


def registered(path: str) -> RegisteredFunction | None:
    """The function registered under ``module:qualname`` `path`, or None (imports nothing)."""
    return _registered.get(path)
