"""Read an uploaded cluster boundary: GeoJSON, KML (or KMZ) or a zipped shapefile.

`read_boundary` returns one polygonal WGS-84 geometry and a list of warnings. Invalid polygons
(self-intersections, wrong ring nesting) are repaired with `make_valid` and a warning that gives the
reason and the area before and after; clockwise outer rings are re-oriented with a warning. Input
that cannot be a boundary (empty, no polygon, projected metres without a .prj, lat/lon swapped) is
rejected with a `BoundaryError` that names the source and the reason.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from smecluster.geo.area import area_km2
from smecluster.geo.crs import to_wgs84


class BoundaryError(ValueError):
    """An uploaded boundary that cannot be used, with the reason."""


def _geojson(text: str, source: str) -> list[BaseGeometry]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoundaryError(f"{source}: not valid JSON (line {exc.lineno}, column {exc.colno})") from exc
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "FeatureCollection":
        geoms = [f.get("geometry") for f in raw.get("features", [])]
    elif kind == "Feature":
        geoms = [raw.get("geometry")]
    elif kind:
        geoms = [raw]
    else:
        raise BoundaryError(f"{source}: not a GeoJSON object (no 'type')")
    try:
        return [shape(g) for g in geoms if g]
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise BoundaryError(f"{source}: malformed GeoJSON geometry ({exc})") from exc


def _kml_ring(element: ElementTree.Element | None) -> list[tuple[float, float]]:
    if element is None or not (element.text or "").strip():
        return []
    coords = []
    for token in element.text.split():
        parts = token.split(",")
        coords.append((float(parts[0]), float(parts[1])))
    return coords


def _kml(text: str | bytes, source: str) -> list[BaseGeometry]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        raise BoundaryError(f"{source}: not valid KML/XML ({exc})") from exc
    geoms: list[BaseGeometry] = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "Polygon":
            continue
        outer, holes = [], []
        for child in element:
            name = child.tag.rsplit("}", 1)[-1]
            rings = [_kml_ring(c) for c in child.iter() if c.tag.rsplit("}", 1)[-1] == "coordinates"]
            if name == "outerBoundaryIs" and rings:
                outer = rings[0]
            elif name == "innerBoundaryIs":
                holes.extend(r for r in rings if r)
        if outer:
            geoms.append(shapely.Polygon(outer, holes) if len(outer) >= 3 else shapely.LineString(outer))
    if not geoms:
        for tag in ("Point", "LineString"):
            if any(e.tag.endswith(tag) for e in root.iter()):
                raise BoundaryError(f"{source}: the KML holds a {tag}, not a polygon")
    return geoms


def _shapefile(data: bytes, source: str) -> list[BaseGeometry]:
    import shapefile  # pyshp

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        shp = [n for n in names if n.lower().endswith(".shp")]
        if not shp:
            raise BoundaryError(f"{source}: the zip file holds no .shp file")
        stem = shp[0][:-4]

        def member(ext: str) -> io.BytesIO | None:
            match = [n for n in names if n.lower() == (stem + ext).lower()]
            return io.BytesIO(zf.read(match[0])) if match else None

        prj = member(".prj")
        reader = shapefile.Reader(shp=member(".shp"), shx=member(".shx"), dbf=member(".dbf"))
        geoms = [shape(s.__geo_interface__) for s in reader.shapes() if s.shapeType != shapefile.NULL]
    if prj is not None:
        crs = CRS.from_wkt(prj.read().decode("utf-8", errors="replace"))
        if not crs.is_geographic:
            to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
            geoms = [
                shapely.transform(g, lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1])))
                for g in geoms
            ]
    return geoms


def _load(path_or_text: str | Path | bytes) -> tuple[list[BaseGeometry], str]:
    if isinstance(path_or_text, bytes):
        if path_or_text[:2] == b"PK":
            return _shapefile(path_or_text, "uploaded zip"), "uploaded zip"
        path_or_text = path_or_text.decode("utf-8-sig")
    text = str(path_or_text)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _geojson(text, "GeoJSON text"), "GeoJSON text"
    if stripped.startswith("<"):
        return _kml(stripped.encode("utf-8"), "KML text"), "KML text"
    path = Path(text)
    if not path.exists():
        raise BoundaryError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _geojson(path.read_text(encoding="utf-8-sig"), str(path)), str(path)
    if suffix == ".kml":
        return _kml(path.read_bytes(), str(path)), str(path)
    if suffix == ".kmz":
        with zipfile.ZipFile(path) as zf:
            kml = [n for n in zf.namelist() if n.lower().endswith(".kml")]
            if not kml:
                raise BoundaryError(f"{path}: the KMZ holds no .kml file")
            return _kml(zf.read(kml[0]), str(path)), str(path)
    if suffix == ".zip":
        return _shapefile(path.read_bytes(), str(path)), str(path)
    raise BoundaryError(
        f"{path}: unknown boundary format {suffix!r} (use .geojson, .kml, .kmz or a zipped .shp)"
    )


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygon parts of a geometry (a make_valid result may carry stray lines or points)."""
    parts = [g for g in shapely.get_parts(geometry) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def read_boundary(path_or_text: str | Path | bytes, crs: str = "wgs84") -> tuple[BaseGeometry, list[str]]:
    """One polygonal WGS-84 boundary and warnings from a GeoJSON/KML/KMZ/zipped-shapefile source.

    `path_or_text` is a file path, GeoJSON or KML text, or the bytes of an upload; `crs` names the
    system of lon/lat input ('wgs84', 'gcj02' for Amap/Tencent drawings, 'bd09' for Baidu).
    """
    geoms, source = _load(path_or_text)
    warnings: list[str] = []
    geoms = [g for g in geoms if not g.is_empty]
    if not geoms:
        raise BoundaryError(f"{source}: the boundary is empty")
    kinds = {g.geom_type for g in geoms}
    if not kinds & {"Polygon", "MultiPolygon"}:
        raise BoundaryError(f"{source}: not a polygon (found {', '.join(sorted(kinds))})")
    if kinds - {"Polygon", "MultiPolygon"}:
        warnings.append(
            f"ignored non-polygon parts: {', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))}"
        )
        geoms = [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")]
    coords = shapely.get_coordinates(geoms)
    if (coords[:, 1] > 70).all() and (coords[:, 1] <= 180).all() and (np.abs(coords[:, 0]) < 56).all():
        raise BoundaryError(f"{source}: coordinates look like lat/lon; GeoJSON and KML order is lon, lat")
    if np.abs(coords[:, 0]).max() > 180 or np.abs(coords[:, 1]).max() > 90:
        raise BoundaryError(f"{source}: coordinates look projected (metres); give WGS-84 lon/lat or a .prj")
    if crs != "wgs84":
        geoms = [
            shapely.transform(g, lambda c: np.column_stack(to_wgs84(c[:, 0], c[:, 1], crs))) for g in geoms
        ]
    repaired: list[BaseGeometry] = []
    clockwise = False
    for g in geoms:
        if g.is_valid:
            clockwise |= any(not p.exterior.is_ccw for p in shapely.get_parts(g))
            repaired.append(g)
            continue
        reason = shapely.is_valid_reason(g)
        fixed = _polygonal(shapely.make_valid(g))
        if fixed.is_empty:
            raise BoundaryError(f"{source}: invalid polygon ({reason}) has no area after repair")
        warnings.append(
            f"repaired invalid polygon ({reason}): area {area_km2(g):.3f} km2 as drawn, "
            f"{area_km2(fixed):.3f} km2 repaired"
        )
        repaired.append(fixed)
    geometry = shapely.union_all(repaired) if len(repaired) > 1 else repaired[0]
    geometry = _polygonal(geometry)
    if geometry.is_empty or area_km2(geometry) <= 0:
        raise BoundaryError(f"{source}: the boundary has no area")
    if clockwise:
        warnings.append("outer ring(s) were clockwise; re-oriented counter-clockwise (RFC 7946)")
    return shapely.orient_polygons(geometry), warnings
