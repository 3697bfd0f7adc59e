"""Remote addresses on a world map, drawn offline as a static PNG.

Why not folium: its HTML loads Leaflet, jQuery, Bootstrap and Font Awesome from
CDNs and its base map from a tile server, so a report would open blank (or leak
the analyst's view to third parties) on an isolated SOC network. Here the world
outline comes from the country shapes the `countryinfo` package ships (already
installed for GeoIP country centres), matplotlib draws it, and the result is one
inline image: no request, no script, nothing for hostile labels to reach.

The offline GeoIP data is country level (points sit at the country's centre), so
addresses at one place are drawn as one marker sized by their flow count and
labelled with the country and the number of addresses.

Example:
    >>> import pandas as pd
    >>> geo = pd.DataFrame({"IpAddress": ["8.8.8.8"], "CountryCode": ["US"],
    ...                     "Latitude": [38.0], "Longitude": [-97.0]})
    >>> type(ip_map(geo, title="Remote addresses")).__name__
    'Image'
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import matplotlib
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from nbcatalog.nblib.findings import Note
from nbcatalog.nblib.plots import _RC, _png, _short

# Marker colours by category; anything else cycles through tab10.
CATEGORY_COLOURS = {
    "TI match": "#d62728",
    "inbound": "#1f77b4",
    "outbound": "#ff7f0e",
    "inbound, outbound": "#9467bd",
}
MAX_LABELS = 15


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


def _places(geo: pd.DataFrame, weight: str | None, category: str | None) -> pd.DataFrame:
    frame = geo.dropna(subset=["Latitude", "Longitude"]).copy()
    frame["w"] = pd.to_numeric(frame[weight], errors="coerce").fillna(1) if weight else 1
    frame["cat"] = frame[category].fillna("").astype(str) if category else ""
    frame["cc"] = frame.get("CountryCode", pd.Series("", index=frame.index)).fillna("")
    # TI matches win: a place with one listed address is drawn as a TI match.
    frame["rank"] = (frame["cat"] == "TI match").astype(int)
    grouped = frame.groupby(["Latitude", "Longitude"], as_index=False).agg(
        w=("w", "sum"),
        n=("IpAddress", "nunique"),
        cc=("cc", lambda s: ", ".join(sorted({str(v) for v in s if v}))),
        cat=("cat", lambda s: s.loc[frame.loc[s.index, "rank"].idxmax()]),
    )
    return grouped.sort_values("w", ascending=False)


def ip_map(
    geo: pd.DataFrame,
    *,
    weight: str | None = None,
    category: str | None = None,
    title: str = "Remote addresses",
):
    """A world map of the located addresses in `geo` (lookup_ips columns).

    `weight` names a column sizing the markers (e.g. Flows); `category` a column
    colouring them ("TI match" is red). Returns a PNG Image, or a Note when no
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
                places.loc[part, "Longitude"],
                places.loc[part, "Latitude"],
                s=sizes[part],
                color=CATEGORY_COLOURS.get(cat, palette(i % 10)),
                alpha=0.75,
                edgecolors="white",
                linewidths=0.6,
                label=_short(cat) if cat else None,
                zorder=3 if cat != "TI match" else 4,
            )
        for row in places.head(MAX_LABELS).itertuples():
            label = _short(f"{row.cc or '?'} ({row.n})")
            ax.annotate(
                label,
                (row.Longitude, row.Latitude),
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
    return _png(fig)
