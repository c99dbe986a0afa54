"""County assignment of points with the grid index, and locating registry frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import shapely

from smecluster.geo.assign import assign_counties, build_county_index
from smecluster.geo.counties import county_geometries
from smecluster.geo.crs import from_wgs84
from smecluster.geo.locate import flag_county_mismatch, locate_frame


def test_centre_of_liyang_is_in_320481():
    """The centre of Liyang (119.48 E, 31.42 N) falls in county 320481."""
    assert assign_counties([119.48], [31.42], "32")[0] == "320481"


def test_known_places_in_their_counties():
    """Known places fall in their county: Nanjing's Yuhuatai, Changshu, Tongshan, Huishan."""
    lon = [118.78, 120.75, 117.19, 120.30]
    lat = [31.99, 31.65, 34.18, 31.68]
    assert list(assign_counties(lon, lat, "32")) == ["320114", "320581", "320312", "320206"]


def test_grid_agrees_with_exact_polygon_test():
    """On random points across Jiangsu the grid gives the same county as testing every polygon."""
    geometries = county_geometries("32")
    index = build_county_index(geometries, cell=0.02)
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(116.3, 121.9, 5000), rng.uniform(30.7, 35.2, 5000)
    codes = index.codes
    tree = shapely.STRtree([geometries[c] for c in codes])
    hit_point, hit_geom = tree.query(shapely.points(lon, lat), predicate="intersects")
    exact = np.full(len(lon), -1)
    exact[hit_point] = hit_geom
    assert np.array_equal(index.lookup(lon, lat), exact)


def test_points_outside_every_county_get_none():
    """Points in the sea, outside the province and NaN coordinates get no county."""
    codes = assign_counties([123.5, 116.4, np.nan], [32.0, 39.9, 31.0], "32")
    assert list(codes) == [None, None, None]


def test_locate_frame_adds_names_and_converts_gcj02():
    """locate_frame converts GCJ-02 input and adds province, city and county codes and names."""
    gx, gy = from_wgs84([119.48], [31.42], "gcj02")
    frame = pl.DataFrame({"firm": ["a"], "lng": gx, "lat": gy})
    out = locate_frame(frame, lon="lng", crs="gcj02", prefix="32").row(0, named=True)
    assert (out["province_code"], out["city_code"], out["county_code"]) == ("320000", "320400", "320481")
    assert (out["province_name"], out["city_name"], out["county_name"]) == ("江苏省", "常州市", "溧阳市")


def test_registered_county_mismatch_flagged():
    """A firm registered in Liyang but located in Changshu is flagged; a matching one is not."""
    registry = pl.DataFrame(
        {
            "uscc": ["a", "b"],
            "county_code": ["320481", "320481"],
            "lon": [119.48, 120.75],
            "lat": [31.42, 31.65],
        }
    )
    flagged = flag_county_mismatch(registry, prefix="32")
    assert flagged["county_mismatch"].to_list() == [False, True]


def test_index_round_trips_through_disk_cache(tmp_path):
    """An index saved and loaded again gives the same counties."""
    from smecluster.geo.assign import load_index, save_index

    index = build_county_index(county_geometries("3204"), cell=0.02)
    save_index(index, tmp_path / "index.npz")
    again = load_index(tmp_path / "index.npz")
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(119.0, 120.3, 3000), rng.uniform(31.1, 32.1, 3000)
    assert np.array_equal(index.lookup(lon, lat), again.lookup(lon, lat))
    assert (index.lookup(lon, lat) >= 0).any()


def test_locate_frame_with_per_row_coordinate_system():
    """A coordinate-system column converts each row from its own system (GCJ-02, BD-09, WGS-84)."""
    lon, lat = np.array([119.48, 120.75, 118.78]), np.array([31.42, 31.65, 31.99])
    gx, gy = from_wgs84(lon[:1], lat[:1], "gcj02")
    bx, by = from_wgs84(lon[1:2], lat[1:2], "bd09")
    frame = pl.DataFrame(
        {"lon": [gx[0], bx[0], lon[2]], "lat": [gy[0], by[0], lat[2]], "system": ["GCJ-02", "bd09", None]}
    )
    out = locate_frame(frame, crs_column="system", prefix="32")
    assert out["county_code"].to_list() == ["320481", "320581", "320114"]


def test_unknown_per_row_system_names_the_row():
    """An unknown system name in the column is an error naming the row."""
    import pytest

    frame = pl.DataFrame({"lon": [119.48, 119.48], "lat": [31.42, 31.42], "system": ["wgs84", "mercator"]})
    with pytest.raises(ValueError, match="row 2: unknown coordinate system 'mercator'"):
        locate_frame(frame, crs_column="system", prefix="32")
