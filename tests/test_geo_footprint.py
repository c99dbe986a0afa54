"""Footprints from member points, areas, and containment in the county."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from smecluster.geo.area import area_km2
from smecluster.geo.footprint import containment, footprint_from_points, points_in_county


def test_area_of_one_degree_cell_at_equator():
    """A 1 x 1 degree cell at the equator has the known ellipsoidal area of about 12,308 km2."""
    # Closed form on the WGS-84 ellipsoid: authalic band area between 0 and 1 degree times 1/360.
    a, f = 6378137.0, 1 / 298.257223563
    e = math.sqrt(f * (2 - f))

    def q(phi: float) -> float:
        s = math.sin(phi)
        return (1 - e * e) * (s / (1 - e * e * s * s) - math.log((1 - e * s) / (1 + e * s)) / (2 * e))

    expected = a * a / 2 * (q(math.radians(1)) - q(0)) * math.radians(1) / 1e6
    # The cell's north edge is a parallel, not a geodesic: densify so the polygon follows it.
    assert area_km2(shapely.box(0, 0, 1, 1).segmentize(0.001)) == pytest.approx(expected, rel=1e-6)
    assert 12300 < expected < 12320


def test_small_square_area():
    """A 1 km x 1 km square drawn in a local metric projection measures 1 km2."""
    from smecluster.geo.projection import LocalProjection

    proj = LocalProjection(119.48, 31.42)
    square = proj.to_lonlat(shapely.box(0, 0, 1000, 1000).segmentize(50))
    assert area_km2(square) == pytest.approx(1.0, rel=1e-4)


@pytest.fixture
def park() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return 119.48 + rng.uniform(-0.02, 0.02, 300), 31.42 + rng.uniform(-0.02, 0.02, 300)


@pytest.mark.parametrize("method", ["concave", "buffer", "convex"])
def test_footprint_covers_members(park, method):
    """Every method's footprint is a polygon that covers all member points."""
    fp = footprint_from_points(*park, method=method)
    assert fp.geom_type in ("Polygon", "MultiPolygon")
    assert shapely.intersects_xy(fp.buffer(1e-7), *park).all()  # 1 cm: projection round trip


def test_concave_hull_is_no_larger_than_convex(park):
    """The concave hull's area does not exceed the convex hull's, and is near the park's 16 km2."""
    concave = area_km2(footprint_from_points(*park, "concave", 0.3))
    convex = area_km2(footprint_from_points(*park, "convex"))
    assert concave <= convex + 1e-9
    assert 10 < convex < 17


def test_two_points_still_give_an_area():
    """Too few points for a hull fall back to buffered points, which have an area."""
    fp = footprint_from_points([119.48, 119.49], [31.42, 31.42])
    assert area_km2(fp) > 0.1


def test_unknown_method_rejected(park):
    """An unknown footprint method is a clear error."""
    with pytest.raises(ValueError, match="unknown footprint method"):
        footprint_from_points(*park, method="alpha")


def test_footprint_inside_its_county(park):
    """A footprint around Liyang's centre is inside county 320481 and not inside Changshu."""
    fp = footprint_from_points(*park)
    assert containment(fp, "320481").inside
    assert not containment(fp, "320581").inside


def test_member_outside_county_fails_containment(park):
    """Adding one member located in Changshu makes the footprint leave Liyang."""
    lon, lat = np.append(park[0], 120.75), np.append(park[1], 31.65)
    fp = footprint_from_points(lon, lat, "convex")
    result = containment(fp, "320481")
    assert not result.inside and result.outside_km2 > 1


def test_points_in_county_with_tolerance():
    """A point 100 m outside the county passes with a 300 m tolerance, fails with none."""
    from smecluster.geo.footprint import county_geometry
    from smecluster.geo.projection import LocalProjection

    county = county_geometry("320481")
    c = county.centroid
    proj = LocalProjection(round(c.x, 2), round(c.y, 2))
    largest = max(shapely.get_parts(proj.to_metric(county)), key=lambda g: g.area)
    ring = largest.exterior
    edge = ring.interpolate(0.3, normalized=True)
    outward = proj.to_lonlat(shapely.Point(edge.x, edge.y).buffer(100).exterior)
    # The point of that 100 m circle farthest from the county's interior.
    coords = np.asarray(outward.coords)
    dist = shapely.distance(county, shapely.points(coords))
    x, y = coords[np.argmax(dist)]
    assert not points_in_county([x], [y], "320481", tolerance_m=0)[0]
    assert points_in_county([x], [y], "320481", tolerance_m=300)[0]
