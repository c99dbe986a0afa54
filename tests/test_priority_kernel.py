"""The priority kernel against pymcdm (same matrix, same weights, to 1e-9) and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from pymcdm import normalizations as nz
from pymcdm import weights as pw
from pymcdm.methods import TOPSIS, WSM
from pymcdm.weights.subjective import AHP
from scipy.stats import entropy as shannon

from smecluster.analytics import priority as k

PYMCDM_NORMS = {"minmax": nz.minmax_normalization, "max": nz.max_normalization,
                "vector": nz.vector_normalization, "sum": nz.sum_normalization}


def _case(seed: int, n: int = 40, m: int = 7):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 50.0, (n, m))
    types = np.where(rng.random(m) < 0.35, -1, 1)
    types[0] = 1
    types[1] = -1
    w = rng.dirichlet(np.ones(m))
    return x, types, [("cost" if t < 0 else "benefit") for t in types], w


@pytest.mark.parametrize("method", sorted(PYMCDM_NORMS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_topsis_and_weighted_sum_match_pymcdm(method, seed):
    """TOPSIS closeness and the weighted sum equal pymcdm's on the same matrix, weights and directions."""
    x, types, directions, w = _case(seed)
    n = k.normalise(x, directions, method).values
    ref_topsis = TOPSIS(PYMCDM_NORMS[method])(x, w, types)
    ref_wsm = WSM(PYMCDM_NORMS[method])(x, w, types)
    assert np.max(np.abs(k.topsis(n, w) - ref_topsis)) < 1e-9
    assert np.max(np.abs(k.weighted_sum(n, w) - ref_wsm)) < 1e-9


def test_per_indicator_normalisations_match_pymcdm():
    """Each column with its own normalisation: pymcdm given the same list of normalisations agrees."""
    x, types, directions, w = _case(7, m=8)
    methods = ["minmax", "max", "vector", "sum", "minmax", "vector", "max", "minmax"]
    n = k.normalise(x, directions, methods).values
    ref = TOPSIS([PYMCDM_NORMS[m] for m in methods])(x, w, types)
    assert np.max(np.abs(k.topsis(n, w) - ref)) < 1e-9


def test_batched_topsis_equals_pymcdm_for_every_draw():
    """One batched TOPSIS over many weight vectors equals pymcdm called once per vector."""
    x, types, directions, w = _case(11, n=25, m=6)
    n = k.normalise(x, directions, "minmax").values
    draws = k.weight_draws(w, 300, 50.0, 5)
    batch = k.topsis_batch(n, draws)
    ref = np.stack([TOPSIS(nz.minmax_normalization)(x, d, types) for d in draws])
    assert batch.shape == (300, 25)
    assert np.max(np.abs(batch - ref)) < 1e-9


def test_entropy_and_critic_match_pymcdm_on_the_same_matrix():
    """Objective weights equal pymcdm's entropy_weights and critic_weights on the same positive matrix."""
    x, _, directions, _ = _case(4)
    m = k.normalise(x, directions, "max").values + 0.05  # strictly positive: pymcdm's entropy needs it
    assert np.max(np.abs(k.entropy_weights(m) - pw.entropy_weights(m))) < 1e-9
    assert np.max(np.abs(k.critic_weights(m) - pw.critic_weights(m))) < 1e-9


def test_entropy_takes_zero_log_zero_as_zero():
    """With zeros (every min-max column has one) entropy follows Shannon's 0 ln 0 = 0 (scipy), not pymcdm's
    whole-column fallback."""
    x, _, directions, _ = _case(5, n=12, m=4)
    m = k.minmax(x, directions)
    assert (m == 0).any(axis=0).all()
    e = shannon(m, axis=0) / np.log(m.shape[0])
    expected = (1 - e) / (1 - e).sum()
    assert np.max(np.abs(k.entropy_weights(m) - expected)) < 1e-12


def test_ahp_matches_pymcdm_and_refuses_inconsistency():
    """AHP weights and CR equal pymcdm's; a matrix with CR >= 0.1 is refused with the CR in the message."""
    good = [[1, 2, 3, 3, 4], [1 / 2, 1, 2, 2, 3], [1 / 3, 1 / 2, 1, 1, 2], [1 / 3, 1 / 2, 1, 1, 2],
            [1 / 4, 1 / 3, 1 / 2, 1 / 2, 1]]
    result = k.ahp(good)
    ref = AHP(matrix=np.array(good))
    assert np.max(np.abs(result.weights - ref())) < 1e-9
    assert abs(result.cr - ref.get_cr()) < 1e-9
    bad = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a: circular judgements
    assert AHP(matrix=np.array(bad, dtype=float)).get_cr() >= 0.1
    with pytest.raises(k.AhpError, match=r"inconsistent: consistency ratio CR = \d+\.\d+.*below 0.1"):
        k.ahp(bad, source="pack.yaml")
    with pytest.raises(k.AhpError) as refused:
        k.ahp([[1, 2], [3, 1]])
    # the pair named both ways round: a[1][2] and its mirror a[2][1]
    assert str(refused.value) == "the AHP matrix is not reciprocal: a[1][2] = 2 but a[2][1] = 3 (must be 1/2)"


def test_constant_and_all_zero_columns_get_no_weight_and_change_no_closeness():
    """A constant and an all-zero column: weight 0, no NaN, and TOPSIS as pymcdm's without those columns."""
    x, types, directions, w = _case(8, n=15, m=5)
    wide = np.column_stack([x, np.full(15, 7.0), np.zeros(15)])
    dirs = directions + ["benefit", "cost"]
    expert = np.append(w * 0.8, [0.1, 0.1])
    scored = k.score(wide, dirs, "minmax", expert)
    assert scored.normalised.constant.tolist() == [False] * 5 + [True, True]
    assert scored.weights.combined[5:].tolist() == [0.0, 0.0]
    assert abs(scored.weights.combined.sum() - 1) < 1e-12
    assert np.isfinite(scored.topsis).all() and np.isfinite(scored.weighted_sum).all()
    ref = TOPSIS(nz.minmax_normalization)(x, w / w.sum(), types)
    assert np.max(np.abs(scored.topsis - ref)) < 1e-9
    assert np.isfinite(k.entropy_weights(k.minmax(wide, dirs))).all()
    assert np.isfinite(k.critic_weights(k.minmax(wide, dirs))).all()


def test_missing_value_takes_the_worst_value_of_its_column():
    """A missing benefit cell scores as the column minimum, a missing cost cell as the maximum."""
    x = np.array([[1.0, 5.0], [np.nan, 3.0], [4.0, np.nan], [2.0, 1.0]])
    norm = k.normalise(x, ["benefit", "cost"], "minmax")
    assert norm.filled[1, 0] == 1.0 and norm.filled[2, 1] == 5.0
    assert norm.imputed.tolist() == [[False, False], [True, False], [False, True], [False, False]]
    assert norm.values[1, 0] == 0.0 and norm.values[2, 1] == 0.0
    assert np.isfinite(norm.values).all()


def test_single_cluster_and_all_equal_clusters_give_no_nan():
    """One cluster scores 1; clusters equal everywhere all score 0.5 and share rank 1."""
    one = k.score(np.array([[3.0, 4.0]]), ["benefit", "cost"], "minmax", np.array([0.5, 0.5]))
    assert one.topsis.tolist() == [1.0]
    same = k.score(np.ones((4, 3)), ["benefit"] * 3, "minmax", np.full(3, 1 / 3))
    assert same.topsis.tolist() == [0.5] * 4
    assert k.ranks(same.topsis).tolist() == [1, 1, 1, 1]
    assert "objective_undefined" in same.weights.notes


def test_no_cluster_gives_empty_results():
    """No recognised cluster: empty scores and intervals, no error."""
    empty = k.score(np.zeros((0, 3)), ["benefit"] * 3, "minmax", np.full(3, 1 / 3))
    assert empty.topsis.shape == (0,) and empty.weighted_sum.shape == (0,)
    st = k.stability(np.zeros((0, 3)), np.full(3, 1 / 3), top_n=2, draws=100)
    assert st.rank_p05.shape == (0,) and st.p_top_n.shape == (0,)


def test_ranks_share_the_best_rank_on_ties():
    """Competition ranking: 0.9, 0.5, 0.5, 0.1 -> 1, 2, 2, 4."""
    assert k.ranks(np.array([0.5, 0.9, 0.1, 0.5])).tolist() == [2, 1, 4, 2]


def test_stability_equals_ranks_counted_one_draw_at_a_time():
    """Rank intervals and top-N probabilities from the batched path equal those from pymcdm, draw by draw."""
    x, types, directions, w = _case(21, n=12, m=5)
    n = k.normalise(x, directions, "minmax").values
    st = k.stability(n, w, top_n=4, draws=400, concentration=30.0, seed=9)
    draws = k.weight_draws(w, 400, 30.0, 9)
    ranks = np.stack([(-TOPSIS(nz.minmax_normalization)(x, d, types)).argsort().argsort() + 1 for d in draws])
    p05, p95 = np.percentile(ranks, [5, 95], axis=0, method="inverted_cdf")
    assert st.rank_p05.tolist() == p05.astype(int).tolist()
    assert st.rank_p95.tolist() == p95.astype(int).tolist()
    assert np.max(np.abs(st.p_top_n - (ranks <= 4).mean(axis=0))) < 1e-12
    assert (st.rank_p05 <= st.rank_p95).all()


def test_weight_draws_centre_on_the_chosen_weights():
    """Dirichlet draws: each sums to 1, zero weights stay 0, the mean is the chosen vector."""
    w = np.array([0.5, 0.3, 0.2, 0.0])
    d = k.weight_draws(w, 20000, 200.0, 1)
    assert np.allclose(d.sum(axis=1), 1.0)
    assert (d[:, 3] == 0).all()
    assert np.max(np.abs(d.mean(axis=0) - w)) < 0.002


def test_a_weight_at_the_zero_tolerance_is_zero_in_the_draws():
    """A weight of EPS (the kernel's zero) is drawn as a zero weight: the same seeded draws as with 0 there."""
    at_eps = k.weight_draws(np.array([k.EPS, 0.5, 0.5]), 50, 50.0, 7)
    zero = k.weight_draws(np.array([0.0, 0.5, 0.5]), 50, 50.0, 7)
    assert np.array_equal(at_eps, zero) and (at_eps[:, 0] == 0).all()


def test_swap_change_is_where_the_two_clusters_trade_places():
    """Just beyond the reported weight the first-out cluster beats the last-in one (pymcdm's TOPSIS), just
    before it does not; and no single weight is closer to its current value with that effect."""
    x, types, directions, w = _case(31, n=10, m=5)
    n = k.normalise(x, directions, "minmax").values
    c = k.topsis(n, w)
    order = np.argsort(-c)
    a, b = int(order[2]), int(order[3])
    change = k.swap_change(n, w, a, b)
    assert change is not None
    j, t = change.indicator, change.weight_to
    step = 1e-6 * np.sign(t - w[j])
    beyond = TOPSIS(nz.minmax_normalization)(x, k.rescaled(w, j, np.array([t + step]))[0], types)
    before = TOPSIS(nz.minmax_normalization)(x, k.rescaled(w, j, np.array([t - step]))[0], types)
    assert beyond[b] > beyond[a] and before[b] < before[a]
    for other in range(5):  # no other single weight swaps them with a smaller change
        ts = np.linspace(w[other] - abs(t - w[j]) * 0.999, w[other] + abs(t - w[j]) * 0.999, 201)
        ts = ts[(ts >= 0) & (ts <= 1)]
        scores = k.topsis_batch(n, k.rescaled(w, other, ts))
        assert not (scores[:, b] > scores[:, a] + 1e-12).any()


def test_normalisation_refuses_negative_values_where_it_needs_positives():
    """A growth rate below zero under 'vector' is refused, naming the column; minmax takes it."""
    x = np.array([[0.1, -0.2], [0.3, 0.4]])
    with pytest.raises(ValueError, match="column 1"):
        k.normalise(x, ["benefit", "benefit"], "vector")
    assert np.isfinite(k.normalise(x, ["benefit", "benefit"], "minmax").values).all()


def test_critic_weights_of_two_firms_by_hand():
    """Two alternatives are enough for CRITIC. Rescaled, every varying column is (0, 1) or (1, 0), with one
    standard deviation, so weights go as sum_k (1 - r_jk): a and b agree (r 1) and oppose c (r -1), the
    constant d has weight 0 and correlation 0: a, b: 0 + 2 + 1 = 3; c: 2 + 2 + 1 = 5; over 11."""
    m = np.array([[0.0, 2.0, 9.0, 5.0], [1.0, 4.0, 3.0, 5.0]])
    assert np.allclose(k.critic_weights(m), [3 / 11, 3 / 11, 5 / 11, 0.0])
    assert np.array_equal(k.critic_weights(m[:1]), np.zeros(4))  # one firm: no spread, no weight
