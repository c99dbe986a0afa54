"""Offline maps: simplified county GeoJSON and PNG/SVG export."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smecluster.geo.maps import county_geojson, render_map


def test_county_geojson_for_web():
    """Jiangsu's 95 counties come as a FeatureCollection with code and name, smaller when simplified."""
    full = county_geojson("32", tolerance=0)
    web = county_geojson("32", tolerance=0.01)
    assert len(web["features"]) == 95
    liyang = next(f for f in web["features"] if f["properties"]["code"] == "320481")
    assert liyang["properties"]["name"] == "溧阳市"
    assert len(json.dumps(web)) < len(json.dumps(full))


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_render_map_writes_file(tmp_path, suffix):
    """A choropleth with firms writes a non-empty PNG or SVG file."""
    path = render_map(
        tmp_path / f"map{suffix}",
        "32",
        values={"320481": 2.0},
        points=(np.array([119.48]), np.array([31.42])),
    )
    head = path.read_bytes()[:200]
    assert (b"PNG" in head) if suffix == ".png" else (b"<svg" in path.read_bytes()[:2000])


def test_render_map_rejects_other_formats(tmp_path):
    """Only PNG and SVG are offered."""
    with pytest.raises(ValueError, match="png and .svg"):
        render_map(tmp_path / "map.pdf")
