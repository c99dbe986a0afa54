"""The county index cache: keyed by the boundary data's content, loaded without parsing every piece."""

from __future__ import annotations

import numpy as np

from smecluster.geo import assign, counties
from smecluster.geo.assign import build_county_index, load_index, save_index
from smecluster.geo.counties import county_geometries


def test_cache_key_follows_boundary_content(tmp_path, monkeypatch):
    """Changed boundary bytes give another cache entry; the same bytes elsewhere give the same one."""
    monkeypatch.setenv("SMECLUSTER_CACHE_DIR", str(tmp_path / "cache"))
    first, second = tmp_path / "a.geojson", tmp_path / "b.geojson"
    first.write_text('{"features": []}')
    second.write_text('{"features": []}')
    monkeypatch.setattr(counties, "district_geojson_path", lambda: first)
    key_a = assign._cache_path(None, 0.02)
    monkeypatch.setattr(counties, "district_geojson_path", lambda: second)
    assert assign._cache_path(None, 0.02) == key_a  # same data, another file: same version
    second.write_text('{"features": [{}]}')
    assert assign._cache_path(None, 0.02) != key_a


def test_loaded_index_parses_only_the_pieces_points_fall_in(tmp_path):
    """A loaded index answers as the built one, having parsed only the border pieces its points touched."""
    index = build_county_index(county_geometries("32"), cell=0.01)
    save_index(index, tmp_path / "index")
    again = load_index(tmp_path / "index")
    assert again.pieces.done.sum() == 0
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(116.5, 121.8, 100), rng.uniform(30.8, 35.1, 100)
    assert np.array_equal(again.lookup(lon, lat), index.lookup(lon, lat))
    assert 0 < again.pieces.done.sum() < len(again.pieces) / 100
