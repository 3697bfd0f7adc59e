"""Remote addresses on a world map, drawn offline as a static PNG.

Why not folium: its HTML loads Leaflet, jQuery, Bootstrap and Font Awesome from
CDNs and its base map from a tile server, so a report would open blank (or leak
the analyst's view to third parties) on an isolated SOC network. Here the world
outline comes from the country shapes the `countryinfo` package ships (already
installed for GeoIP country centres), matplotlib draws it, and the result is one
inline image: no request, no script, nothing for hostile labels to reach.

Where the GeoIP data has a city (MaxMind GeoLite2 City), a marker is a city;
where it is country level (the bundled data: every address at the country's
centre) each AS owner of a country gets its own marker on a small spiral around
the centre, so markers do not stack. A marker is sized by its weight (e.g. flow
count) and labelled with the city or country and the number of addresses. The
chart is a `nblib.plots.Chart`: in the HTML report it zooms, pans, and hovering a
marker lists its place, AS owner and addresses.

Example:
    >>> import pandas as pd
    >>> geo = pd.DataFrame({"IpAddress": ["8.8.8.8"], "CountryCode": ["US"],
    ...                     "Latitude": [38.0], "Longitude": [-97.0]})
    >>> type(ip_map(geo, title="Remote addresses")).__name__
    'Chart'
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

import matplotlib
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from nbcatalog.lazycharts import lazy_chart
from nbcatalog.nblib.findings import Note
from nbcatalog.nblib.plots import _RC, Chart, _colour_hex, _png, _short, _tip, bokeh_item

# Marker colours by category; anything else cycles through tab10.
CATEGORY_COLOURS = {
    "TI match": "#d62728",
    "inbound": "#1f77b4",
    "outbound": "#ff7f0e",
    "inbound, outbound": "#9467bd",
}
MAX_LABELS = 15
MAX_TIP_ADDRESSES = 10
# Country-level markers of different AS owners sit this far apart (degrees).
SPREAD_DEGREES = 1.2


@lru_cache(maxsize=1)
def world_outlines() -> list[list[tuple[float, float]]]:
    """Country outlines as lists of (lon, lat) rings, from countryinfo's data files.

    Empty when countryinfo is not installed (the map then has no coastline).

    Example:
        >>> len(world_outlines()) > 150
        True
    """
    try:
        folder = resources.files("countryinfo") / "data"
    except ModuleNotFoundError:
        return []
    rings: list[list[tuple[float, float]]] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        try:
            shape = json.loads(entry.read_text(encoding="utf-8")).get("geoJSON") or {}
        except (ValueError, OSError):
            continue
        for feature in shape.get("features", []):
            geometry = feature.get("geometry") or {}
            polygons = geometry.get("coordinates") or []
            if geometry.get("type") == "Polygon":
                polygons = [polygons]
            elif geometry.get("type") != "MultiPolygon":
                continue
            for polygon in polygons:
                if polygon and len(polygon[0]) >= 3:
                    rings.append([(float(x), float(y)) for x, y, *_ in polygon[0]])
    return rings


def _text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series("", index=frame.index)
    return frame[name].astype("object").where(frame[name].notna(), "").astype(str).str.strip()


def _places(geo: pd.DataFrame, weight: str | None, category: str | None) -> pd.DataFrame:
    """One marker per place: a city when the GeoIP data has one, else one per AS owner.

    Country-level data (the bundled GeoIP file) puts every address of a country at
    its centre; stacking them hides how many owners there are, so each AS owner of
    a country gets its own marker on a small spiral around the centre (the tooltip
    says the position is approximate).
    """
    frame = geo.dropna(subset=["Latitude", "Longitude"]).copy()
    frame["w"] = pd.to_numeric(frame[weight], errors="coerce").fillna(1) if weight else 1
    frame["cat"] = frame[category].fillna("").astype(str) if category else ""
    frame["cc"] = _text_column(frame, "CountryCode")
    frame["city"] = _text_column(frame, "City")
    frame["org"] = _text_column(frame, "AsnOrg")
    frame["ip"] = _text_column(frame, "IpAddress")
    # TI matches win: a place with one listed address is drawn as a TI match.
    frame["rank"] = (frame["cat"] == "TI match").astype(int)
    frame["precise"] = frame["city"] != ""
    frame["place"] = frame["city"].where(frame["precise"], frame["org"])
    grouped = frame.groupby(["Latitude", "Longitude", "precise", "place"], as_index=False).agg(
        w=("w", "sum"),
        n=("ip", "nunique"),
        cc=("cc", lambda s: ", ".join(sorted({str(v) for v in s if v}))),
        cat=("cat", lambda s: s.loc[frame.loc[s.index, "rank"].idxmax()]),
        addresses=("ip", lambda s: ", ".join(list(dict.fromkeys(s))[:MAX_TIP_ADDRESSES])),
    )
    grouped["x"] = grouped["Longitude"].astype(float)
    grouped["y"] = grouped["Latitude"].astype(float)
    spread = ~grouped["precise"]
    for _, part in grouped[spread].groupby(["Latitude", "Longitude"]):
        # The busiest owner nearest the centre; a golden-angle spiral keeps them apart.
        for k, index in enumerate(part.sort_values("w", ascending=False).index):
            angle = math.radians(137.5 * k)
            radius = SPREAD_DEGREES * math.sqrt(k + 1)
            grouped.loc[index, "x"] += radius * math.cos(angle)
            grouped.loc[index, "y"] += radius * math.sin(angle)
    return grouped.sort_values("w", ascending=False)


@lazy_chart
def ip_map(
    geo: pd.DataFrame,
    *,
    weight: str | None = None,
    category: str | None = None,
    title: str = "Remote addresses",
):
    """A world map of the located addresses in `geo` (lookup_ips columns).

    `weight` names a column sizing the markers (e.g. Flows); `category` a column
    colouring them ("TI match" is red). Returns a `Chart` (PNG + Bokeh), or a Note when no
    address has a location.

    Example:
        ip_map(remote, weight="Flows", category="Category", title="Remote addresses of LNX-WEB01")
    """
    if geo is None or geo.empty or not {"Latitude", "Longitude"} <= set(geo.columns):
        return Note("info", f"{title}: no located addresses to draw")
    places = _places(geo, weight, category)
    if places.empty:
        return Note("info", f"{title}: none of the addresses has a location to draw")
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(10, 5.2))
        ax = fig.add_subplot()
        ax.add_collection(
            PolyCollection(
                world_outlines(), facecolors="#eef1f4", edgecolors="#a9b4bf", linewidths=0.4
            )
        )
        top = places["w"].max() or 1
        sizes = 30 + 370 * (places["w"] / top) ** 0.5
        cats = [c for c in dict.fromkeys(places["cat"]) if c is not None]
        palette = matplotlib.colormaps["tab10"]
        for i, cat in enumerate(cats):
            part = places["cat"] == cat
            ax.scatter(
                places.loc[part, "x"],
                places.loc[part, "y"],
                s=sizes[part],
                color=CATEGORY_COLOURS.get(cat, palette(i % 10)),
                alpha=0.75,
                edgecolors="white",
                linewidths=0.6,
                label=_short(cat) if cat else None,
                zorder=3 if cat != "TI match" else 4,
            )
        for row in places.head(MAX_LABELS).itertuples():
            label = _short(f"{(row.place if row.precise else row.cc) or '?'} ({row.n})")
            ax.annotate(
                label,
                (row.x, row.y),
                xytext=(5, 4),
                textcoords="offset points",
                fontsize=7,
                color="#333",
                zorder=5,
            )
        if any(cats):
            ax.legend(loc="lower left", fontsize=8, markerscale=0.5)
        ax.set_xlim(-180, 180)
        ax.set_ylim(-60, 85)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(_short(title) + f" ({int(places['n'].sum())} located)")
    colours = {
        cat: _colour_hex(CATEGORY_COLOURS.get(cat, palette(i % 10))) for i, cat in enumerate(cats)
    }
    interactive = bokeh_item(_bokeh_map(places, sizes, colours, title))
    return Chart(_png(fig).data, interactive)


def _bokeh_map(places: pd.DataFrame, sizes: pd.Series, colours: dict, title: str) -> object:
    """The Bokeh twin of `ip_map`: the same markers over country outlines, hover and zoom."""
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    fig = figure(
        title=_tip(title) + f" ({int(places['n'].sum())} located)",
        x_range=(-180, 180),
        y_range=(-60, 85),
        height=480,
        sizing_mode="stretch_width",
        match_aspect=True,
        tools="wheel_zoom,pan,box_zoom,reset",
        active_scroll="wheel_zoom",
        toolbar_location="above",
    )
    rings = world_outlines()
    fig.patches(
        [[round(x, 2) for x, _ in ring] for ring in rings],
        [[round(y, 2) for _, y in ring] for ring in rings],
        fill_color="#eef1f4",
        line_color="#a9b4bf",
        line_width=0.5,
    )
    where = [
        f"{p}, {cc}" if precise else f"{cc or '?'}: country centre, spread by AS owner"
        for p, cc, precise in zip(places["place"], places["cc"], places["precise"], strict=True)
    ]
    source = ColumnDataSource(
        {
            "x": places["x"].tolist(),
            "y": places["y"].tolist(),
            "size": (sizes / 2.2).tolist(),
            "colour": [colours.get(c, "#1f77b4") for c in places["cat"]],
            "where": [_tip(w) for w in where],
            "owner": [_tip(o) for o in places["place"].where(~places["precise"], "")],
            "category": [_tip(c) for c in places["cat"]],
            "n": places["n"].astype(int).tolist(),
            "w": places["w"].tolist(),
            "addresses": [_tip(a) for a in places["addresses"]],
        }
    )
    dots = fig.scatter(
        "x", "y", source=source, size="size", color="colour", alpha=0.75, line_color="white"
    )
    fig.add_tools(
        HoverTool(
            renderers=[dots],
            tooltips=[
                ("Location", "@where"),
                ("AS owner", "@owner"),
                ("Category", "@category"),
                ("Addresses", "@n: @addresses"),
                ("Weight", "@w"),
            ],
        )
    )
    fig.axis.visible = False
    fig.grid.visible = False
    return fig
