"""Charts for notebooklets, drawn as static PNG images.

Why static images rather than interactive bokeh: a PNG renders the same in the
executed notebook (even untrusted, where Jupyter will not run scripts), in a
caller's notebook when sections are embedded, and in the offline HTML report,
at ~50 kB per chart instead of ~1.3 MB of inlined BokehJS per chart; and it
carries no JavaScript for attacker-written labels to reach. Every figure is
drawn with `text.parse_math` off, so a `$` in a log value is drawn as text
rather than parsed as mathtext (which can fail the whole cell).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"TimeGenerated": pd.to_datetime(["2024-05-01"], utc=True),
    ...                    "AlertDisplayName": ["Brute force"]})
    >>> type(timeline(df, group="AlertDisplayName", title="Alerts")).__name__
    'Image'
"""

from __future__ import annotations

import io
import warnings

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from IPython.display import Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nbcatalog.nblib.findings import Note

MAX_LANES = 12
_LABEL_CHARS = 45
_RC = {"text.parse_math": False, "text.usetex": False, "font.size": 9}


def _short(label: object) -> str:
    text = "" if label is None or (isinstance(label, float) and pd.isna(label)) else str(label)
    # Newlines and control characters in hostile labels would break the layout.
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _png(fig: Figure) -> Image:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # Log text in scripts the font lacks (CJK, emoji) draws as boxes; the warning
        # matplotlib gives for each glyph would land in the report as noise.
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return Image(data=buf.getvalue(), format="png")


def timeline(
    data: pd.DataFrame,
    *,
    time: str = "TimeGenerated",
    group: str | None = None,
    colour_by: str | None = None,
    title: str = "Timeline",
) -> Image | Note:
    """Events on a time axis, one lane per value of `group` (the commonest lanes first).

    `colour_by` names a column whose values colour the points (a legend says which);
    Failure is always red and Success green.

    Returns a PNG `Image`, or a `Note` saying why there is nothing to draw.

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
    return _png(fig)


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
