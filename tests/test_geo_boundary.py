"""Reading uploaded boundaries: GeoJSON, KML, zipped shapefile; repair and rejection."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import shapely

from smecluster.geo.area import area_km2
from smecluster.geo.footprint import BoundaryError, read_boundary

SQUARE = [[119.40, 31.40], [119.45, 31.40], [119.45, 31.45], [119.40, 31.45], [119.40, 31.40]]


def test_geojson_feature_collection(tmp_path):
    """A GeoJSON file with one polygon feature reads back as that polygon, without warnings."""
    path = tmp_path / "park.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
                    }
                ],
            }
        )
    )
    geom, warnings = read_boundary(path)
    assert warnings == []
    assert geom.equals(shapely.Polygon(SQUARE))


def test_kml_polygon():
    """A KML Placemark polygon reads as the same polygon."""
    coords = " ".join(f"{x},{y},0" for x, y in SQUARE)
    kml = (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon><outerBoundaryIs><LinearRing>'
        f"<coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>"
    )
    geom, _ = read_boundary(kml)
    assert geom.equals(shapely.Polygon(SQUARE))


def test_zipped_shapefile_in_projected_crs(tmp_path):
    """A zipped shapefile in UTM 50N with a .prj is read and transformed to WGS-84 lon/lat."""
    import shapefile
    from pyproj import CRS, Transformer

    utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    ring = [list(utm.transform(x, y)) for x, y in SQUARE]
    shp, shx, dbf = io.BytesIO(), io.BytesIO(), io.BytesIO()
    with shapefile.Writer(shp=shp, shx=shx, dbf=dbf, shapeType=shapefile.POLYGON) as w:
        w.field("name", "C")
        w.poly([ring[::-1]])  # shapefile outer rings are clockwise
        w.record("park")
    path = tmp_path / "park.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for ext, buf in ((".shp", shp), (".shx", shx), (".dbf", dbf)):
            zf.writestr("park" + ext, buf.getvalue())
        zf.writestr("park.prj", CRS("EPSG:32650").to_wkt("WKT1_ESRI"))
    geom, _ = read_boundary(path)
    assert area_km2(geom) == pytest.approx(area_km2(shapely.Polygon(SQUARE)), rel=1e-4)
    assert geom.bounds[0] == pytest.approx(119.40, abs=1e-6)


def test_self_intersecting_polygon_repaired_with_warning():
    """A bow-tie polygon is repaired into its two triangles, with a warning naming the problem."""
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[119.4, 31.4], [119.5, 31.5], [119.5, 31.4], [119.4, 31.5], [119.4, 31.4]]],
    }
    geom, warnings = read_boundary(json.dumps(bowtie))
    assert geom.is_valid and len(shapely.get_parts(geom)) == 2
    assert any("Self-intersection" in w for w in warnings)


def test_clockwise_ring_reoriented_with_warning():
    """A clockwise outer ring is accepted, re-oriented counter-clockwise, with a warning."""
    geom, warnings = read_boundary(json.dumps({"type": "Polygon", "coordinates": [SQUARE[::-1]]}))
    assert geom.exterior.is_ccw
    assert any("clockwise" in w for w in warnings)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"type": "FeatureCollection", "features": []}, "empty"),
        ({"type": "Point", "coordinates": [119.4, 31.4]}, "not a polygon"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[500000, 3470000], [501000, 3470000], [501000, 3471000], [500000, 3470000]]],
            },
            "projected",
        ),
        ({"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE]]}, "lat/lon"),
    ],
)
def test_unusable_boundaries_rejected(payload, reason):
    """Empty, non-polygon, projected and swapped input is rejected with the reason."""
    with pytest.raises(BoundaryError, match=reason):
        read_boundary(json.dumps(payload))


def test_missing_file_named():
    """A missing boundary file is an error that names the path."""
    with pytest.raises(BoundaryError, match="nowhere.geojson: no such file"):
        read_boundary("nowhere.geojson")
