"""Offline vector maps from the county boundaries: GeoJSON for the web and PNG/SVG for reports.

No tile server is involved: the only base layer is the county polygons themselves. The web map
(ECharts) takes `county_geojson`, simplified as one coverage so that neighbouring counties keep a
shared border; reports take `render_map`, drawn with matplotlib.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: maps are files, never windows

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from shapely.geometry.base import BaseGeometry  # noqa: E402

from smecluster.geo.counties import county_geometries, county_names  # noqa: E402

DEFAULT_TOLERANCE_DEG = 0.005  # about 500 m: a province map stays under 1 MB


def county_geojson(
    prefix: str | None = "32", tolerance: float = DEFAULT_TOLERANCE_DEG, digits: int = 4
) -> dict:
    """A FeatureCollection of the counties under `prefix`, simplified for web use.

    Properties: `code`, `name` (ECharts matches regions by `name`; `code` is the stable key).
    Simplification is topological (shapely.coverage_simplify), so shared borders stay shared;
    coordinates are rounded to `digits` decimals (4 = about 10 m).
    """
    geometries = county_geometries(prefix)
    codes = sorted(geometries)
    geoms = np.array([geometries[c] for c in codes], dtype=object)
    if tolerance > 0:
        geoms = shapely.coverage_simplify(geoms, tolerance)
    geoms = shapely.set_precision(geoms, 10.0**-digits)
    names = county_names(prefix)
    import json

    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": names.get(code, code)},
            "geometry": json.loads(shapely.to_geojson(g)),
        }
        for code, g in zip(codes, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _patch(geometry: BaseGeometry) -> PathPatch | None:
    """A matplotlib patch for a (multi)polygon, holes included."""
    vertices, codes = [], []
    for poly in shapely.get_parts(geometry):
        if poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            vertices.append(xy)
            codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
    if not vertices:
        return None
    return PathPatch(MplPath(np.concatenate(vertices), np.concatenate(codes)))


def render_map(
    path: str | Path,
    prefix: str | None = "32",
    values: dict[str, float] | None = None,
    points: tuple[np.ndarray, np.ndarray] | None = None,
    footprints: list[BaseGeometry] | None = None,
    title: str = "",
    legend: str = "",
    cmap: str = "YlOrRd",
) -> Path:
    """Draw the counties (a choropleth of `values` by county code when given), firm `points`
    (lon, lat arrays) and `footprints`, and save as PNG or SVG by the file's suffix."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"{path}: map export supports .png and .svg")
    geometries = county_geometries(prefix)
    codes = sorted(geometries)
    fig, ax = plt.subplots(figsize=(8, 8), dpi=150)
    patches = [_patch(geometries[c]) for c in codes]
    keep = [i for i, p in enumerate(patches) if p is not None]
    collection = PatchCollection([patches[i] for i in keep], edgecolor="#555555", linewidth=0.3)
    if values:
        data = np.array([values.get(codes[i], np.nan) for i in keep], dtype=float)
        collection.set_array(np.ma.masked_invalid(data))
        colours = matplotlib.colormaps[cmap].copy()
        colours.set_bad("#e6e6e6")  # counties without a value: light grey, not the lowest colour
        collection.set_cmap(colours)
        fig.colorbar(collection, ax=ax, shrink=0.6, label=legend)
    else:
        collection.set_facecolor("#f2f0eb")
    ax.add_collection(collection)
    if points is not None and len(points[0]):
        ax.scatter(points[0], points[1], s=0.5, c="#1f4e79", alpha=0.5, linewidths=0)
    for fp in footprints or []:
        patch = _patch(fp)
        if patch is not None:
            patch.set_facecolor("none")
            patch.set_edgecolor("#c00000")
            patch.set_linewidth(1.0)
            ax.add_patch(patch)
    minx, miny, maxx, maxy = shapely.total_bounds(list(geometries.values()))
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))  # lon/lat at the map's latitude
    ax.set_xlabel("longitude (WGS-84)")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
