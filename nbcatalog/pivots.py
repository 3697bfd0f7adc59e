"""msticpy pivot functions: run a notebooklet from an entity.

After ``register_pivots()`` every template whose metadata names an entity kind for a
parameter (``entity_kinds``: ``{"host": "host"}``) is a pivot function of that
msticpy entity, under the container ``nbcatalog``::

    >>> from msticpy.datamodel.entities import Host, IpAddress       # doctest: +SKIP
    >>> import nbcatalog.pivots; nbcatalog.pivots.register_pivots()   # doctest: +SKIP
    >>> res = Host.nbcatalog.host_summary("WKSTN-042")                # doctest: +SKIP
    >>> res = IpAddress.nbcatalog.ip_summary(ip_entity)               # doctest: +SKIP

The function is registered through msticpy's own `Pivot.add_pivot_function`, so it
takes a value, an entity (its attribute in ENTITY_ATTRIBUTES is used) or a list of
values (one run each, a list of Results back), and any of `nbcatalog.run`'s keyword
arguments. The time range defaults to the current msticpy `Pivot` timespan (set with
``Pivot.current().set_timespan(...)``) when there is a Pivot, else to the run's own
default (the last 7 days); ``start``/``end``/``last`` given in the call win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CONTAINER = "nbcatalog"
# entity kind (template metadata) -> (msticpy entity class name, attribute holding the value)
ENTITY_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "host": ("Host", "HostName"),
    "ip": ("IpAddress", "Address"),
    "account": ("Account", "qualified_name"),
    "url": ("Url", "Url"),
    "domain": ("Dns", "DomainName"),
}
_TIME_KEYS = ("start", "end", "last")


def pivot_timespan() -> tuple[Any, Any] | None:
    """(start, end) of the current msticpy Pivot's timespan, or None without a Pivot.

    Example:
        >>> pivot_timespan() is None or len(pivot_timespan()) == 2
        True
    """
    from msticpy.init.pivot import Pivot

    current = Pivot.current()
    if current is None:
        return None
    span = current.timespan
    return span.start, span.end


def pivot_runner(
    template: str, parameter: str, *, run: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """The function msticpy wraps: ``f(**{parameter: value}, **run_kwargs)`` -> Results.

    Example:
        >>> f = pivot_runner("ip_summary", "ip", run=lambda name, **kw: (name, kw["ip"]))
        >>> f(ip="203.0.113.77", start="2024-05-01", end="2024-05-02")
        ('ip_summary', '203.0.113.77')
    """

    def run_template(**kwargs: Any) -> Any:
        if not any(kwargs.get(k) for k in _TIME_KEYS):
            span = pivot_timespan()
            if span is not None:
                kwargs["start"], kwargs["end"] = span
        runner = run
        if runner is None:
            from nbcatalog.runner import run as runner
        return runner(template, **kwargs)

    run_template.__name__ = template
    run_template.__qualname__ = f"{CONTAINER}.{template}"
    run_template.__doc__ = f"Run the nbcatalog notebooklet {template!r} with {parameter}=<value>."
    return run_template


def pivot_targets(templates: Iterable[Any] | None = None) -> list[tuple[str, str, str, str]]:
    """(template, parameter, entity class, entity attribute) for every pivot to register.

    Example:
        >>> ("host_summary", "host", "Host", "HostName") in pivot_targets()
        True
    """
    if templates is None:
        from nbcatalog.catalog import catalog

        templates = catalog()
    targets = []
    for template in templates:
        kinds = template.metadata.get("entity_kinds") or {}
        for parameter, kind in kinds.items():
            if kind in ENTITY_ATTRIBUTES:
                entity, attribute = ENTITY_ATTRIBUTES[kind]
                targets.append((template.name, str(parameter), entity, attribute))
    return targets


def register_pivots(
    templates: Iterable[Any] | None = None,
    *,
    container: str = CONTAINER,
    run: Callable[..., Any] | None = None,
) -> dict[str, list[str]]:
    """Add each template as a pivot function of its entities; returns entity -> names.

    A template with two entity parameters (network_flow_summary: host, ip) is added
    to both entities, each passing the value as its own parameter. Calling it again
    replaces the functions (templates added with `add_path` appear).

    Example:
        >>> register_pivots()["Host"][:2]          # doctest: +SKIP
        ['host_logons_summary', 'host_summary']
    """
    from msticpy.init.pivot import Pivot
    from msticpy.init.pivot_core.pivot_register import PivotRegistration

    added: dict[str, list[str]] = {}
    for name, parameter, entity, attribute in pivot_targets(templates):
        registration = PivotRegistration(
            input_type="value",
            entity_map={entity: attribute},
            func_input_value_arg=parameter,
            func_new_name=name,
            src_func_name=name,
            entity_container_name=container,
            return_raw_output=True,  # a Results object, not a DataFrame
            can_iterate=True,
        )
        Pivot.add_pivot_function(
            pivot_runner(name, parameter, run=run), registration, container=container
        )
        added.setdefault(entity, []).append(name)
    return {entity: sorted(names) for entity, names in sorted(added.items())}
