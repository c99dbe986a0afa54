"""Coordinate conversion between WGS-84, GCJ-02 and BD-09."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from smecluster.geo.crs import from_wgs84, gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _metres(x1, y1, x2, y2) -> np.ndarray:
    return GEOD.inv(x1, y1, x2, y2)[2]


@pytest.fixture
def china_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(74, 134, 2000), rng.uniform(19, 53, 2000)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_round_trip_within_one_metre(china_points, crs):
    """WGS-84 -> crs -> WGS-84 returns every point to within 1 m."""
    x, y = china_points
    back = to_wgs84(*from_wgs84(x, y, crs), crs)
    assert _metres(x, y, *back).max() < 1.0


def test_gcj02_inverse_matches_published_value():
    """GCJ-02 (123, 45) converts to the WGS-84 value published in gcoord's test suite."""
    x, y = gcj02_to_wgs84(123.0, 45.0)
    assert abs(float(x) - 122.99395597) < 1e-5 and abs(float(y) - 44.99804071) < 1e-5


def test_bd09_matches_published_value():
    """GCJ-02 (123, 45) converts to the BD-09 value published in gcoord's test suite."""
    x, y = gcj02_to_bd09(123.0, 45.0)
    assert abs(float(x) - 123.00636499) < 1e-6 and abs(float(y) - 45.00636899) < 1e-6


def test_gcj02_offset_in_jiangsu_is_hundreds_of_metres():
    """In Liyang the GCJ-02 offset is about 500 m east and 200 m south, as web maps show it."""
    gx, gy = wgs84_to_gcj02(119.48, 31.42)
    east = _metres(119.48, 31.42, float(gx), 31.42)
    south = _metres(119.48, 31.42, 119.48, float(gy))
    assert float(gx) > 119.48 and float(gy) < 31.42
    assert 400 < east < 600 and 100 < south < 300


def test_matches_fast_geocn_scalar_gcj02():
    """The vectorised GCJ-02 equals fast-geocn's scalar implementation point for point."""
    from fast_geocn import wgs84_to_gcj02 as scalar

    lon, lat = np.array([119.48, 116.4, 87.6]), np.array([31.42, 39.9, 43.8])
    gx, gy = wgs84_to_gcj02(lon, lat)
    expected = np.array([scalar(a, b) for a, b in zip(lon, lat, strict=True)])
    assert np.allclose(np.column_stack([gx, gy]), expected, atol=1e-12)


def test_outside_china_unchanged():
    """Points outside China are not shifted (the services apply no offset there)."""
    x, y = wgs84_to_gcj02(np.array([2.35, -74.0]), np.array([48.85, 40.7]))
    assert np.array_equal(x, [2.35, -74.0]) and np.array_equal(y, [48.85, 40.7])


def test_unknown_crs_rejected():
    """An unknown coordinate system name is a clear error."""
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84([119.0], [31.0], "epsg3857")
