"""Relatedness of industries and counties: the product-space method on a county x industry matrix.

From a matrix X (counties x industry classes, e.g. output) as in Hidalgo et al. (2007) and Hidalgo &
Hausmann (2009), all as whole-matrix NumPy operations:
- location quotient (revealed comparative advantage) RCA_ci = (X_ci / X_c.) / (X_.i / X..);
- specialisation M_ci = 1 when RCA_ci >= 1; diversity k_c = sum_i M_ci, ubiquity k_i = sum_c M_ci;
- proximity phi_ij = min(P(M_i | M_j), P(M_j | M_i)) = U_ij / max(k_i, k_j), U = M'M (phi_ii = 1, as
  in the `ecomplexity` package, so an industry counts towards its own density);
- density w_ci = sum_j M_cj phi_ij / sum_j phi_ij: how close county c is to industry i;
- complexity of counties (ECI): the eigenvector of the second largest eigenvalue of
  M~ = D_c^-1 M D_i^-1 M', standardised, signed to correlate positively with diversity. M~ is similar
  to the symmetric S = D_c^-1/2 M D_i^-1 M' D_c^-1/2, so a symmetric eigensolver finds it.
Counties with no specialisation and industries no county specialises in get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Relatedness:
    """Every measure over one matrix; rows are counties, columns industries, in the input's order."""

    rca: np.ndarray  # counties x industries
    m: np.ndarray  # counties x industries, 0/1
    diversity: np.ndarray  # counties
    ubiquity: np.ndarray  # industries
    proximity: np.ndarray  # industries x industries
    density: np.ndarray  # counties x industries
    eci: np.ndarray  # counties


def rca(x: np.ndarray) -> np.ndarray:
    """Location quotients of a counties x industries matrix (NaN where a county or industry is all 0)."""
    x = np.asarray(x, dtype=np.float64)
    total = x.sum()
    rows = x.sum(axis=1, keepdims=True)
    cols = x.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (x / rows) / (cols / total)


def proximity(m: np.ndarray) -> np.ndarray:
    """phi_ij = U_ij / max(k_i, k_j) with U = M'M: the smaller of the two conditional probabilities."""
    m = np.asarray(m, dtype=np.float32)  # counts below 2^24 are exact in float32; halves the memory
    u = (m.T @ m).astype(np.float64)
    k = np.diag(u).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = u / np.maximum.outer(k, k)
    phi[~np.isfinite(phi)] = 0.0  # an industry no county specialises in is close to none (diagonal 1 otherwise)
    return phi


def density(m: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """w_ci = sum_j M_cj phi_ij / sum_j phi_ij (NaN for an industry close to none)."""
    num = np.asarray(m, dtype=np.float64) @ phi  # phi is symmetric: (M phi)_ci = sum_j M_cj phi_ji
    den = phi.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def eci(m: np.ndarray) -> np.ndarray:
    """Economic complexity index of the rows of M (standardised; NaN for rows with no specialisation)."""
    from scipy.linalg import eigh

    m = np.asarray(m, dtype=np.float64)
    kc, ki = m.sum(axis=1), m.sum(axis=0)
    rows, cols = kc > 0, ki > 0
    out = np.full(m.shape[0], np.nan)
    if rows.sum() < 2:
        return out
    a = m[np.ix_(rows, cols)]
    kc, ki = kc[rows], ki[cols]
    b = a / np.sqrt(kc)[:, None] / np.sqrt(ki)[None, :]  # S = B B'
    # S and B'B share their non-zero eigenvalues (u = B w): solve the smaller of the two.
    small = b @ b.T if b.shape[0] <= b.shape[1] else b.T @ b
    n = small.shape[0]
    _, vectors = eigh(small, subset_by_index=[n - 2, n - 1])
    u = vectors[:, 0] if small.shape[0] == b.shape[0] else b @ vectors[:, 0]
    v = u / np.sqrt(kc)  # back from S to M~: v = D_c^-1/2 u
    v = (v - v.mean()) / v.std()
    if np.corrcoef(v, kc)[0, 1] < 0:
        v = -v
    out[rows] = v
    return out


def relatedness(x: np.ndarray, threshold: float = 1.0) -> Relatedness:
    """Every measure from a counties x industries matrix (M_ci = RCA_ci >= threshold)."""
    r = rca(x)
    m = np.nan_to_num(r, nan=0.0) >= threshold
    phi = proximity(m)
    return Relatedness(rca=r, m=m.astype(np.int8), diversity=m.sum(axis=1), ubiquity=m.sum(axis=0), proximity=phi,
                       density=density(m, phi), eci=eci(m))


def growth_options(rel: Relatedness, county: int, top: int = 10) -> np.ndarray:
    """Indices of the industries county `county` is not specialised in, closest (highest density) first."""
    d = np.where(rel.m[county] == 1, -np.inf, np.nan_to_num(rel.density[county], nan=-np.inf))
    order = np.argsort(-d, kind="stable")
    return order[np.isfinite(d[order])][:top]
