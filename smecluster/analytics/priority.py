"""Priority scoring kernel: normalisation, weights (AHP, entropy, CRITIC), TOPSIS, weighted sum, stability.

Everything here is whole-matrix NumPy over a decision matrix X (n clusters x m indicators); no loop
runs over clusters or weight draws. The service layer (smecluster.services.priority) builds X from the
registry with SQL and calls these functions; the dossiers and the web pages read their results.

Conventions (docs/decisions/1300-1303):
- Normalisation per indicator, turning every column into "higher is better": minmax, max, sum, vector,
  with the formulas of pymcdm (the tests compare to it). A column with the same value for every cluster
  (constant or all zero, or every value missing) separates nobody: it is normalised to 0, its weight is
  set to 0 and the other weights are rescaled; the note says so.
- A missing value takes the worst value of its column among the clusters that reported (never a
  reward for not reporting); the note counts the imputed cells.
- Objective weights (entropy, CRITIC) are computed on the min-max normalised matrix (direction applied),
  whatever the indicator's own normalisation, so that growth rates below zero and costs are handled.
  Entropy uses 0 * ln 0 = 0.
- TOPSIS closeness C = d- / (d+ + d-), with the ideal and anti-ideal the column max and min of the
  weighted normalised matrix; when d+ + d- = 0 (every cluster equal) C = 0.5 for all.
- Ranks: 1 = best; equal scores share the best rank of their group (competition ranking "1224").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

DIRECTIONS = ("benefit", "cost")
NORMALISATIONS = ("minmax", "max", "sum", "vector")
# Mean random consistency index by matrix order (Tummala & Ling 1998, as pymcdm uses), index = order - 1.
RANDOM_INDEX = (0.0, 0.0, 0.5799, 0.8921, 1.1159, 1.2358, 1.3322, 1.3952, 1.4537, 1.4882, 1.5117, 1.5356,
                1.5571, 1.5714, 1.5831)
CR_LIMIT = 0.1
EPS = 1e-12


class AhpError(ValueError):
    """An AHP pairwise matrix that cannot be used (not reciprocal, not positive, or inconsistent)."""


# ------------------------------------------------------------------------------------------ normalisation
@dataclass
class Normalised:
    """The normalised matrix (every column: higher is better) and what was done to get it."""

    values: np.ndarray  # n x m, float64, no NaN
    constant: np.ndarray  # m bools: the column separates no cluster
    imputed: np.ndarray  # n x m bools: the cell was missing and took the column's worst value
    filled: np.ndarray  # n x m: the raw matrix with missing cells filled (what was normalised)


def fill_missing(matrix: np.ndarray, directions: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Missing cells (NaN) take the worst reported value of their column; all-missing columns become 0.

    Returns the filled matrix and the mask of filled cells.
    """
    x = np.asarray(matrix, dtype=np.float64)
    missing = ~np.isfinite(x)
    cost = np.array([d == "cost" for d in directions], dtype=bool)
    with np.errstate(all="ignore"):
        lo = np.where(missing, np.inf, x).min(axis=0, initial=np.inf)
        hi = np.where(missing, -np.inf, x).max(axis=0, initial=-np.inf)
    worst = np.where(cost, hi, lo)
    worst = np.where(np.isfinite(worst), worst, 0.0)
    return np.where(missing, worst[None, :], x), missing


def normalise(matrix: np.ndarray, directions: Sequence[str], methods: Sequence[str] | str = "minmax") -> Normalised:
    """Normalise each column by its method and direction (see the module docstring).

    minmax: (x - min) / (max - min), cost (max - x) / (max - min); max: x / max, cost 1 - x / max;
    sum: x / sum, cost (1/x) / sum(1/x); vector: x / ||x||, cost 1 - x / ||x||.
    `max`, `sum` and `vector` need values >= 0 (`sum` > 0 for a cost); a column that breaks this raises
    ValueError naming the column, so a pack never silently scores nonsense.
    """
    filled, imputed = fill_missing(matrix, directions)
    n, m = filled.shape
    if isinstance(methods, str):
        methods = [methods] * m
    if len(directions) != m or len(methods) != m:
        raise ValueError(f"{m} columns but {len(directions)} directions and {len(methods)} normalisations")
    out = np.zeros_like(filled)
    lo, hi = (filled.min(axis=0), filled.max(axis=0)) if n else (np.zeros(m), np.zeros(m))
    constant = (hi - lo) <= EPS * np.maximum(1.0, np.abs(hi)) if n else np.ones(m, dtype=bool)
    for method in set(methods):  # one vectorised pass per method, over all its columns at once
        cols = np.array([i for i, mth in enumerate(methods) if mth == method and not constant[i]], dtype=int)
        if method not in NORMALISATIONS:
            raise ValueError(f"unknown normalisation {method!r}; one of {', '.join(NORMALISATIONS)}")
        if cols.size == 0:
            continue
        x = filled[:, cols]
        cost = np.array([directions[i] == "cost" for i in cols], dtype=bool)
        if method == "minmax":
            span = hi[cols] - lo[cols]
            out[:, cols] = np.where(cost, hi[cols] - x, x - lo[cols]) / span
            continue
        bad = (x < 0).any(axis=0) | ((x <= 0).any(axis=0) & cost & (method == "sum"))
        if bad.any():
            raise ValueError(f"normalisation {method!r} needs values >= 0 (> 0 for a cost with 'sum'): "
                             f"column {int(cols[np.argmax(bad)])} has values that are not; use minmax")
        if method == "max":
            out[:, cols] = np.where(cost, 1 - x / hi[cols], x / hi[cols])
        elif method == "vector":
            norm = np.sqrt((x * x).sum(axis=0))
            out[:, cols] = np.where(cost, 1 - x / norm, x / norm)
        else:  # sum
            with np.errstate(divide="ignore"):
                inv = 1.0 / x
            out[:, cols] = np.where(cost, inv / np.where(cost, inv.sum(axis=0), 1.0), x / x.sum(axis=0))
    return Normalised(values=out, constant=constant, imputed=imputed, filled=filled)


def minmax(matrix: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Min-max normalised matrix (direction applied; constant columns 0): what objective weights read."""
    return normalise(matrix, directions, "minmax").values


# ------------------------------------------------------------------------------------------------ weights
@dataclass
class Ahp:
    """Weights from an AHP pairwise matrix with its consistency figures."""

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float


def ahp(pairwise: Sequence[Sequence[float]], names: Sequence[str] | None = None, source: str = "") -> Ahp:
    """Principal-eigenvector weights of a reciprocal pairwise matrix (Saaty), refused when CR >= 0.1.

    CI = (lambda_max - k) / (k - 1), CR = CI / RI(k) with RI of Tummala & Ling (1998); orders 1-2 are
    consistent by construction (CR 0). Raises AhpError naming `source` and the reason.
    """
    a = np.asarray(pairwise, dtype=np.float64)
    where = f"{source}: " if source else ""
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise AhpError(f"{where}the AHP matrix must be square, got shape {a.shape}")
    k = a.shape[0]
    if names is not None and len(names) != k:
        raise AhpError(f"{where}the AHP matrix has {k} rows for {len(names)} items")
    if not np.isfinite(a).all() or (a <= 0).any():
        raise AhpError(f"{where}every entry of the AHP matrix must be a positive number")
    recip = np.abs(a * a.T - 1.0) > 1e-6
    if recip.any():
        i, j = map(int, np.argwhere(recip)[0])
        label = (names[i], names[j]) if names else (i + 1, j + 1)
        raise AhpError(f"{where}the AHP matrix is not reciprocal: a[{label[0]}][{label[1]}] = {a[i, j]:g} "
                       f"but a[{label[1]}][{label[0]}] = {a[j, i]:g} (must be 1/{a[i, j]:g})")
    if k > len(RANDOM_INDEX):
        raise AhpError(f"{where}AHP matrices of order above {len(RANDOM_INDEX)} have no random index")
    values, vectors = np.linalg.eig(a)
    top = int(np.argmax(values.real))
    w = np.abs(vectors[:, top].real)
    w = w / w.sum()
    lam = float(values[top].real)
    ci = (lam - k) / (k - 1) if k > 2 else 0.0
    cr = ci / RANDOM_INDEX[k - 1] if k > 2 else 0.0
    if cr >= CR_LIMIT:
        raise AhpError(f"{where}the AHP matrix is inconsistent: consistency ratio CR = {cr:.3f} (CI {ci:.3f}, "
                       f"lambda_max {lam:.3f}, order {k}); CR must be below {CR_LIMIT}: revise the judgements")
    return Ahp(weights=w, lambda_max=lam, ci=ci, cr=cr)


def entropy_weights(nmatrix: np.ndarray) -> np.ndarray:
    """Entropy weights of a non-negative normalised matrix: w_j ~ 1 - E_j, E_j = -sum p ln p / ln n.

    p_ij = x_ij / sum_i x_ij, 0 ln 0 = 0. Columns summing to 0 get weight 0. All zero (n < 2, or no
    column with any spread): zeros, and the caller falls back (see combine).
    """
    x = np.asarray(nmatrix, dtype=np.float64)
    n, m = x.shape
    if n < 2:
        return np.zeros(m)
    total = x.sum(axis=0)
    live = total > EPS
    p = np.divide(x, total, out=np.zeros_like(x), where=live[None, :])
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    d = np.where(live, 1.0 - e, 0.0)
    d = np.clip(d, 0.0, None)
    s = d.sum()
    return d / s if s > EPS else np.zeros(m)


def critic_weights(nmatrix: np.ndarray) -> np.ndarray:
    """CRITIC weights (Diakoulaki 1995): w_j ~ s_j * sum_k (1 - r_jk), on the matrix min-max rescaled.

    s_j is the sample standard deviation (ddof 1), r the Pearson correlation. A constant column has
    s = 0 and weight 0 (its correlations, undefined, are taken as 0 so no NaN spreads).
    """
    x = np.asarray(nmatrix, dtype=np.float64)
    n, m = x.shape
    if n < 2:
        return np.zeros(m)
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    live = span > EPS
    z = np.divide(x - lo, span, out=np.zeros_like(x), where=live[None, :])
    s = z.std(axis=0, ddof=1)
    centred = z - z.mean(axis=0)
    norms = np.sqrt((centred * centred).sum(axis=0))
    unit = np.divide(centred, norms, out=np.zeros_like(centred), where=norms[None, :] > EPS)
    r = unit.T @ unit
    c = np.where(live, s * (1.0 - r).sum(axis=0), 0.0)
    c = np.clip(c, 0.0, None)
    total = c.sum()
    return c / total if total > EPS else np.zeros(m)


@dataclass
class Weights:
    """Every weight vector of a ranking (over the indicators, each summing to 1) and how they combine."""

    expert: np.ndarray
    entropy: np.ndarray
    critic: np.ndarray
    objective: np.ndarray
    combined: np.ndarray
    rule: str
    notes: list[str] = field(default_factory=list)


def combine(expert: np.ndarray, nmatrix_minmax: np.ndarray, constant: np.ndarray, expert_share: float,
            entropy_share: float) -> Weights:
    """The stated combination: objective = entropy_share * entropy + (1 - entropy_share) * CRITIC;
    combined = expert_share * expert + (1 - expert_share) * objective; constant columns get 0 and the
    rest is rescaled to sum 1. With no spread at all (one cluster, or every column constant) the
    objective weights are undefined and the expert weights stand alone (said in the notes).
    """
    notes: list[str] = []
    expert = np.asarray(expert, dtype=np.float64)
    ent = entropy_weights(nmatrix_minmax)
    cri = critic_weights(nmatrix_minmax)
    if ent.sum() <= EPS or cri.sum() <= EPS:
        objective = np.zeros_like(expert)
        combined = expert.copy()
        notes.append("objective_undefined")
    else:
        objective = entropy_share * ent + (1.0 - entropy_share) * cri
        combined = expert_share * expert + (1.0 - expert_share) * objective
    if constant.any():
        combined = np.where(constant, 0.0, combined)
        notes.append("constant_columns_zero")
    total = combined.sum()
    if total > EPS:
        combined = combined / total
    rule = (f"combined = {expert_share:g} x expert (AHP) + {1 - expert_share:g} x objective; "
            f"objective = {entropy_share:g} x entropy + {1 - entropy_share:g} x CRITIC")
    return Weights(expert=expert, entropy=ent, critic=cri, objective=objective, combined=combined,
                   rule=rule, notes=notes)


# ------------------------------------------------------------------------------------------------- scores
@dataclass
class Scored:
    """A decision matrix scored: what was normalised, the weights used, TOPSIS and weighted sum."""

    normalised: Normalised
    weights: Weights
    topsis: np.ndarray
    weighted_sum: np.ndarray


def score(matrix: np.ndarray, directions: Sequence[str], methods: Sequence[str] | str, expert: np.ndarray,
          expert_share: float = 1.0, entropy_share: float = 0.5) -> Scored:
    """Normalise, weigh (the stated combination) and score a raw matrix: the one path every ranking takes.

    One row: TOPSIS and weighted sum are 1 (nothing to compare with). No rows: empty arrays.
    """
    x = np.asarray(matrix, dtype=np.float64)
    norm = normalise(x, directions, methods)
    weights = combine(expert, minmax(x, directions), norm.constant, expert_share, entropy_share)
    n = x.shape[0]
    if n <= 1:
        return Scored(norm, weights, np.ones(n), np.ones(n))
    return Scored(norm, weights, topsis(norm.values, weights.combined), weighted_sum(norm.values, weights.combined))


def topsis(nmatrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """TOPSIS closeness of each row of a normalised matrix (higher is better), in [0, 1]."""
    return topsis_batch(nmatrix, np.asarray(weights, dtype=np.float64)[None, :])[0]


def topsis_batch(nmatrix: np.ndarray, weight_draws: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """TOPSIS closeness for many weight vectors at once: (k draws x m) -> (k draws x n clusters).

    With weights w > 0 the weighted ideal is w_j * max_i x_ij, so (v_ij - v+_j)^2 = w_j^2 (x_ij - max_j)^2
    and d+ = sqrt(W^2 @ ((X - max)^2)^T): one matrix product for every draw, no loop. `rows` restricts
    the output to some clusters (the ideal still comes from all of them).
    """
    x = np.asarray(nmatrix, dtype=np.float64)
    if x.shape[0] == 0:
        return np.zeros((np.shape(weight_draws)[0], 0))
    return _closeness(*squared_gaps(x, rows), weight_draws)


def squared_gaps(x: np.ndarray, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X - column max)^2 and (X - column min)^2 transposed (m x n): the weight-free part of TOPSIS."""
    xs = x if rows is None else x[rows]
    return np.square(xs - x.max(axis=0)).T.copy(), np.square(xs - x.min(axis=0)).T.copy()


def _closeness(dp_t: np.ndarray, dm_t: np.ndarray, weight_draws: np.ndarray) -> np.ndarray:
    w2 = np.square(np.asarray(weight_draws, dtype=np.float64))
    d_plus = np.sqrt(w2 @ dp_t)
    d_minus = np.sqrt(w2 @ dm_t)
    total = d_plus + d_minus
    return np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > EPS)


def weighted_sum(nmatrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Simple additive weighting of the normalised matrix (pymcdm WSM on the same matrix)."""
    return np.asarray(nmatrix, dtype=np.float64) @ np.asarray(weights, dtype=np.float64)


def ranks(scores: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = best, ties share the best rank), comparing at 1e-12 so float noise is no tie-break."""
    s = np.round(np.asarray(scores, dtype=np.float64), 12)
    order = np.sort(s)[::-1]
    return np.searchsorted(-order, -s, side="left") + 1


def dimension_scores(nmatrix: np.ndarray, weights: np.ndarray, groups: Sequence[int], k: int) -> np.ndarray:
    """Per cluster, each dimension's weighted mean of its normalised indicators (n x k, in [0, 1] for minmax).

    A dimension whose indicators all have weight 0 scores 0 (said in the notes by the caller).
    """
    g = np.zeros((len(groups), k))
    g[np.arange(len(groups)), np.asarray(groups, dtype=int)] = 1.0
    wg = g * np.asarray(weights, dtype=np.float64)[:, None]  # m x k
    denom = wg.sum(axis=0)
    num = np.asarray(nmatrix, dtype=np.float64) @ wg
    return np.divide(num, denom, out=np.zeros_like(num), where=denom > EPS)


# ---------------------------------------------------------------------------------------------- stability
@dataclass
class Stability:
    """Rank intervals and top-N probabilities over weight draws."""

    draws: int
    concentration: float
    seed: int
    top_n: int
    rank_p05: np.ndarray
    rank_p95: np.ndarray
    rank_median: np.ndarray
    p_top_n: np.ndarray


def weight_draws(weights: np.ndarray, draws: int, concentration: float, seed: int) -> np.ndarray:
    """`draws` weight vectors around `weights`: Dirichlet(concentration * w) on the indicators with w > 0.

    Mean of each weight = the chosen weight; sd = sqrt(w (1 - w) / (concentration + 1)). Zero weights
    (constant columns) stay 0. Seeded, so a ranking is reproducible.
    """
    w = np.asarray(weights, dtype=np.float64)
    live = w > EPS
    out = np.zeros((draws, w.size))
    if live.sum() == 0:
        return out
    if live.sum() == 1:
        out[:, live] = 1.0
        return out
    rng = np.random.default_rng(seed)
    out[:, live] = rng.dirichlet(concentration * w[live], size=draws)
    return out


def rank_counts(nmatrix: np.ndarray, draws: np.ndarray, chunk: int = 500) -> np.ndarray:
    """How often each cluster takes each rank over the draws: (n clusters x n ranks) counts, rank 1 first.

    Draws are scored in chunks (one batched TOPSIS each, small enough to stay in cache), each chunk's
    ranks found by one argsort per row and added to the counts with one bincount; ties in a draw are
    broken by position (they have probability ~0 with continuous weights).
    """
    from threadpoolctl import threadpool_limits

    k = draws.shape[0]
    n = nmatrix.shape[0]
    counts = np.zeros(n * n, dtype=np.int64)
    cluster_base = np.arange(n, dtype=np.int64) * n
    gaps = squared_gaps(np.asarray(nmatrix, dtype=np.float64))
    # The products are small (chunk x m x n): BLAS threads cost more in hand-over than they save.
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, k, chunk):  # chunks of draws, each a whole-matrix computation
            c = _closeness(*gaps, draws[start:start + chunk])
            order = np.argsort(-c, axis=1)  # order[d, r] = cluster at rank r + 1 in draw d
            counts += np.bincount((cluster_base[order] + np.arange(n)).ravel(), minlength=n * n)
    return counts.reshape(n, n)


def stability(nmatrix: np.ndarray, weights: np.ndarray, top_n: int, draws: int = 10_000,
              concentration: float = 200.0, seed: int = 2023) -> Stability:
    """Rank interval (5th-95th percentile of the observed ranks) and P(rank <= top_n) under weight draws."""
    n = nmatrix.shape[0]
    if n == 0:
        empty = np.zeros(0)
        return Stability(draws, concentration, seed, top_n, empty, empty, empty, empty)
    counts = rank_counts(nmatrix, weight_draws(weights, draws, concentration, seed))
    cdf = np.cumsum(counts, axis=1) / draws

    def quantile(q: float) -> np.ndarray:
        # the smallest rank whose cumulative share reaches q (numpy's "inverted_cdf" percentile)
        return np.argmax(cdf >= q - 1e-12, axis=1) + 1

    top = min(max(top_n, 0), n)
    return Stability(
        draws=draws, concentration=concentration, seed=seed, top_n=top_n,
        rank_p05=quantile(0.05), rank_p95=quantile(0.95), rank_median=quantile(0.5),
        p_top_n=cdf[:, top - 1] if top > 0 else np.zeros(n),
    )


@dataclass
class WeightChange:
    """The smallest change of one weight (others rescaled to keep the sum 1) that swaps two clusters."""

    indicator: int
    weight_from: float
    weight_to: float  # the tie point; just beyond it the order is swapped
    last_in: int
    first_out: int


def rescaled(weights: np.ndarray, j: int, t: np.ndarray) -> np.ndarray:
    """Weight vectors with weight j set to each t and the others scaled by (1 - t) / (1 - w_j)."""
    w = np.asarray(weights, dtype=np.float64)
    rest = 1.0 - w[j]
    scale = (1.0 - t) / rest if rest > EPS else np.zeros_like(t)
    out = w[None, :] * scale[:, None]
    out[:, j] = t
    return out


def swap_change(nmatrix: np.ndarray, weights: np.ndarray, last_in: int, first_out: int,
                grid: int = 2001, refine: int = 40) -> WeightChange | None:
    """Which single weight change makes `first_out` score above `last_in` with the least change of that weight.

    For every indicator j a grid of values t in [0, 1] is scored at once (batched TOPSIS on the two
    rows), the crossing nearest w_j is found and refined by bisection. None when no single weight can
    swap them (e.g. one dominates the other on every indicator).
    """
    w = np.asarray(weights, dtype=np.float64)
    m = w.size
    ts = np.linspace(0.0, 1.0, grid)
    rows = np.array([last_in, first_out])
    best: WeightChange | None = None
    for j in range(m):  # one batched evaluation per indicator (m is the number of indicators, ~25)
        if w[j] >= 1.0 - EPS:
            continue
        c = topsis_batch(nmatrix, rescaled(w, j, ts), rows)
        swapped = c[:, 1] > c[:, 0] + 1e-12
        if not swapped.any():
            continue
        idx = np.flatnonzero(swapped)
        near = idx[np.argmin(np.abs(ts[idx] - w[j]))]
        # bisection between the swapping grid point and the grid point next to it towards w_j
        inside, outside = ts[near], w[j]
        for _ in range(refine):
            mid = 0.5 * (inside + outside)
            cm = topsis_batch(nmatrix, rescaled(w, j, np.array([mid])), rows)[0]
            if cm[1] > cm[0] + 1e-12:
                inside = mid
            else:
                outside = mid
        change = WeightChange(indicator=j, weight_from=float(w[j]), weight_to=float(inside),
                              last_in=last_in, first_out=first_out)
        if best is None or abs(change.weight_to - change.weight_from) < abs(best.weight_to - best.weight_from):
            best = change
    return best
