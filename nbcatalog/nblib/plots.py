"""Charts for notebooklets: a static PNG, plus an interactive Bokeh twin for HTML reports.

Each chart is a `Chart`: an IPython `Image` (PNG) that also carries the Bokeh
document of the same chart under its own MIME type. The PNG is what the executed
notebook, a caller's notebook and a PDF show (it renders even untrusted, where
Jupyter runs no script); the HTML report swaps in the Bokeh version, with hover
and zoom, and inlines BokehJS once (`nbcatalog.reports`), so ten charts cost one
copy of the library. Bokeh writes tooltip values as text, so attacker-written
labels stay inert. Every PNG is drawn with `text.parse_math` off, so a `$` in a
log value is drawn as text rather than parsed as mathtext (which can fail the
whole cell).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
    ...                    "AlertDisplayName": ["Brute force"]})
    >>> chart = timeline(df, group="AlertDisplayName", title="Alerts")
    >>> isinstance(chart, Image), CHART_MIME in chart._repr_mimebundle_()
    (True, True)
"""

from __future__ import annotations

import io
import json
import warnings

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nbcatalog.lazycharts import lazy_chart
from nbcatalog.nblib.findings import Note
from nbcatalog.report_assets import CHART_MIME

MAX_LANES = 12
_LABEL_CHARS = 45
_RC = {"text.parse_math": False, "text.usetex": False, "font.size": 9}


def _short(label: object) -> str:
    text = "" if label is None or (isinstance(label, float) and pd.isna(label)) else str(label)
    # Newlines and control characters in hostile labels would break the layout.
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


# Tooltip text longer than this is cut (the tables have the whole value).
_TIP_CHARS = 200


class Chart(Image):
    """A PNG chart that also carries its interactive Bokeh version (``json_item``).

    Jupyter shows the PNG; `nbcatalog.reports` shows the Bokeh version in HTML
    reports and keeps the PNG for print. `bokeh_item` is None when Bokeh could
    not draw it (the PNG alone is still a complete chart).

    Example:
        >>> Chart(b"\\x89PNG...", None)._repr_mimebundle_()
        {}
    """

    def __init__(self, png: bytes, bokeh_item: dict | None = None):
        super().__init__(data=png, format="png")
        self.bokeh_item = bokeh_item

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # IPython adds image/png and text/plain from Image's own formatters. The item
        # goes as text: nbformat sorts the keys of JSON it writes, and Bokeh's
        # documents define a model where it is first met, so their order matters.
        if not self.bokeh_item:
            return {}
        return {CHART_MIME: {"json_item": json.dumps(self.bokeh_item, separators=(",", ":"))}}


def _tip(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= _TIP_CHARS else text[: _TIP_CHARS - 1] + "…"


def bokeh_item(fig: object) -> dict | None:
    """`fig` as Bokeh's ``json_item``; None (and the PNG alone) if Bokeh fails on it.

    Example:
        >>> bokeh_item(None) is None
        True
    """
    if fig is None:
        return None
    try:
        from bokeh.embed import json_item

        return json_item(fig)
    except Exception:  # an interactive twin is a bonus: never fail the chart for it
        return None


def _png(fig: Figure) -> Image:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # Log text in scripts the font lacks (CJK, emoji) draws as boxes; the warning
        # matplotlib gives for each glyph would land in the report as noise.
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")


@lazy_chart
def timeline(
    data: pd.DataFrame,
    *,
    time: str = "TimeGenerated",
    group: str | None = None,
    colour_by: str | None = None,
    title: str = "Timeline",
    hover: list[str] | None = None,
) -> Chart | Note:
    """Events on a time axis, one lane per value of `group` (the commonest lanes first).

    `colour_by` names a column whose values colour the points (a legend says which);
    Failure is always red and Success green. In the HTML report the chart zooms and
    pans along time and hovering a point shows its time, lane, colour value and
    the `hover` columns.

    Returns a `Chart` (PNG + Bokeh), or a `Note` saying why there is nothing to draw.

    Example:
        timeline(related_alerts.data, group="AlertDisplayName", title="Alerts on WKSTN-042")
    """
    if data is None or data.empty or time not in data.columns:
        return Note("info", f"{title}: no events to draw")
    times = pd.to_datetime(data[time], utc=True, errors="coerce")
    if group and group in data.columns:
        lanes = data[group].map(_short)
    else:
        lanes = pd.Series("events", index=data.index)
    hue = data[colour_by].map(_short) if colour_by and colour_by in data.columns else ""
    frame = pd.DataFrame({"t": times, "lane": lanes, "hue": hue}).dropna(subset=["t"])
    if frame.empty:
        return Note("info", f"{title}: no events with a time to draw")
    order = frame["lane"].value_counts().index.tolist()
    if len(order) > MAX_LANES:
        keep = set(order[: MAX_LANES - 1])
        frame["lane"] = frame["lane"].where(frame["lane"].isin(keep), "(other)")
        order = order[: MAX_LANES - 1] + ["(other)"]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(9, 1.0 + 0.35 * len(order)))
        ax = fig.add_subplot()
        palette = _palette(frame["hue"].unique().tolist()) if colour_by else {}
        colours = matplotlib.colormaps["tab10"]
        for i, lane in enumerate(order):
            pts = frame[frame["lane"] == lane]
            # Failures and high severities drawn last, so they stay visible on top.
            for hue in sorted(pts["hue"].unique(), key=lambda h: (h in ("Failure", "High"), h)):
                part = pts[pts["hue"] == hue]
                # Times as naive UTC: matplotlib's date axis then labels them in UTC.
                ax.scatter(
                    part["t"].dt.tz_localize(None),
                    [i] * len(part),
                    s=28,
                    color=palette.get(hue, colours(i % 10)),
                    label=hue if colour_by else None,
                )
        if palette:
            handles = {h.get_label(): h for h in ax.collections}
            ax.legend(
                handles.values(),
                handles.keys(),
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),  # outside the axes: never hides a point
                fontsize=8,
            )
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.margins(x=0.04)  # keep the first and last points whole
        ax.set_yticks(range(len(order)), labels=order)
        ax.set_ylim(-0.7, len(order) - 0.3)
        ax.invert_yaxis()
        ax.set_xlabel("time (UTC)")
        ax.set_title(_short(title))
        ax.grid(axis="x", color="#eee")
    full = data.loc[frame.index]
    tips = {"Lane": full[group].map(_tip) if group and group in data.columns else frame["lane"]}
    if colour_by and colour_by in data.columns:
        tips[colour_by] = full[colour_by].map(_tip)
    for column in hover or []:
        if column in data.columns and column not in tips:
            tips[column] = full[column].map(_tip)
    interactive = bokeh_item(_bokeh_timeline(frame, order, palette, tips, title))
    return Chart(_png(fig).data, interactive)


def _colour_hex(colour: object) -> str:
    return matplotlib.colors.to_hex(colour)


def _bokeh_timeline(
    frame: pd.DataFrame,
    order: list[str],
    palette: dict[str, object],
    tips: dict[str, pd.Series],
    title: str,
) -> object:
    """The Bokeh twin of `timeline`: same lanes and colours, hover, x zoom and pan."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    colours = matplotlib.colormaps["tab10"]
    lane_colour = {lane: colours(i % 10) for i, lane in enumerate(order)}
    source = ColumnDataSource(
        {
            "t": frame["t"].dt.tz_localize(None).to_numpy(),
            "lane": frame["lane"].tolist(),
            "colour": [
                _colour_hex(palette.get(h, lane_colour[lane]))
                for lane, h in zip(frame["lane"], frame["hue"], strict=True)
            ],
            **{f"tip{i}": s.tolist() for i, s in enumerate(tips.values())},
        }
    )
    fig = figure(
        title=_tip(title),
        x_axis_type="datetime",
        y_range=list(reversed(order)),
        height=max(180, 70 + 26 * len(order)),
        sizing_mode="stretch_width",
        tools="xwheel_zoom,xpan,box_zoom,reset",
        active_scroll="xwheel_zoom",
        toolbar_location="above",
    )
    fig.scatter("t", "lane", source=source, size=9, color="colour", alpha=0.85)
    rows = [(name, f"@tip{i}") for i, name in enumerate(tips)]
    fig.add_tools(
        HoverTool(
            tooltips=[("Time (UTC)", "@t{%F %T}"), *rows],
            formatters={"@t": "datetime"},
        )
    )
    fig.xaxis.axis_label = "time (UTC)"
    fig.yaxis.major_label_text_font_size = "8pt"
    return fig


def _palette(values: list[str]) -> dict[str, str]:
    fixed = {
        "Failure": "#d62728",
        "Success": "#2ca02c",
        "High": "#d62728",
        "Medium": "#ff7f0e",
        "Low": "#1f77b4",
        "Informational": "#7f7f7f",
    }
    colours = matplotlib.colormaps["tab10"]
    others = [v for v in sorted(values) if v not in fixed]
    return {
        **{v: fixed[v] for v in values if v in fixed},
        **{v: colours(i % 10) for i, v in enumerate(others)},
    }


@lazy_chart
def bar(counts: pd.Series, *, title: str = "Counts", xlabel: str = "count") -> Image | Note:
    """A horizontal bar chart of `counts` (index: labels), largest first.

    Example:
        bar(activity.groupby("Source")["Events"].sum(), title="Events by source")
    """
    if counts is None or counts.empty:
        return Note("info", f"{title}: nothing to draw")
    counts = counts.sort_values(ascending=False).head(MAX_LANES * 2)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(8, 1.0 + 0.3 * len(counts)))
        ax = fig.add_subplot()
        ax.barh([_short(i) for i in counts.index], counts.values, color="#4c72b0")
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(_short(title))
    return _png(fig)
