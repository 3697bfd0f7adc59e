"""Charts for logon notebooklets: success/failure bars, the logon matrix heat map, a map.

Drawn like `nblib.plots` (static PNG, mathtext off, labels shortened and taken as
text), with which they share the image helpers. The map of remote addresses is
`nblib.maps.ip_map` (offline, static), coloured by whether an address failed.

Example:
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"Account": ["bob"], "Success": [3], "Failure": [1]})
    >>> type(result_bars(counts, "Account", title="Logons by account")).__name__
    'Image'
"""

from __future__ import annotations

import matplotlib
import pandas as pd
from IPython.display import HTML, Image
from matplotlib.figure import Figure

from nbcatalog.lazycharts import lazy_chart
from nbcatalog.nblib.findings import Note
from nbcatalog.nblib.plots import _RC, MAX_LANES, _png, _short

RESULT_COLOURS = {"Success": "#2ca02c", "Failure": "#d62728"}


@lazy_chart
def result_bars(counts: pd.DataFrame, label: str | list[str], *, title: str) -> Image | Note:
    """Horizontal bars of successes and failures per row of `counts` (from `success_rate`).

    `label` names the column(s) that label the bars; the success rate is written at
    the end of each bar. Rows past the 24 busiest are left out (the title says so).
    """
    if counts is None or counts.empty:
        return Note("info", f"{title}: nothing to draw")
    labels = [label] if isinstance(label, str) else list(label)
    shown = counts.head(MAX_LANES * 2)
    names = [" / ".join(_short(v) for v in row) for row in shown[labels].itertuples(index=False)]
    if len(counts) > len(shown):
        title = f"{title} (the {len(shown)} busiest of {len(counts)})"
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(8, 1.2 + 0.3 * len(shown)))
        ax = fig.add_subplot()
        success = shown.get("Success", pd.Series(0, index=shown.index)).to_numpy()
        failure = shown.get("Failure", pd.Series(0, index=shown.index)).to_numpy()
        ax.barh(names, success, color=RESULT_COLOURS["Success"], label="Success")
        ax.barh(names, failure, left=success, color=RESULT_COLOURS["Failure"], label="Failure")
        for i, (ok, bad) in enumerate(zip(success, failure, strict=True)):
            total = ok + bad
            rate = f"{100 * ok / total:.0f}% success" if total else ""
            ax.text(total, i, f"  {rate}", va="center", fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("logon attempts")
        ax.margins(x=0.15)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        ax.set_title(_short(title))
    return _png(fig)


@lazy_chart
def matrix_heatmap(
    matrix: pd.DataFrame, *, rows: str = "Account", title: str = "Logon matrix"
) -> Image | Note:
    """A heat map of attempt counts: `rows` down, logon process and result across.

    `matrix` is `logons.logon_matrix(...)` (columns Account, LogonProcessName,
    LogonResult, Count). Only the busiest rows are drawn; the table has them all.
    """
    if matrix is None or matrix.empty:
        return Note("info", f"{title}: nothing to draw")
    across = matrix["LogonProcessName"].map(_short) + " · " + matrix["LogonResult"].map(_short)
    grid = matrix.assign(Across=across, Down=matrix[rows].map(_short)).pivot_table(
        index="Down", columns="Across", values="Count", aggfunc="sum", fill_value=0
    )
    busiest = grid.sum(axis=1).sort_values(ascending=False).index[: MAX_LANES * 2]
    grid = grid.loc[busiest]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(2.5 + 1.1 * grid.shape[1], 1.2 + 0.3 * grid.shape[0]))
        ax = fig.add_subplot()
        image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds")
        ax.set_xticks(range(grid.shape[1]), labels=list(grid.columns), rotation=30, ha="right")
        ax.set_yticks(range(grid.shape[0]), labels=list(grid.index))
        peak = grid.to_numpy().max() or 1
        for (i, j), value in pd.DataFrame(grid.to_numpy()).stack().items():
            if value:
                colour = "white" if value > peak / 2 else "black"
                ax.text(j, i, str(int(value)), ha="center", va="center", fontsize=7, color=colour)
        fig.colorbar(image, ax=ax, label="attempts")
        ax.set_title(_short(title))
    return _png(fig)


@lazy_chart
def address_map(addresses: pd.DataFrame, *, title: str = "Logon sources") -> Image | Note:
    """A world map of the located remote addresses, sized by attempts, red where any failed.

    `addresses` is `logons.remote_addresses(...)`; drawn offline by `nblib.maps.ip_map`.
    Addresses without a location (private, documentation, or not in the GeoIP data)
    are not drawn: the table lists them.
    """
    if addresses is None or addresses.empty:
        return Note("info", f"{title}: no remote addresses to map")
    from nbcatalog.nblib.maps import ip_map

    failed = pd.to_numeric(addresses["Failure"], errors="coerce").fillna(0) > 0
    marked = addresses.assign(Result=failed.map({True: "failures", False: "successes only"}))
    located = marked.dropna(subset=["Latitude", "Longitude"])
    if located.empty:
        return Note(
            "info",
            f"{title}: none of the {len(addresses)} remote addresses has a location "
            "(private, documentation and reserved addresses are not located)",
        )
    return ip_map(located, weight="Total", category="Result", title=title)


@lazy_chart
def side_by_side(*charts: Image | Note | HTML) -> HTML:
    """Several charts (or the notes standing in for them) as one display, one under another.

    Used where one result name holds several charts (msticnb's `plots`).
    """
    import base64

    parts = []
    for chart in charts:
        if isinstance(chart, Image):
            data = base64.b64encode(chart.data).decode("ascii")
            parts.append(f'<div><img src="data:image/png;base64,{data}"/></div>')
        else:
            parts.append(chart._repr_html_() if hasattr(chart, "_repr_html_") else chart.data)
    return HTML("".join(parts))
