"""Charts drawn when someone looks: a run records how to draw a chart, not the drawing.

Drawing is most of a small run: matplotlib's PNG and the Bokeh twin of five charts
take about 0.9 s of a 1.1 s host_logons_summary on 60 log lines, while an analyst
calling `nbcatalog.run` in a notebook often reads only the tables. So in a run the
runner marks lazy (``NBCATALOG_LAZY_CHARTS=1`` in the kernel), a chart function of
nblib decorated with `lazy_chart` returns a `LazyChart`: the function's name and
its arguments (frames as parquet, values as tagged JSON). Glued, it becomes a
display output of MIME type `LAZY_MIME` with a plain-text stand-in.

The chart is drawn, with the same function and the same arguments, the first time
something shows it: `Results.show()` / the notebook repr, `Results.notebook`, an
HTML report (`nbcatalog.reports.write_report`), the web UI's download of the
notebook, or ``nbcatalog draw RUN_FOLDER``. `draw_outputs` replaces each stand-in
with the drawn output in place; drawing twice costs nothing the second time.

A run nobody looks at (silent, a batch, a script that keeps only the tables) never
draws: its ``notebook.ipynb`` keeps the stand-ins, and each one says, in the text
Jupyter shows for it, how to draw it. Ten silent runs in one script used to cost
seven seconds of drawing at exit (`benchmarks/exit_wait.py --runs 10`).

Only functions registered here by `lazy_chart` (modules under ``nbcatalog.nblib``)
are ever called from a notebook's stand-in: a notebook from elsewhere cannot name
any other code to run.

Example:
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook()
    >>> draw_outputs(nb)
    0
"""

from __future__ import annotations

import base64
import functools
import importlib
import inspect
import io
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

LAZY_MIME = "application/vnd.nbcatalog.lazy-chart+json"
LAZY_ENV = "NBCATALOG_LAZY_CHARTS"
# What a notebook reader sees where a chart was not drawn (Jupyter shows the text part).
STAND_IN_TEXT = (
    "chart {title!r} not drawn: nobody looked at this run when it ran. "
    "`nbcatalog draw RUN_FOLDER` draws its charts into this notebook "
    "(showing the run's results or writing its report draws them too)."
)
_ALLOWED_PREFIX = "nbcatalog.nblib."
_REGISTRY: dict[str, Callable[..., Any]] = {}


_drawing = threading.local()  # set while stand-ins are drawn: the call must draw


def lazy_enabled() -> bool:
    """True inside a run the runner marked lazy (the kernel's environment says so)."""
    return os.environ.get(LAZY_ENV) == "1" and not getattr(_drawing, "on", False)


def lazy_chart(func: Callable[..., Any]) -> Callable[..., Any]:
    """Register a chart function; in a lazy run it returns a `LazyChart` instead of drawing.

    Outside a lazy run (an analyst running the template by hand, a report run, the
    runner drawing a stand-in) it draws as it always did.

    Example:
        >>> @lazy_chart
        ... def square(n: int) -> int:
        ...     return n * n
        >>> square(3)
        9
    """
    name = f"{func.__module__}.{func.__qualname__}"
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not lazy_enabled():
            return func(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        # args/kwargs as bound: a *charts parameter stays positional when drawn.
        return LazyChart(name, list(bound.args), dict(bound.kwargs), _title(bound.arguments))

    _REGISTRY[name] = func
    wrapper.draw_now = func  # type: ignore[attr-defined]
    return wrapper


def _title(arguments: dict[str, Any]) -> str:
    title = arguments.get("title")
    return str(title) if isinstance(title, str) else "chart"


class LazyChart:
    """A chart not drawn yet: which registered function draws it, with what arguments.

    Shown in the kernel it records `LAZY_MIME` (the call) and a text stand-in;
    `draw()` draws it where it is called.

    Example:
        >>> LazyChart("nbcatalog.nblib.plots.bar", [], {}, "Counts")
        <chart 'Counts': drawn when shown>
    """

    def __init__(
        self, name: str, args: list[Any], kwargs: dict[str, Any], title: str = "chart"
    ) -> None:
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.title = title

    def spec(self) -> dict[str, Any]:
        """The call as JSON: function name, title and encoded arguments."""
        return {
            "call": self.name,
            "title": self.title,
            "args": [_encode_argument(v) for v in self.args],
            "kwargs": {k: _encode_argument(v) for k, v in self.kwargs.items()},
        }

    def draw(self) -> Any:
        """Draw the chart now (a `Chart`, `Image`, `HTML` or `Note`)."""
        return _function(self.name)(*self.args, **self.kwargs)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {LAZY_MIME: self.spec(), "text/plain": STAND_IN_TEXT.format(title=self.title)}

    def __repr__(self) -> str:
        return f"<chart {self.title!r}: drawn when shown>"


def _function(name: str) -> Callable[..., Any]:
    """The registered function `name`; its module is imported when it is nblib's."""
    if name not in _REGISTRY:
        module = name.rpartition(".")[0]
        while module.startswith(_ALLOWED_PREFIX) and module not in _importable():
            module = module.rpartition(".")[0]
        if module.startswith(_ALLOWED_PREFIX):
            importlib.import_module(module)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"chart function {name!r} is not one nbcatalog draws "
            "(only nblib functions marked lazy_chart are)"
        ) from None


@functools.lru_cache(maxsize=1)
def _importable() -> frozenset[str]:
    import pkgutil

    import nbcatalog.nblib

    return frozenset(
        f"nbcatalog.nblib.{m.name}" for m in pkgutil.iter_modules(nbcatalog.nblib.__path__)
    )


# ------------------------------------------------------------------ arguments


def _encode_argument(value: Any) -> Any:
    from nbcatalog.scraps import FrameEncoder, _encode_value, _parquet_bytes

    if isinstance(value, LazyChart):
        return {"$chart": value.spec()}
    if FrameEncoder().encodable(value):
        import pandas as pd

        series = isinstance(value, pd.Series)
        frame = value.to_frame(name="__series__") if series else value
        payload, _ = _parquet_bytes(frame)
        encoded = {"$frame": base64.b64encode(payload).decode("ascii")}
        if series:
            encoded["series_name"] = _encode_value(value.name)
        return encoded
    if isinstance(value, (list, tuple)) and any(isinstance(v, LazyChart) for v in value):
        return {"$list": [_encode_argument(v) for v in value]}
    return {"$value": _encode_value(value)}


def _decode_argument(data: Any) -> Any:
    from nbcatalog.scraps import _decode_value

    if "$chart" in data:
        return decode(data["$chart"]).draw()
    if "$frame" in data:
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(base64.b64decode(data["$frame"])), engine="pyarrow")
        if "series_name" in data:
            series = frame["__series__"]
            series.name = _decode_value(data["series_name"])
            return series
        return frame
    if "$list" in data:
        return [_decode_argument(v) for v in data["$list"]]
    return _decode_value(data["$value"])


def decode(spec: dict[str, Any]) -> LazyChart:
    """The `LazyChart` a stand-in output recorded (arguments decoded).

    Example:
        >>> decode({"call": "nbcatalog.nblib.plots.bar", "title": "t", "kwargs": {}}).title
        't'
    """
    args = [_decode_argument(v) for v in spec.get("args", [])]
    kwargs = {k: _decode_argument(v) for k, v in spec.get("kwargs", {}).items()}
    return LazyChart(str(spec["call"]), args, kwargs, str(spec.get("title", "chart")))


# -------------------------------------------------------------------- drawing


def _bundle(drawn: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the kernel would have recorded for `drawn`: its MIME bundle, as notebook JSON."""
    from IPython.core.formatters import format_display_data

    data, metadata = format_display_data(drawn)
    for mime, value in list(data.items()):
        if isinstance(value, bytes):  # images: notebooks hold them as base64 text
            data[mime] = base64.b64encode(value).decode("ascii")
    return data, metadata


def has_lazy(nb: Any) -> bool:
    """True when some output of `nb` is a chart still to draw."""
    return any(
        LAZY_MIME in output.get("data", {})
        for cell in nb.get("cells", [])
        for output in cell.get("outputs", [])
    )


def draw_outputs(nb: Any) -> int:
    """Draw every chart stand-in of `nb` in place; the number drawn.

    Each stand-in becomes the output the chart gives when drawn eagerly (PNG,
    Bokeh item, text), keeping its metadata (scrapbook's display name). A chart
    that cannot be drawn becomes a text output saying why.
    """
    drawn = 0
    _drawing.on = True
    try:
        drawn = _draw_outputs(nb)
    finally:
        _drawing.on = False
    return drawn


def _draw_outputs(nb: Any) -> int:
    drawn = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            spec = output.get("data", {}).get(LAZY_MIME)
            if spec is None:
                continue
            try:
                data, metadata = _bundle(decode(spec).draw())
            except Exception as exc:  # one chart failing must not lose the others
                title = spec.get("title", "chart") if isinstance(spec, dict) else "chart"
                data = {"text/plain": f"chart {title!r} could not be drawn: {exc}"}
                metadata = {}
            output["data"] = data
            output["metadata"] = {**metadata, **output.get("metadata", {})}
            drawn += 1
    return drawn


def drawn_displays(nb: Any) -> dict[str, dict[str, Any]]:
    """Display outputs of `nb` by scrapbook name, as `nbcatalog.harvest` reads them."""
    found = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            book = output.get("metadata", {}).get("scrapbook", {})
            if book.get("display") and book.get("name"):
                found[book["name"]] = dict(output)
    return found


# ------------------------------------------------------------ notebook files


def ensure_drawn(notebook_path: Path, nb: Any) -> bool:
    """Draw `nb`'s stand-ins and rewrite its file (atomically); False when none were left."""
    if not has_lazy(nb):
        return False
    from nbcatalog.runfolder import write_notebook

    draw_outputs(nb)
    if Path(notebook_path).parent.is_dir():
        write_notebook(notebook_path, nb)
    return True


def draw_file(path: str | Path) -> int:
    """Draw the chart stand-ins of the notebook file `path` into it; the number drawn.

    The file is rewritten atomically, and only when something was drawn. A file
    that is not a readable notebook raises (`OSError`, `ValueError`) and is left
    as it was. `nbcatalog draw RUN_FOLDER` calls this.

    Example:
        >>> draw_file("output/host_summary/20261206T101500Z-ab12cd/notebook.ipynb")
        ...                                                          # doctest: +SKIP
        5
    """
    import nbformat

    from nbcatalog.runfolder import write_notebook

    nb = nbformat.read(str(path), as_version=4)
    drawn = draw_outputs(nb)
    if drawn:
        write_notebook(Path(path), nb)
    return drawn
