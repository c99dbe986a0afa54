"""Relatedness: location quotients, proximity, density and complexity, checked against the `ecomplexity`
package (Growth Lab) on the same matrix, and against definitions worked by hand on a tiny one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from smecluster.analytics.relatedness import eci, growth_options, proximity, rca, relatedness
from smecluster.services.relatedness import matrix_from_cells


def _matrix(seed: int = 7, counties: int = 60, industries: int = 40) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(3, 1.5, (counties, industries)) * (rng.random((counties, industries)) < 0.55)
    x[:, 0] += 1.0  # every county has some output and every industry some county
    x[0, :] += 1.0
    return x


def _ecomplexity(x: np.ndarray) -> pd.DataFrame:
    from ecomplexity import ecomplexity

    c, i = np.indices(x.shape)
    data = pd.DataFrame({"year": 2025, "loc": c.ravel(), "prod": i.ravel(), "val": x.ravel()})
    return ecomplexity(data, {"time": "year", "loc": "loc", "prod": "prod", "val": "val"}).sort_values(
        ["loc", "prod"])


def test_matches_ecomplexity_on_the_same_matrix():
    """RCA, M, diversity, ubiquity, density and ECI equal the ecomplexity package's on one matrix."""
    pytest.importorskip("ecomplexity")
    x = _matrix()
    ours = relatedness(x)
    theirs = _ecomplexity(x)
    shape = x.shape
    np.testing.assert_allclose(ours.rca, theirs["rca"].to_numpy().reshape(shape), rtol=1e-9)
    np.testing.assert_array_equal(ours.m, theirs["mcp"].to_numpy().reshape(shape))
    np.testing.assert_array_equal(ours.diversity, theirs["diversity"].to_numpy().reshape(shape)[:, 0])
    np.testing.assert_array_equal(ours.ubiquity, theirs["ubiquity"].to_numpy().reshape(shape)[0])
    np.testing.assert_allclose(ours.density, theirs["density"].to_numpy().reshape(shape), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.eci, theirs["eci"].to_numpy().reshape(shape)[:, 0], rtol=1e-6, atol=1e-8)


def test_proximity_matches_ecomplexity():
    """The proximity matrix equals the package's `proximity` (the min of the two conditional probabilities)."""
    pytest.importorskip("ecomplexity")
    from ecomplexity import proximity as their_proximity

    x = _matrix(seed=11)
    c, i = np.indices(x.shape)
    data = pd.DataFrame({"year": 2025, "loc": c.ravel(), "prod": i.ravel(), "val": x.ravel()})
    edges = their_proximity(data, {"time": "year", "loc": "loc", "prod": "prod", "val": "val"})
    theirs = edges.pivot(index="prod_1", columns="prod_2", values="proximity").sort_index().sort_index(axis=1)
    ours = proximity(np.nan_to_num(rca(x)) >= 1)
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-12)


def test_tiny_matrix_by_hand():
    """Three counties, three industries: LQ, M, proximity and density worked out by hand."""
    x = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 10.0], [5.0, 5.0, 0.0]])
    # totals: rows 10, 20, 10; columns 15, 15, 10; all 40.  LQ_00 = (10/10)/(15/40) = 8/3.
    r = rca(x)
    assert r[0, 0] == pytest.approx(8 / 3) and r[1, 2] == pytest.approx((10 / 20) / (10 / 40))
    rel = relatedness(x)
    # M = [[1,0,0],[0,1,1],[1,1,0]]: k_i = (2, 2, 1); U_01 = 1 -> phi_01 = 1/2; U_12 = 1 -> 1/max(2,1) = 1/2.
    np.testing.assert_array_equal(rel.m, [[1, 0, 0], [0, 1, 1], [1, 1, 0]])
    assert rel.proximity[0, 1] == pytest.approx(0.5) and rel.proximity[1, 2] == pytest.approx(0.5)
    assert rel.proximity[0, 2] == 0.0
    # County 0 into industry 1: sum_j M_0j phi_j1 / sum_j phi_j1 = (1 * 0.5) / (0.5 + 1 + 0.5) = 0.25.
    assert rel.density[0, 1] == pytest.approx(0.25)
    # Its options: industry 1 (0.25) before industry 2 (0 / 1.5 = 0).
    assert growth_options(rel, 0, top=5).tolist() == [1, 2]


def test_matrix_from_cells_sums_duplicates():
    """The dense matrix adds up (county, industry) rows and keeps labels sorted."""
    cells = pl.DataFrame({"county_code": ["320481", "320412", "320481"], "industry_code": ["3841", "3841", "3841"],
                          "output": [1.0, 2.0, 3.0]})
    mat = matrix_from_cells(cells)
    assert mat.counties == ["320412", "320481"] and mat.x.tolist() == [[2.0], [4.0]]


def test_eci_of_a_county_with_no_specialisation_is_missing_and_changes_no_other():
    """A county specialised in nothing (an all-zero row of M) has no complexity index (NaN), and the others'
    indices are those of the matrix without it."""
    m = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1], [1, 0, 1, 0]], dtype=float)
    got = eci(m)
    assert np.isnan(got[2])
    np.testing.assert_allclose(np.delete(got, 2), eci(np.delete(m, 2, axis=0)), rtol=1e-12)
